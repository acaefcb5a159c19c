"""Ledger use cases: each batch is one transaction — applied whole and durable before it is acknowledged."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, InvalidInput, NotFound
from fintech_zone.gc_pause import gc_paused
from fintech_zone.journal import service as journal
from fintech_zone.ledger import account_cache, batch_store, engine, store
from fintech_zone.ledger.journal_leaf import batch_entry
from fintech_zone.ledger.model import (
    ID_PATTERN,
    MAX_BATCH,
    Account,
    AccountFlag,
    Asset,
    Book,
    NewAccount,
    Outcome,
    Pending,
    Transfer,
)
from fintech_zone.paging import Page, decode_cursor, encode_cursor
from fintech_zone.registry import service as registry

ASSET_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,15}\Z")
CURRENCY = re.compile(r"^[A-Z]{3}\Z")


class EventResult(NamedTuple):  # a tuple: a batch makes thousands of them
    id: str
    result: str


_event_result = partial(tuple.__new__, EventResult)


def _event_results(events: Sequence[Transfer | NewAccount], results: list[str]) -> list[EventResult]:
    # Made by tuple.__new__ from C: the named tuple's own constructor is a Python function (0.2 µs an event).
    return list(map(_event_result, zip([e.id for e in events], results, strict=True)))


def _check_batch(events: Sequence[object]) -> None:
    if not events:
        raise InvalidInput([FieldError("events", "a batch needs at least one event", "min_batch")])
    if len(events) > MAX_BATCH:
        raise InvalidInput(
            [FieldError("events", f"{len(events)} events; a batch holds at most {MAX_BATCH}", "max_batch")]
        )


def create_asset(db: Database, asset: Asset) -> Asset:
    errors = []
    if not ASSET_CODE.match(asset.code):
        errors.append(FieldError("code", "2-16 characters of A-Z, 0-9 and '-', starting with a letter", "format"))
    if not CURRENCY.match(asset.currency):
        errors.append(FieldError("currency", "an ISO 4217 code: three capital letters", "format"))
    if not 0 <= asset.exponent <= 18:
        errors.append(FieldError("exponent", "the minor-unit exponent is between 0 and 18", "range"))
    if errors:
        raise InvalidInput(errors)
    with db.transaction() as conn:
        if asset.code in store.all_assets(conn):
            raise Conflict(f"asset {asset.code!r} already exists")
        if asset.issuer_id is not None:
            registry.require_organisations_in(conn, [asset.issuer_id], "issuer")
        try:
            store.insert_asset(conn, asset)
        except IntegrityError as exc:
            raise Conflict(f"asset {asset.code!r} was created concurrently") from exc
    return asset


def ensure_assets_in(conn: Connection, wanted: Sequence[Asset]) -> None:
    """Add the assets that are not there yet (idempotent: an existing code is left as it is)."""
    have = store.all_assets(conn)
    for asset in wanted:
        if asset.code not in have:
            store.insert_asset(conn, asset)


def accounts_in(conn: Connection, ids: Sequence[str]) -> dict[str, Account]:
    """Accounts as the caller's transaction sees them (missing ids are absent from the answer), including the
    transfers it has applied but not yet written (``deferred``)."""
    found = batch_store.load_accounts(conn, ids)
    session: _Deferred | None = conn.info.get(_DEFERRED)
    if session is not None and session.book is not None:
        found.update((i, a.copy()) for i, a in session.book.accounts.items() if i in found)
    return found


def list_assets(db: Database) -> list[Asset]:
    with db.read() as conn:
        return list(store.all_assets(conn).values())


def _now(last: int) -> int:
    return max(time.time_ns(), last)


def create_accounts(db: Database, events: Sequence[NewAccount]) -> list[EventResult]:
    _check_batch(events)
    with db.transaction() as conn:
        journal.lock_in(conn)
        last = store.lock_clock(conn)
        account_cache.for_database(db).take(last)  # new accounts move the clock: the next batch reads afresh
        return _apply_accounts(conn, events, last)


def _apply_accounts(conn: Connection, events: Sequence[NewAccount], last: int) -> list[EventResult]:
    owners = registry.known_organisations_in(conn, {e.owner_id for e in events if e.owner_id})
    ids = [e.id for e in events]
    book = Book(
        assets=store.all_assets(conn),
        accounts=batch_store.load_accounts(conn, ids),
        transfers={},
        pendings={},
        failed=batch_store.load_failed(conn, "account", ids),
        last_timestamp=last,
    )
    outcome = engine.create_accounts(book, events, _now(last), owners)
    batch_store.write_outcome(conn, outcome, "account", book.last_timestamp)
    _journal(conn, "account", [outcome])
    return _event_results(events, outcome.results)


def create_transfers(db: Database, events: Sequence[Transfer]) -> list[EventResult]:
    _check_batch(events)
    cache = account_cache.for_database(db)
    with gc_paused():
        with db.transaction() as conn:
            journal.lock_in(conn)
            last = store.lock_clock(conn)
            book, outcome, results = _apply_transfers(conn, events, last, cache.take(last))
        cache.put(book.last_timestamp, book.accounts)  # committed: the book's accounts are the ledger's now
        # Freed here, by reference counts, rather than walked by the first collection after the pause: the batch's
        # transfers and rows (its results are tuples of strings, which the collector stops tracking at once).
        del book, outcome
    return results


def create_transfers_in(conn: Connection, events: Sequence[Transfer]) -> list[EventResult]:
    """``create_transfers`` inside the caller's transaction, for use cases that write their own records with the
    transfers (a payment and its settlement legs): both commit together or not at all. The accounts are read
    afresh; the in-process account cache sees the clock move and reads afresh too. Inside ``deferred`` the events
    are applied at once but written with the block's others when it ends."""
    _check_batch(events)
    session: _Deferred | None = conn.info.get(_DEFERRED)
    if session is not None:
        return _event_results(events, session.apply(conn, events).results)
    journal.lock_in(conn)
    last = store.lock_clock(conn)
    return _apply_transfers(conn, events, last, None)[2]


