"""Ledger tables and the queries that load a batch's ``Book`` and write its ``Outcome``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.ledger.model import (
    ID_PATTERN,
    Account,
    AccountFlag,
    Asset,
    AssetKind,
    Book,
    Outcome,
    Pending,
    PendingState,
    Transfer,
    TransferFlag,
)

assets = Table(
    "ledger_assets",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("exponent", Integer, nullable=False),
    Column("issuer_id", String(64), ForeignKey("registry_organisations.id"), nullable=True),
)

accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ledger", String(16), ForeignKey("ledger_assets.code"), nullable=False),
    Column("code", Integer, nullable=False),
    Column("owner_id", String(64), ForeignKey("registry_organisations.id"), nullable=True),
    Column("flags", Integer, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0",
        name="balances_not_negative",
    ),
)

transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", String(64), primary_key=True),
    # No foreign keys to ledger_accounts: the engine checks both accounts in the same transaction (migration 0004).
    Column("debit_account_id", String(64), nullable=False),
    Column("credit_account_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("requested_amount", BigInteger, nullable=False),
    Column("ledger", String(16), nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("pending_id", String(64), nullable=True),
    Column("timeout", Integer, nullable=False),
    Column("reference", String(140), nullable=True),
    Column("user_data", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False, unique=True),
)

# An account's transfers in time order come from postings (one per side of a transfer), kept in segments: spans
# of time holding up to SEGMENT_POSTINGS postings. A batch's postings go into the latest segment, a few hundred
# pages at the end of the index, instead of into a page of every account's range of one index over all time, which
# made every batch write some 20,000 index pages (migration 0005, docs/benchmarks.md). Reading walks the segments
# in time order and, in each, the account's postings by key.
SEGMENT_POSTINGS = 65_536  # about 2.5 MB of postings: every page of the latest segment stays in SQLite's cache

segments = Table(
    "ledger_segments",
    metadata,
    Column("segment", BigInteger, primary_key=True, autoincrement=False),  # the timestamp of its first transfer
    Column("last_timestamp", BigInteger, nullable=False),  # of its last
    Column("postings", BigInteger, nullable=False),  # how many it holds
)

postings = Table(
    "ledger_postings",
    metadata,
    Column("segment", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", String(64), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,  # the primary key is the table: one B-tree, not a table and an index
)

pendings = Table(
    "ledger_pending",
    metadata,
    Column("transfer_id", String(64), ForeignKey("ledger_transfers.id"), primary_key=True),
    Column("state", String(8), nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("posted_amount", BigInteger, nullable=False),
    Index("ix_ledger_pending_state_expires_at", "state", "expires_at"),
)

failed = Table(
    "ledger_failed_ids",
    metadata,
    Column("kind", String(8), primary_key=True),  # "account" or "transfer": separate id spaces
    Column("id", String(64), primary_key=True),
    Column("result", String(64), nullable=False),
)

history = Table(
    "ledger_account_history",
    metadata,
    Column("account_id", String(64), ForeignKey("ledger_accounts.id"), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
)

clock = Table(
    "ledger_clock",
    metadata,
    Column("id", Integer, primary_key=True),  # one row: the last timestamp the engine handed out
    Column("last_timestamp", BigInteger, nullable=False),
)

ACCOUNT_BITS = {flag: 1 << i for i, flag in enumerate(AccountFlag)}
TRANSFER_BITS = {flag: 1 << i for i, flag in enumerate(TransferFlag)}
E = TypeVar("E", AccountFlag, TransferFlag)


def _flag_sets(table: dict[E, int]) -> list[frozenset[E]]:
    """Every combination of flags, indexed by its bits: a stored row's flags become a list look-up."""
    return [frozenset(f for f, b in table.items() if bits & b) for bits in range(1 << len(table))]


ACCOUNT_FLAG_SETS = _flag_sets(ACCOUNT_BITS)
TRANSFER_FLAG_SETS = _flag_sets(TRANSFER_BITS)
TRANSFER_FLAG_CODES = {flags: bits for bits, flags in enumerate(TRANSFER_FLAG_SETS)}


