"""Ledger use cases: each batch is one transaction — applied whole and durable before it is acknowledged."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, InvalidInput, NotFound
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
    Transfer,
)
from fintech_zone.paging import Page, decode_cursor, encode_cursor
from fintech_zone.registry import service as registry

ASSET_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,15}\Z")
CURRENCY = re.compile(r"^[A-Z]{3}\Z")


class EventResult(NamedTuple):  # a tuple: a batch makes thousands of them
    id: str
    result: str


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
    """Accounts as the caller's transaction sees them (missing ids are absent from the answer)."""
    return batch_store.load_accounts(conn, ids)


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
    return list(map(EventResult, [e.id for e in events], outcome.results))


def create_transfers(db: Database, events: Sequence[Transfer]) -> list[EventResult]:
    _check_batch(events)
    cache = account_cache.for_database(db)
    with db.transaction() as conn:
        journal.lock_in(conn)
        last = store.lock_clock(conn)
        book, outcome = _apply_transfers(conn, events, last, cache.take(last))
    cache.put(book.last_timestamp, book.accounts)  # committed: the book's accounts are the ledger's now
    return list(map(EventResult, [e.id for e in events], outcome.results))


def create_transfers_in(conn: Connection, events: Sequence[Transfer]) -> list[EventResult]:
    """``create_transfers`` inside the caller's transaction, for use cases that write their own records with the
    transfers (a payment and its settlement legs): both commit together or not at all. The accounts are read
    afresh; the in-process account cache sees the clock move and reads afresh too."""
    _check_batch(events)
    journal.lock_in(conn)
    last = store.lock_clock(conn)
    _, outcome = _apply_transfers(conn, events, last, None)
    return list(map(EventResult, [e.id for e in events], outcome.results))


def _apply_transfers(
    conn: Connection, events: Sequence[Transfer], last: int, known: dict[str, Account] | None
) -> tuple[Book, Outcome]:
    now = _now(last)
    book = batch_store.load_book_for_transfers(conn, events, now, known)
    book.last_timestamp = last
    # Expired pending transfers release their funds first, so this batch sees the balances as of now.
    expired = engine.expire_pending(book, now)
    outcome = engine.create_transfers(book, events, now)
    batch_store.write_outcome(conn, expired, "transfer", book.last_timestamp)
    batch_store.write_outcome(conn, outcome, "transfer", book.last_timestamp)
    _journal(conn, "transfer", [expired, outcome])
    return book, outcome


def _journal(conn: Connection, kind: str, outcomes: list[Outcome]) -> None:
    """The batch's leaf, in the batch's own transaction: no record without its leaf, no leaf without its record."""
    entry = batch_entry(kind, outcomes)
    if entry is not None:
        journal.append_in(conn, [entry])


def create_accounts_in(conn: Connection, events: Sequence[NewAccount]) -> list[EventResult]:
    """``create_accounts`` inside the caller's transaction (a participant joins with its accounts)."""
    _check_batch(events)
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