_DEFERRED = "fintech_zone.ledger.deferred"


class _Deferred:
    """The transfer batches of one transaction, applied in order to one book in memory and written as one batch
    (one leaf) at its end. Each ``apply`` keeps what it changed so that its unit of work can be undone."""

    def __init__(self) -> None:
        self.book: Book | None = None
        self.expired = Outcome(results=[])  # the expiries at the first batch: no unit's work, never undone
        self.applied: list[tuple[Outcome, dict[str, Account], dict[str, Pending | None]]] = []

    def apply(self, conn: Connection, events: Sequence[Transfer]) -> Outcome:
        if self.book is None:
            journal.lock_in(conn)
            last = store.lock_clock(conn)
            self.book = book = batch_store.load_book_for_transfers(conn, events, _now(last))
            book.last_timestamp = last
            self.expired = engine.expire_pending(book, _now(last))
        else:
            book = self.book
            batch_store.extend_book(conn, book, events)
        # What these events may change, as it is before them (a lone event changes its accounts in place).
        accounts = {e.debit_account_id for e in events} | {e.credit_account_id for e in events}
        pendings = {e.id for e in events} | {e.pending_id for e in events if e.pending_id}
        for pending_id in pendings.intersection(book.transfers):
            accounts |= {book.transfers[pending_id].debit_account_id, book.transfers[pending_id].credit_account_id}
        saved = {i: book.accounts[i].copy() for i in accounts.intersection(book.accounts)}
        saved_pendings = {i: book.pendings.get(i) for i in pendings}
        outcome = engine.create_transfers(book, events, _now(book.last_timestamp))
        self.applied.append((outcome, saved, saved_pendings))
        return outcome

    def undo_to(self, mark: int) -> None:
        book = self.book
        while len(self.applied) > mark:
            assert book is not None  # something was applied, so the book was read
            outcome, saved, pendings = self.applied.pop()
            book.accounts.update(saved)
            for i, pending in pendings.items():
                if pending is None:
                    book.pendings.pop(i, None)
                else:
                    book.pendings[i] = pending
            for t in outcome.transfers:
                book.transfers.pop(t.id, None)
            for i in outcome.failed:
                book.failed.pop(i, None)

    def write(self, conn: Connection) -> None:
        book = self.book
        if book is None:  # no transfers in the block
            return
        outcomes = [self.expired, *(o for o, _, _ in self.applied)]
        # Every touched account and pending as the book holds it now: an earlier outcome's objects may since
        # have been changed again, or restored by an undo.
        merged = Outcome(
            results=[],
            accounts={i: book.accounts[i] for o in outcomes for i in o.accounts},
            transfers=[t for o in outcomes for t in o.transfers],
            pendings={i: book.pendings[i] for o in outcomes for i in o.pendings},
            failed={i: r for o in outcomes for i, r in o.failed.items()},
            history=[a for o in outcomes for a in o.history],
        )
        batch_store.write_outcome(conn, merged, "transfer", book.last_timestamp)
        _journal(conn, "transfer", [merged])


@contextmanager
def deferred(conn: Connection) -> Iterator[None]:
    """Inside this block, the batches ``create_transfers_in`` is given in this transaction are applied to one
    book in memory, each answered at once, and written together (one batch, one journal leaf) when the block ends,
    still inside the transaction. Nothing in the block may read the ledger's tables except through
    ``accounts_in``, which answers from that book; ``create_accounts_in`` is refused. Wrap each unit of work that
    may be undone alone in ``undone_with``. Nest it inside ``journal.deferred`` when that is used too, so that
    the batch's leaf joins the others."""
    if _DEFERRED in conn.info:
        raise RuntimeError("ledger batches are already deferred in this transaction")
    session = conn.info[_DEFERRED] = _Deferred()
    try:
        yield
        session.write(conn)
    finally:
        del conn.info[_DEFERRED]