def _bits(flags: Iterable[Any], table: dict[Any, int]) -> int:
    return sum(table[f] for f in flags)


def _storable(values: Iterable[str | None]) -> list[str]:
    # Ids the engine could never have stored are left out: PostgreSQL cannot even compare text holding NUL.
    return [v for v in set(values) if v and ID_PATTERN.match(v)]


class _Driver:
    """A batch's bulk reads and writes, straight on the database driver inside the caller's transaction.

    A batch reads and writes thousands of rows; through SQLAlchemy's per-row parameter handling that cost several
    times what the database itself needs (docs/benchmarks.md). Each statement here is written for the two drivers'
    own parameter styles: SQLite gets one JSON array of ids (``json_each``), PostgreSQL one array (``ANY``/
    ``unnest``) and ``COPY``.
    """

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.mark = "?" if self.sqlite else "%s"

    def where_id_in(self, column: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(?))" if self.sqlite else f"{column} = ANY(%s)"

    def select(
        self, columns: str, table: Table, id_column: str, ids: Iterable[str | None], tail: str = "", *more: Any
    ) -> list[Any]:
        """Rows of ``table`` whose ``id_column`` is one of ``ids`` (``tail`` adds to the statement, with ``more``
        as its parameters)."""
        found = _storable(ids)
        if not found:
            return []
        sql = f"SELECT {columns} FROM {table.name} WHERE {self.where_id_in(id_column)}{tail}"
        self.cursor.execute(sql, (json.dumps(found) if self.sqlite else found, *more))
        return list(self.cursor.fetchall())


# -- reads ----------------------------------------------------------------------------------------------------


def all_assets(conn: Connection) -> dict[str, Asset]:
    return {
        r.code: Asset(r.code, AssetKind(r.kind), r.currency, r.exponent, r.issuer_id)
        for r in conn.execute(select(assets).order_by(assets.c.code))
    }


def insert_asset(conn: Connection, asset: Asset) -> None:
    conn.execute(
        insert(assets).values(
            code=asset.code,
            kind=asset.kind.value,
            currency=asset.currency,
            exponent=asset.exponent,
            issuer_id=asset.issuer_id,
        )
    )


def _account(r: Any) -> Account:
    return Account(
        id=r.id,
        ledger=r.ledger,
        code=r.code,
        flags=ACCOUNT_FLAG_SETS[r.flags],
        owner_id=r.owner_id,
        debits_pending=r.debits_pending,
        debits_posted=r.debits_posted,
        credits_pending=r.credits_pending,
        credits_posted=r.credits_posted,
        timestamp=r.timestamp,
    )


def _transfer(r: Any) -> Transfer:
    return Transfer(
        id=r.id,
        debit_account_id=r.debit_account_id,
        credit_account_id=r.credit_account_id,
        amount=r.amount,
        ledger=r.ledger,
        code=r.code,
        flags=TRANSFER_FLAG_SETS[r.flags],
        pending_id=r.pending_id,
        timeout=r.timeout,
        reference=r.reference,
        user_data=r.user_data,
        timestamp=r.timestamp,
        requested_amount=r.requested_amount,
    )


def lock_clock(conn: Connection) -> int:
    """The last timestamp, locked until commit: batches take their timestamps, and change balances, one after
    another (the lock is what keeps two processes from losing an update on PostgreSQL)."""
    row = conn.execute(select(clock.c.last_timestamp).where(clock.c.id == 1).with_for_update()).first()
    if row is None:
        conn.execute(insert(clock).values(id=1, last_timestamp=0))
        return 0
    return int(row.last_timestamp)


# In the order of Account's and Transfer's fields.
ACCOUNT_COLUMNS = (
    "id, ledger, code, flags, owner_id, debits_pending, debits_posted, credits_pending, credits_posted, timestamp"
)
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id, timeout, reference, user_data,"
    " timestamp, requested_amount"
)


