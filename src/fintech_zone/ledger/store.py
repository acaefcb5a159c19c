"""Ledger tables and their look-up queries (a batch's reads and writes are in ``batch_store``)."""

from __future__ import annotations

from collections.abc import Iterator
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
)

from fintech_zone.db import metadata
from fintech_zone.db.driver import Driver
from fintech_zone.ledger.model import (
    Account,
    AccountFlag,
    Asset,
    AssetKind,
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

# Keyed by the engine's timestamp, which on SQLite is then the table's own rowid (INTEGER PRIMARY KEY): the rows
# are stored in time order with no index for it, and a batch's span is one range of the table (migration 0012). The
# caller's id is a unique key of its own.
transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", String(64), nullable=False, unique=True),
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
    Column("timestamp", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
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


# -- reads ----------------------------------------------------------------------------------------------------


# Every batch runs all_assets, lock_clock and expired_pending_ids first, and a group of payments runs them inside
# the writers' turn, where a Core statement's own work cost more than SQLite's: on the driver's cursor instead
# (db/driver.py; docs/benchmarks.md, payment rails).
_GET_ACCOUNT = select(accounts).where(accounts.c.id == bindparam("id"))


def all_assets(conn: Connection) -> dict[str, Asset]:
    with Driver(conn) as driver:
        rows = driver.select_typed(assets, "1 = 1", (), " ORDER BY code")
    return {r.code: Asset(r.code, AssetKind(r.kind), r.currency, r.exponent, r.issuer_id) for r in rows}


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
    with Driver(conn) as driver:
        lock = "" if driver.sqlite else " FOR UPDATE"  # SQLite's writer already holds the whole database
        driver.cursor.execute(f"SELECT last_timestamp FROM {clock.name} WHERE id = 1{lock}")
        row = driver.cursor.fetchone()
    if row is None:
        conn.execute(insert(clock).values(id=1, last_timestamp=0))
        return 0
    return int(row[0])


# In the order of Account's and Transfer's fields.
def expired_pending_ids(conn: Connection, now: int) -> list[str]:
    with Driver(conn) as driver:
        m = driver.mark
        sql = f"SELECT transfer_id FROM {pendings.name} WHERE state = {m} AND expires_at <= {m}"
        driver.cursor.execute(sql, (PendingState.PENDING.value, now))
        return [r[0] for r in driver.cursor.fetchall()]


def get_account(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(_GET_ACCOUNT, {"id": account_id}).first()
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


# -- the journal auditor reads every row ----------------------------------------------------------------------


def all_accounts(conn: Connection) -> Iterator[Account]:
    return map(_account, conn.execute(select(accounts)))


def all_transfers(conn: Connection) -> Iterator[Transfer]:
    return map(_transfer, conn.execute(select(transfers)))


def all_pendings(conn: Connection) -> list[tuple[str, str, int | None, int]]:
    c = pendings.c
    return [tuple(r) for r in conn.execute(select(c.transfer_id, c.state, c.expires_at, c.posted_amount))]


def all_failed(conn: Connection) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in conn.execute(select(failed.c.kind, failed.c.id, failed.c.result))]


def all_history(conn: Connection) -> list[tuple[str, int, int, int, int, int]]:
    c = history.c
    query = select(c.account_id, c.timestamp, c.debits_pending, c.debits_posted, c.credits_pending, c.credits_posted)
    return [tuple(r) for r in conn.execute(query)]
