"""A batch's storage: reading its ``Book`` and writing its ``Outcome``, straight on the database driver.

A batch reads and writes thousands of rows; through SQLAlchemy's per-row parameter handling that cost several
times what the database itself needs (docs/benchmarks.md). Each statement here is written for the two drivers' own
parameter styles: SQLite gets one JSON array of ids (``json_each``), PostgreSQL one array (``ANY``/``unnest``) and
``COPY``. The tables are ``store``'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Table, bindparam, insert, update

from fintech_zone.db.driver import FEW, Driver
from fintech_zone.ledger import store
from fintech_zone.ledger.model import (
    ID_PATTERN,
    Account,
    Book,
    Outcome,
    Pending,
    PendingState,
    Transfer,
    TransferFlag,
    all_ids_valid,
)
from fintech_zone.ledger.store import (
    ACCOUNT_BITS,
    ACCOUNT_FLAG_SETS,
    TRANSFER_FLAG_CODES,
    TRANSFER_FLAG_SETS,
    accounts,
    all_assets,
    clock,
    expired_pending_ids,
    failed,
    history,
    pendings,
    postings,
    segments,
    transfers,
)

T = TypeVar("T")
_ID = attrgetter("id")
_PENDING_ID = attrgetter("pending_id")
_DEBIT = attrgetter("debit_account_id")
_CREDIT = attrgetter("credit_account_id")


def _bits(flags: Iterable[Any], table: dict[Any, int]) -> int:
    return sum(table[f] for f in flags)


def _storable(values: Iterable[str | None]) -> list[str]:
    # Ids the engine could never have stored are left out: PostgreSQL cannot even compare text holding NUL.
    found = [v for v in set(values) if v]
    return found if all_ids_valid(found) else [v for v in found if ID_PATTERN.match(v)]


def _select(
    conn: Connection, columns: str, table: Table, id_column: str, found: list[str], tail: str = "", *more: Any
) -> list[Any]:
    """Rows of ``table`` whose ``id_column`` is one of ``found`` (storable ids, ``_storable``, so no duplicates);
    ``tail`` adds to the condition (``{m}`` for each of its parameters ``more``; ``{t}`` for the table's name)."""
    if not found:
        return []
    t = table.name
    with Driver(conn) as driver:
        extra = tail.format(m=driver.mark, t=t)
        if driver.sqlite and len(found) > FEW:
            # A batch's ids as a join driven by the array, each a look-up in the table's index: 0.05 µs an id,
            # against 0.17 µs for `IN (SELECT value FROM json_each(?))`, which first copies the array into a
            # temporary index (benchmarks/hot_paths.py; tests/ledger/test_batch_store.py checks the plan). The
            # table's columns are named with the table: json_each has an `id` column of its own.
            named = ", ".join(f"{t}.{c.strip()}" for c in columns.split(","))
            sql = f"SELECT {named} FROM json_each(?) AS j CROSS JOIN {t} WHERE {t}.{id_column} = j.value{extra}"
            driver.cursor.execute(sql, (orjson.dumps(found).decode(), *more))
        else:
            where, params = driver.any_of(found)
            driver.cursor.execute(f"SELECT {columns} FROM {t} WHERE {id_column} {where}{extra}", (*params, *more))
        return list(driver.cursor.fetchall())


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
        for i, ledger, code, flags, owner, dp, dpo, cp, cpo, ts in _select(
            conn, ACCOUNT_COLUMNS, accounts, "id", _storable(ids)
        )
    }


def load_transfers(conn: Connection, ids: Iterable[str | None]) -> dict[str, Transfer]:
    return _transfers(conn, _storable(ids))


def _transfers(conn: Connection, found: list[str]) -> dict[str, Transfer]:
    sets = TRANSFER_FLAG_SETS
    return {
        i: Transfer(i, dr, cr, amount, ledger, code, sets[flags], pending_id, timeout, ref, user_data, ts, requested)
        for i, dr, cr, amount, ledger, code, flags, pending_id, timeout, ref, user_data, ts, requested in _select(
            conn, TRANSFER_COLUMNS, transfers, "id", found
        )
    }


def load_pendings(conn: Connection, ids: Iterable[str | None]) -> dict[str, Pending]:
    rows = _select(conn, "transfer_id, state, expires_at, posted_amount", pendings, "transfer_id", _storable(ids))
    return {i: Pending(i, PendingState(state), expires, posted) for i, state, expires, posted in rows}