def load_accounts(conn: Connection, ids: Iterable[str]) -> dict[str, Account]:
    """Accounts by id. No row locks: every batch that changes accounts holds the clock row first (``lock_clock``),
    so ledger writers already run one after another, on PostgreSQL as on SQLite; locking each of a batch's
    thousands of accounts as well would cost a row write each."""
    sets = ACCOUNT_FLAG_SETS
    return {
        i: Account(i, ledger, code, sets[flags], owner, dp, dpo, cp, cpo, ts)
        for i, ledger, code, flags, owner, dp, dpo, cp, cpo, ts in _Driver(conn).select(
            ACCOUNT_COLUMNS, accounts, "id", ids
        )
    }


def load_transfers(conn: Connection, ids: Iterable[str | None]) -> dict[str, Transfer]:
    sets = TRANSFER_FLAG_SETS
    return {
        i: Transfer(i, dr, cr, amount, ledger, code, sets[flags], pending_id, timeout, ref, user_data, ts, requested)
        for i, dr, cr, amount, ledger, code, flags, pending_id, timeout, ref, user_data, ts, requested in _Driver(
            conn
        ).select(TRANSFER_COLUMNS, transfers, "id", ids)
    }


def load_pendings(conn: Connection, ids: Iterable[str | None]) -> dict[str, Pending]:
    rows = _Driver(conn).select("transfer_id, state, expires_at, posted_amount", pendings, "transfer_id", ids)
    return {i: Pending(i, PendingState(state), expires, posted) for i, state, expires, posted in rows}


def expired_pending_ids(conn: Connection, now: int) -> list[str]:
    rows = conn.execute(
        select(pendings.c.transfer_id).where(
            pendings.c.state == PendingState.PENDING.value, pendings.c.expires_at <= now
        )
    )
    return [r.transfer_id for r in rows]


def load_failed(conn: Connection, kind: str, ids: Iterable[str]) -> dict[str, str]:
    driver = _Driver(conn)
    rows = driver.select("id, result", failed, "id", ids, f" AND kind = {driver.mark}", kind)
    return dict(rows)