@contextmanager
def undone_with(conn: Connection) -> Iterator[None]:
    """A unit of work inside ``deferred`` whose failure (an exception, on which its savepoint rolls back) takes
    back what its transfers changed in the book. Outside ``deferred`` there is nothing to undo."""
    session: _Deferred | None = conn.info.get(_DEFERRED)
    mark = len(session.applied) if session is not None else 0
    try:
        yield
    except BaseException:
        if session is not None:
            session.undo_to(mark)
        raise


def _apply_transfers(
    conn: Connection, events: Sequence[Transfer], last: int, known: dict[str, Account] | None
) -> tuple[Book, Outcome, list[EventResult]]:
    now = _now(last)
    book = batch_store.load_book_for_transfers(conn, events, now, known)
    book.last_timestamp = last
    # Expired pending transfers release their funds first, so this batch sees the balances as of now.
    expired = engine.expire_pending(book, now)
    outcome = engine.create_transfers(book, events, now)
    batch_store.write_outcome(conn, expired, "transfer", book.last_timestamp)
    # The leaf and the results are made while the database copies the batch's postings (write_outcome's
    # ``meanwhile``).
    done = batch_store.write_outcome(
        conn,
        outcome,
        "transfer",
        book.last_timestamp,
        lambda: (batch_entry("transfer", [expired, outcome]), _event_results(events, outcome.results)),
    )
    assert done is not None  # meanwhile's own answer
    entry, results = done
    if entry is not None:  # the batch's leaf, in its own transaction: no record without its leaf, nor the reverse
        journal.append_in(conn, [entry])
    return book, outcome, results


def _journal(conn: Connection, kind: str, outcomes: list[Outcome]) -> None:
    """The batch's leaf, in the batch's own transaction: no record without its leaf, no leaf without its record."""
    entry = batch_entry(kind, outcomes)
    if entry is not None:
        journal.append_in(conn, [entry])


def create_accounts_in(conn: Connection, events: Sequence[NewAccount]) -> list[EventResult]:
    """``create_accounts`` inside the caller's transaction (a participant joins with its accounts)."""
    _check_batch(events)
    if _DEFERRED in conn.info:
        raise RuntimeError("accounts cannot be created while this transaction's transfers are deferred")
    journal.lock_in(conn)
    last = store.lock_clock(conn)
    return _apply_accounts(conn, events, last)


def get_account(db: Database, account_id: str) -> Account:
    with db.read() as conn:
        account = store.get_account(conn, account_id) if ID_PATTERN.match(account_id) else None
    if account is None:
        raise NotFound(f"no account with id {account_id!r}")
    return account


def transfer_timestamp_in(conn: Connection, transfer_id: str) -> int | None:
    """A transfer's engine timestamp (how the journal finds the batch leaf that holds it); None when unknown."""
    transfer = store.get_transfer(conn, transfer_id) if ID_PATTERN.match(transfer_id) else None
    return transfer.timestamp if transfer else None


def get_transfer(db: Database, transfer_id: str) -> Transfer:
    with db.read() as conn:
        transfer = store.get_transfer(conn, transfer_id) if ID_PATTERN.match(transfer_id) else None
    if transfer is None:
        raise NotFound(f"no transfer with id {transfer_id!r}")
    return transfer


def account_transfers(db: Database, account_id: str, cursor: str | None, limit: int) -> Page[Transfer]:
    after = None
    if cursor:
        raw = decode_cursor(cursor)
        if not raw.isdigit() or encode_cursor(raw) != cursor:
            raise InvalidInput([FieldError("cursor", "not a cursor this server issued", "format")])
        after = int(raw)
    get_account(db, account_id)
    rows = account_transfers_after(db, account_id, after, limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, encode_cursor(str(items[-1].timestamp)) if more and items else None)


def account_transfers_after(db: Database, account_id: str, after: int | None, limit: int) -> list[Transfer]:
    """Up to ``limit`` of the account's transfers with a timestamp after ``after`` (ns), in time order."""
    with db.read() as conn:
        return store.account_transfers(conn, account_id, after, limit)


@dataclass(frozen=True)
class BalanceAt:
    account_id: str
    timestamp: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


def balance_at(db: Database, account_id: str, timestamp: int) -> BalanceAt:
    account = get_account(db, account_id)
    if AccountFlag.HISTORY not in account.flags:
        raise InvalidInput(
            [FieldError("account", "balances are kept over time only for `history` accounts", "history_flag")]
        )
    with db.read() as conn:
        found = store.balance_at(conn, account_id, timestamp)
    if found is None:
        return BalanceAt(account_id, timestamp, 0, 0, 0, 0)
    return BalanceAt(account_id, *found)


def totals(db: Database) -> dict[str, tuple[int, int, int, int]]:
    with db.read() as conn:
        return store.totals(conn)