def load_failed(conn: Connection, kind: str, ids: Iterable[str]) -> dict[str, str]:
    return _failed(conn, kind, _storable(ids))


def _failed(conn: Connection, kind: str, found: list[str]) -> dict[str, str]:
    return dict(_select(conn, "id, result", failed, "id", found, " AND {t}.kind = {m}", kind))


def write_outcome(
    conn: Connection, outcome: Outcome, kind: str, last_timestamp: int, meanwhile: Callable[[], T] | None = None
) -> T | None:
    """Write everything a batch changed; the caller's transaction makes it all-or-nothing. ``meanwhile``: work that
    does not touch the database (the batch's journal leaf), run while the database copies the batch's postings, a
    single statement during which the driver releases the interpreter, so that the two overlap on two cores (the
    balances' rows are built then too). Returns what ``meanwhile`` returns."""
    if outcome.new_accounts:
        conn.execute(insert(accounts), [_account_row(a) for a in outcome.new_accounts])
    driver = Driver(conn)
    copy = None
    if outcome.transfers:
        _insert_transfers(driver, outcome.transfers)
        copy = _postings_copy(driver, outcome.transfers)
    changed = list(outcome.accounts.values())
    balances, done = _overlapped(copy, lambda: _balance_rows(driver, changed), meanwhile)
    if changed:
        _update_balances(driver, balances)
    if outcome.pendings:
        created = {t.id for t in outcome.transfers if TransferFlag.PENDING in t.flags}
        new = [p for i, p in outcome.pendings.items() if i in created]
        resolved = [p for i, p in outcome.pendings.items() if i not in created]
        if new:
            conn.execute(insert(pendings), [_pending_row(p) for p in new])
        if resolved:
            conn.execute(
                update(pendings)
                .where(pendings.c.transfer_id == bindparam("b_id"))
                .values(state=bindparam("b_state"), posted_amount=bindparam("b_posted")),
                [{"b_id": p.transfer_id, "b_state": p.state.value, "b_posted": p.posted_amount} for p in resolved],
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
    conn.execute(_SET_CLOCK, {"t": last_timestamp})
    return done


def _overlapped(
    copy: Callable[[], None] | None, work: Callable[[], Any], meanwhile: Callable[[], T] | None
) -> tuple[Any, T | None]:
    """``copy`` (a statement on the batch's connection) run on a worker thread while this one does ``work`` and
    ``meanwhile``, which must not touch the database; their results once all three are done."""
    if copy is None or meanwhile is None:
        if copy is not None:
            copy()
        return work(), meanwhile() if meanwhile is not None else None
    started = threading.Event()

    def copy_started() -> None:
        started.set()
        copy()

    copying = _copier().submit(copy_started)
    # Until the copy holds the statement, this thread waits without the interpreter: the worker would otherwise
    # wait for it up to sys.getswitchinterval() (5 ms) before it could even start, and the two would not overlap.
    started.wait()
    try:
        return work(), meanwhile()
    finally:
        copying.result()  # the connection is the copy's until it ends, whatever this thread's work did


def _copier() -> ThreadPoolExecutor:
    global _COPIER
    if _COPIER is None:
        _COPIER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fz-ledger-postings")
    return _COPIER


_COPIER: ThreadPoolExecutor | None = None


_SET_CLOCK = update(clock).where(clock.c.id == 1).values(last_timestamp=bindparam("t"))


def _insert_transfers(driver: Driver, new: list[Transfer]) -> None:
    codes = TRANSFER_FLAG_CODES
    rows = [
        (t.id, t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.code, codes[t.flags], t.pending_id,
         t.timeout, t.reference, t.user_data, t.timestamp, t.requested_amount)
        for t in new
    ]  # fmt: skip
    if driver.sqlite:
        marks = ", ".join("?" * 13)
        driver.cursor.executemany(f"INSERT INTO {transfers.name} ({TRANSFER_COLUMNS}) VALUES ({marks})", rows)
    else:
        with driver.cursor.copy(f"COPY {transfers.name} ({TRANSFER_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _postings_copy(driver: Driver, new: list[Transfer]) -> Callable[[], None]:
    """A posting per side of each transfer (``new`` is in time order, after every stored transfer, and already
    written), in the latest segment while it has room, else in a new one that starts with this batch. (Many small
    batches thus share a segment, and a page of an account's transfers needs one look-up per 65,536 postings, not
    one per batch.) The segment's row is written now; the returned statement has the database copy the postings
    from the transfers just written, their span of timestamps: no row crosses the driver."""
    m = driver.mark
    driver.cursor.execute(f"SELECT segment, postings FROM {segments.name} ORDER BY segment DESC LIMIT 1")
    latest = driver.cursor.fetchone()
    count = 2 * len(new)
    first, last = new[0].timestamp, new[-1].timestamp
    if latest is not None and latest[1] + count <= store.SEGMENT_POSTINGS:
        segment = latest[0]
        driver.cursor.execute(
            f"UPDATE {segments.name} SET last_timestamp = {m}, postings = postings + {m} WHERE segment = {m}",
            (last, count, segment),
        )
    else:
        segment = first
        driver.cursor.execute(
            f"INSERT INTO {segments.name} (segment, last_timestamp, postings) VALUES ({m}, {m}, {m})",
            (segment, last, count),
        )
    span = f"FROM {transfers.name} WHERE timestamp BETWEEN {m} AND {m}"
    sql = (
        f"INSERT INTO {postings.name} (segment, account_id, timestamp)"
        f" SELECT {m}, debit_account_id, timestamp {span} UNION ALL SELECT {m}, credit_account_id, timestamp {span}"
    )
    cursor = driver.cursor
    return lambda: cursor.execute(sql, (segment, first, last, segment, first, last))


def _balance_rows(driver: Driver, changed: list[Account]) -> Any:
    if driver.sqlite:
        # In the key's order: each update then finds its page next to the last one's (1.32 against 1.56 µs an
        # update, benchmarks/hot_paths.py), and the sort is done while the postings are copied.
        ordered = sorted(changed, key=_ID)
        return [(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.id) for a in ordered]
    return (
        [a.id for a in changed],
        [a.debits_pending for a in changed],
        [a.debits_posted for a in changed],
        [a.credits_pending for a in changed],
        [a.credits_posted for a in changed],
    )


def _update_balances(driver: Driver, rows: Any) -> None:
    """The accounts' new balances (``_balance_rows``)."""
    if driver.sqlite:
        driver.cursor.executemany(
            f"UPDATE {accounts.name} SET debits_pending = ?, debits_posted = ?, credits_pending = ?,"
            " credits_posted = ? WHERE id = ?",
            rows,
        )
        return
    # One statement for the whole batch: PostgreSQL runs executemany as one statement per row.
    driver.cursor.execute(
        f"UPDATE {accounts.name} AS a SET debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp,"
        " credits_posted = v.cpo FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])"
        " AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id",
        rows,
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
    book = Book(assets=all_assets(conn), accounts=known or {}, transfers={}, pendings={}, failed={})
    extend_book(conn, book, events, expired_pending_ids(conn, now))
    return book


def extend_book(conn: Connection, book: Book, events: Sequence[Transfer], expired: Sequence[str] = ()) -> None:
    """Read into ``book`` what ``events`` (and the expiry of the pending transfers ``expired``) may touch and it
    does not hold yet: what it holds is newer than the database while a deferred batch has not been written."""
    ids = _storable(map(_ID, events))  # checked once for both look-ups of them
    pending_ids = _storable(map(_PENDING_ID, events))
    loaded = _transfers(conn, _not_in(book.transfers, {*ids, *pending_ids, *expired}))
    book.transfers.update(loaded)
    # map with attrgetter builds these sets from C: a batch names 16,380 accounts.
    account_ids = set(map(_DEBIT, events))
    account_ids.update(map(_CREDIT, events), map(_DEBIT, loaded.values()), map(_CREDIT, loaded.values()))
    account_ids.difference_update(book.accounts)
    if account_ids:
        book.accounts.update(load_accounts(conn, account_ids))
    book.pendings.update(load_pendings(conn, _not_in(book.pendings, [*pending_ids, *expired])))
    book.failed.update(_failed(conn, "transfer", _not_in(book.failed, ids)))


def _not_in(held: dict[str, Any], ids: Iterable[str]) -> list[str]:
    # A new book holds nothing yet: no need to ask it about each of 8,190 ids.
    return [i for i in ids if i not in held] if held else list(ids)