def get_account(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return _account(row) if row else None


def get_transfer(conn: Connection, transfer_id: str) -> Transfer | None:
    row = conn.execute(select(transfers).where(transfers.c.id == transfer_id)).first()
    return _transfer(row) if row else None


# An account's transfers after a timestamp, in time order. Batches follow one another in time, so (segment,
# timestamp) order is time order: the database walks the segments in key order and, in each, the account's postings
# in the primary key, and stops at the limit.
ACCOUNT_TRANSFERS_SQL = {
    # CROSS JOIN fixes SQLite's join order (segments outside): left to itself, it scans all postings instead.
    "sqlite": (
        f"SELECT t.* FROM {segments.name} s CROSS JOIN {postings.name} p CROSS JOIN {transfers.name} t"
        " WHERE s.last_timestamp > :after AND p.segment = s.segment AND p.account_id = :account"
        " AND p.timestamp > :after AND t.timestamp = p.timestamp ORDER BY s.segment, p.timestamp LIMIT :limit"
    ),
    # PostgreSQL would rather join all of the account's postings and sort them; a LATERAL subquery per segment,
    # already in order and limited, lets it stop early.
    "postgresql": (
        f"SELECT t.* FROM {segments.name} s CROSS JOIN LATERAL (SELECT p.timestamp FROM {postings.name} p"
        " WHERE p.segment = s.segment AND p.account_id = :account AND p.timestamp > :after"
        " ORDER BY p.timestamp LIMIT :limit) p"
        f" JOIN {transfers.name} t ON t.timestamp = p.timestamp"
        " WHERE s.last_timestamp > :after ORDER BY s.segment, p.timestamp LIMIT :limit"
    ),
}


def account_transfers(conn: Connection, account_id: str, after: int | None, limit: int) -> list[Transfer]:
    """The account's transfers in time order (keyset paging on the engine timestamp)."""
    params = {"account": account_id, "after": -1 if after is None else after, "limit": limit}
    return [_transfer(r) for r in conn.execute(text(ACCOUNT_TRANSFERS_SQL[conn.dialect.name]), params)]


def balance_at(conn: Connection, account_id: str, timestamp: int) -> tuple[int, int, int, int, int] | None:
    row = conn.execute(
        select(history)
        .where(history.c.account_id == account_id, history.c.timestamp <= timestamp)
        .order_by(history.c.timestamp.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.timestamp, row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted


def totals(conn: Connection) -> dict[str, tuple[int, int, int, int]]:
    """Per asset: debits pending, debits posted, credits pending, credits posted (the books must balance)."""
    rows = conn.execute(
        select(
            accounts.c.ledger,
            func.sum(accounts.c.debits_pending),
            func.sum(accounts.c.debits_posted),
            func.sum(accounts.c.credits_pending),
            func.sum(accounts.c.credits_posted),
        ).group_by(accounts.c.ledger)
    )
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


# -- writes ---------------------------------------------------------------------------------------------------


def write_outcome(conn: Connection, outcome: Outcome, kind: str, last_timestamp: int) -> None:
    """Write everything a batch changed; the caller's transaction makes it all-or-nothing."""
    if outcome.new_accounts:
        conn.execute(insert(accounts), [_account_row(a) for a in outcome.new_accounts])
    driver = _Driver(conn) if outcome.transfers or outcome.accounts else None
    if driver is not None and outcome.transfers:
        _insert_transfers(driver, outcome.transfers)
    if driver is not None and outcome.accounts:
        _update_balances(driver, list(outcome.accounts.values()))
    if outcome.pendings:
        created = {t.id for t in outcome.transfers if TransferFlag.PENDING in t.flags}
        new = [p for i, p in outcome.pendings.items() if i in created]
        changed = [p for i, p in outcome.pendings.items() if i not in created]
        if new:
            conn.execute(insert(pendings), [_pending_row(p) for p in new])
        if changed:
            conn.execute(
                update(pendings)
                .where(pendings.c.transfer_id == bindparam("b_id"))
                .values(state=bindparam("b_state"), posted_amount=bindparam("b_posted")),
                [{"b_id": p.transfer_id, "b_state": p.state.value, "b_posted": p.posted_amount} for p in changed],
            )
    if outcome.failed:
        conn.execute(insert(failed), [{"kind": kind, "id": i, "result": r} for i, r in outcome.failed.items()])
    if outcome.history:
        conn.execute(
            insert(history),
            [
                {
                    "account_id": a.id,
                    "timestamp": a.timestamp,
                    "debits_pending": a.debits_pending,
                    "debits_posted": a.debits_posted,
                    "credits_pending": a.credits_pending,
                    "credits_posted": a.credits_posted,
                }
                for a in outcome.history
            ],
        )
    conn.execute(update(clock).where(clock.c.id == 1).values(last_timestamp=last_timestamp))


def _insert_transfers(driver: _Driver, new: list[Transfer]) -> None:
    _insert_postings(driver, new)
    codes = TRANSFER_FLAG_CODES
    rows = [
        (t.id, t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.code, codes[t.flags], t.pending_id,
         t.timeout, t.reference, t.user_data, t.timestamp, t.requested_amount)
        for t in new
    ]  # fmt: skip
    if driver.sqlite:
        marks = ", ".join("?" * 13)
        driver.cursor.executemany(f"INSERT INTO {transfers.name} ({TRANSFER_COLUMNS}) VALUES ({marks})", rows)
        return
    with driver.cursor.copy(f"COPY {transfers.name} ({TRANSFER_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_postings(driver: _Driver, new: list[Transfer]) -> None:
    """A posting per side of each transfer (``new`` is in time order, after every stored transfer), in the latest
    segment while it has room, else in a new one that starts with this batch. (Many small batches thus share a
    segment, and a page of an account's transfers needs one look-up per 65,536 postings, not one per batch.)"""
    m = driver.mark
    driver.cursor.execute(f"SELECT segment, postings FROM {segments.name} ORDER BY segment DESC LIMIT 1")
    latest = driver.cursor.fetchone()
    count = 2 * len(new)
    if latest is not None and latest[1] + count <= SEGMENT_POSTINGS:
        segment = latest[0]
        driver.cursor.execute(
            f"UPDATE {segments.name} SET last_timestamp = {m}, postings = postings + {m} WHERE segment = {m}",
            (new[-1].timestamp, count, segment),
        )
    else:
        segment = new[0].timestamp
        driver.cursor.execute(
            f"INSERT INTO {segments.name} (segment, last_timestamp, postings) VALUES ({m}, {m}, {m})",
            (segment, new[-1].timestamp, count),
        )
    rows = [(segment, t.debit_account_id, t.timestamp) for t in new]
    rows += [(segment, t.credit_account_id, t.timestamp) for t in new]
    columns = f"{postings.name} (segment, account_id, timestamp)"
    if driver.sqlite:
        driver.cursor.executemany(f"INSERT INTO {columns} VALUES (?, ?, ?)", rows)
        return
    with driver.cursor.copy(f"COPY {columns} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _update_balances(driver: _Driver, changed: list[Account]) -> None:
    if driver.sqlite:
        driver.cursor.executemany(
            f"UPDATE {accounts.name} SET debits_pending = ?, debits_posted = ?, credits_pending = ?,"
            " credits_posted = ? WHERE id = ?",
            [(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.id) for a in changed],
        )
        return
    # One statement for the whole batch: PostgreSQL runs executemany as one statement per row.
    driver.cursor.execute(
        f"UPDATE {accounts.name} AS a SET debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp,"
        " credits_posted = v.cpo FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
        " AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id",
        (
            [a.id for a in changed],
            [a.debits_pending for a in changed],
            [a.debits_posted for a in changed],
            [a.credits_pending for a in changed],
            [a.credits_posted for a in changed],
        ),
    )


def _account_row(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "ledger": a.ledger,
        "code": a.code,
        "owner_id": a.owner_id,
        "flags": _bits(a.flags, ACCOUNT_BITS),
        "debits_pending": a.debits_pending,
        "debits_posted": a.debits_posted,
        "credits_pending": a.credits_pending,
        "credits_posted": a.credits_posted,
        "timestamp": a.timestamp,
    }


def _pending_row(p: Pending) -> dict[str, Any]:
    return {
        "transfer_id": p.transfer_id,
        "state": p.state.value,
        "expires_at": p.expires_at,
        "posted_amount": p.posted_amount,
    }


def load_book_for_transfers(
    conn: Connection, events: Sequence[Transfer], now: int, known: dict[str, Account] | None = None
) -> Book:
    """Everything ``create_transfers`` (and expiry before it) may read (the caller holds the clock row).
    ``known``: accounts as they are now (``account_cache``); only the others are read."""
    ids = [e.id for e in events]
    pending_ids = [e.pending_id for e in events if e.pending_id]
    expired = expired_pending_ids(conn, now)
    book_transfers = load_transfers(conn, [*ids, *pending_ids, *expired])
    account_ids = {e.debit_account_id for e in events} | {e.credit_account_id for e in events}
    account_ids |= {t.debit_account_id for t in book_transfers.values()}
    account_ids |= {t.credit_account_id for t in book_transfers.values()}
    return Book(
        assets=all_assets(conn),
        accounts=_with_known(conn, account_ids, known),
        transfers=book_transfers,
        pendings=load_pendings(conn, [*pending_ids, *expired]),
        failed=load_failed(conn, "transfer", ids),
    )


def _with_known(conn: Connection, ids: set[str], known: dict[str, Account] | None) -> dict[str, Account]:
    if not known:
        return load_accounts(conn, ids)
    missing = ids.difference(known)
    if missing:
        known.update(load_accounts(conn, missing))
    return known
