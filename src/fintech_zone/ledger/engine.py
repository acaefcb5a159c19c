"""The batch engine: applies account and transfer events to a ``Book`` in order. Pure.

Every event gets one result code (see ``docs/ledger.md``). A chain of ``linked`` events succeeds or fails as a
whole. Every failed id is remembered, so re-sending it answers ``id_already_failed``: a retry can never change an
outcome.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from fintech_zone.ledger.batch import CREATED, EXISTS, Batch, run_chains
from fintech_zone.ledger.model import (
    ID_PATTERN,
    MAX_AMOUNT,
    MAX_TIMEOUT,
    NS,
    Account,
    AccountFlag,
    Book,
    NewAccount,
    Outcome,
    Pending,
    PendingState,
    Transfer,
    TransferFlag,
    all_ids_valid,
)

MAX_REFERENCE = 140
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


F = TransferFlag
A = AccountFlag
_TWO_PHASE = (F.PENDING, F.POST_PENDING_TRANSFER, F.VOID_PENDING_TRANSFER)
_LINKED = frozenset({F.LINKED})
_BALANCING = frozenset({F.BALANCING_DEBIT, F.BALANCING_CREDIT})
_RESOLVING = frozenset({F.POST_PENDING_TRANSFER, F.VOID_PENDING_TRANSFER})


# -- accounts ---------------------------------------------------------------------------------------------------

ACCOUNT_COMPARED = ("ledger", "code", "flags", "owner_id")


def create_accounts(book: Book, events: Sequence[NewAccount], now: int, owners: set[str] | None = None) -> Outcome:
    """Create accounts; ``owners`` (when given) are the organisation ids an account may belong to."""
    batch = Batch(book, now)

    def one(i: int) -> str:
        e = events[i]
        if not ID_PATTERN.match(e.id):
            return "id_invalid"
        flags = e.flags - {A.LINKED}
        existing = book.accounts.get(e.id)
        if existing is not None:
            for name in ACCOUNT_COMPARED:
                wanted = flags if name == "flags" else getattr(e, name)
                if wanted != getattr(existing, name):
                    return f"exists_with_different_{name}"
            return EXISTS
        if e.id in book.failed:
            return "id_already_failed"
        if {A.DEBITS_MUST_NOT_EXCEED_CREDITS, A.CREDITS_MUST_NOT_EXCEED_DEBITS} <= flags:
            return "flags_are_mutually_exclusive"
        if e.ledger not in book.assets:
            return "ledger_not_found"
        if e.code <= 0:
            return "code_must_be_positive"
        if e.owner_id is not None and owners is not None and e.owner_id not in owners:
            return "owner_not_found"
        batch.add_account(Account(e.id, e.ledger, e.code, flags, e.owner_id, timestamp=batch.tick()))
        return CREATED

    ids = [e.id for e in events]
    results = run_chains(batch, ids, [A.LINKED in e.flags for e in events], one, book.accounts)  # type: ignore[arg-type]
    return batch.outcome(results)


# -- transfers --------------------------------------------------------------------------------------------------

TRANSFER_COMPARED = (
    "flags",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "pending_id",
    "ledger",
    "code",
    "timeout",
    "reference",
    "user_data",
)
# On a post or void these may be left empty (0): they are then taken from the pending transfer.
_FILLED_FROM_PENDING = frozenset({"debit_account_id", "credit_account_id", "ledger", "code"})


def _compare(e: Transfer, existing: Transfer) -> str:
    resolving = bool(e.flags & {F.POST_PENDING_TRANSFER, F.VOID_PENDING_TRANSFER})
    for name in TRANSFER_COMPARED:
        wanted = getattr(e, name)
        if resolving and name in _FILLED_FROM_PENDING and not wanted:
            continue
        have = existing.requested_amount if name == "amount" else getattr(existing, name)
        if wanted != have:
            return f"exists_with_different_{name}"
    return EXISTS


def create_transfers(book: Book, events: Sequence[Transfer], now: int) -> Outcome:
    batch = Batch(book, now)
    ids = [e.id for e in events]
    linked = [F.LINKED in e.flags for e in events]
    batch.ids_valid = all_ids_valid(ids)  # else each event's id is checked alone
    results = run_chains(batch, ids, linked, lambda i: _transfer(batch, events[i]), book.transfers)  # type: ignore[arg-type]
    return batch.outcome(results)


def _transfer(batch: Batch, e: Transfer) -> str:
    book = batch.book
    if not batch.ids_valid and not ID_PATTERN.match(e.id):
        return "id_invalid"
    existing = book.transfers.get(e.id)
    if existing is not None:
        return _compare(e, existing)
    if e.id in book.failed:
        return "id_already_failed"
    # Most transfers carry no flags: the flag checks below are skipped for them (set operations cost).
    flags = e.flags - _LINKED if e.flags else e.flags
    if flags and sum(f in flags for f in _TWO_PHASE) > 1:
        return "flags_are_mutually_exclusive"
    if flags and flags & _BALANCING and flags & _RESOLVING:
        return "flags_are_mutually_exclusive"
    if e.reference is not None and (len(e.reference) > MAX_REFERENCE or _CONTROL.search(e.reference)):
        return "reference_invalid"
    if e.amount < 0:
        return "amount_must_not_be_negative"
    if e.amount > MAX_AMOUNT:
        return "amount_exceeds_maximum"
    if e.timeout < 0 or e.timeout > MAX_TIMEOUT:
        return "timeout_out_of_range"
    if flags and flags & _RESOLVING:
        return _resolve_pending(batch, e, post=F.POST_PENDING_TRANSFER in flags)
    if e.pending_id:
        return "pending_id_must_be_empty"
    pending = bool(flags) and F.PENDING in flags
    if e.timeout and not pending:
        return "timeout_reserved_for_pending_transfer"
    if e.amount == 0:
        return "amount_must_not_be_zero"
    if e.debit_account_id == e.credit_account_id:
        return "accounts_must_be_different"
    dr = book.accounts.get(e.debit_account_id)
    if dr is None:
        return "debit_account_not_found"
    cr = book.accounts.get(e.credit_account_id)
    if cr is None:
        return "credit_account_not_found"
    if dr.ledger != cr.ledger:
        return "accounts_must_have_the_same_ledger"
    if e.ledger != dr.ledger:
        return "transfer_must_have_the_same_ledger_as_accounts"
    if e.code <= 0:
        return "code_must_be_positive"
    if dr.flags and A.CLOSED in dr.flags:
        return "debit_account_closed"
    if cr.flags and A.CLOSED in cr.flags:
        return "credit_account_closed"
    amount = e.amount
    if flags and F.BALANCING_DEBIT in flags:
        amount = min(amount, max(0, dr.credits_posted - dr.debits_posted - dr.debits_pending))
    if flags and F.BALANCING_CREDIT in flags:
        amount = min(amount, max(0, cr.debits_posted - cr.credits_posted - cr.credits_pending))
    debits = dr.debits_pending + dr.debits_posted + amount
    if debits > MAX_AMOUNT or cr.credits_pending + cr.credits_posted + amount > MAX_AMOUNT:
        # Balances are never negative, so each overflow below implies one of these two totals: only then is it
        # worth finding which (the first in this order is the one reported).
        return _overflow(dr, cr, amount, pending)
    if dr.flags and A.DEBITS_MUST_NOT_EXCEED_CREDITS in dr.flags and debits > dr.credits_posted:
        return "exceeds_credits"
    if (
        cr.flags
        and A.CREDITS_MUST_NOT_EXCEED_DEBITS in cr.flags
        and cr.credits_pending + cr.credits_posted + amount > cr.debits_posted
    ):
        return "exceeds_debits"
    timestamp = batch.tick()
    lone = not batch.in_chain
    if lone:  # changes its accounts in place: Batch.change_account's lone case, without its two calls
        touched = batch.touched_accounts
        touched.setdefault(dr.id)
        touched.setdefault(cr.id)
    else:
        dr, cr = batch.change_account(dr), batch.change_account(cr)
    if pending:
        dr.debits_pending += amount
        cr.credits_pending += amount
        expires = timestamp + e.timeout * NS if e.timeout else None
        batch.put_pending(Pending(e.id, PendingState.PENDING, expires))
    else:
        dr.debits_posted += amount
        cr.credits_posted += amount
    if dr.flags or cr.flags:
        batch.snapshot(timestamp, dr, cr)
    transfer = Transfer(
        e.id,
        e.debit_account_id,
        e.credit_account_id,
        amount,
        e.ledger,
        e.code,
        e.flags,
        e.pending_id,
        e.timeout,
        e.reference,
        e.user_data,
        timestamp,
        e.amount,
    )
    if lone:  # Batch.add_transfer's lone case: nothing to undo
        book.transfers[e.id] = transfer
        batch.new_transfers.append(transfer)
    else:
        batch.add_transfer(transfer)
    return CREATED


def _overflow(dr: Account, cr: Account, amount: int, pending: bool) -> str:
    if pending and dr.debits_pending + amount > MAX_AMOUNT:
        return "overflows_debits_pending"
    if pending and cr.credits_pending + amount > MAX_AMOUNT:
        return "overflows_credits_pending"
    if not pending and dr.debits_posted + amount > MAX_AMOUNT:
        return "overflows_debits_posted"
    if not pending and cr.credits_posted + amount > MAX_AMOUNT:
        return "overflows_credits_posted"
    if dr.debits_pending + dr.debits_posted + amount > MAX_AMOUNT:
        return "overflows_debits"
    return "overflows_credits"


def _resolve_pending(batch: Batch, e: Transfer, post: bool) -> str:
    book = batch.book
    if not e.pending_id:
        return "pending_id_must_not_be_empty"
    if e.pending_id == e.id:
        return "pending_id_must_be_different"
    if e.timeout:
        return "timeout_reserved_for_pending_transfer"
    p = book.transfers.get(e.pending_id)
    state = book.pendings.get(e.pending_id)
    if p is None:
        return "pending_transfer_not_found"
    if state is None or F.PENDING not in p.flags:
        return "pending_transfer_not_pending"
    if e.debit_account_id and e.debit_account_id != p.debit_account_id:
        return "pending_transfer_has_different_debit_account_id"
    if e.credit_account_id and e.credit_account_id != p.credit_account_id:
        return "pending_transfer_has_different_credit_account_id"
    if e.ledger and e.ledger != p.ledger:
        return "pending_transfer_has_different_ledger"
    if e.code and e.code != p.code:
        return "pending_transfer_has_different_code"
    if state.state is PendingState.POSTED:
        return "pending_transfer_already_posted"
    if state.state is PendingState.VOIDED:
        return "pending_transfer_already_voided"
    if state.state is PendingState.EXPIRED or (state.expires_at is not None and state.expires_at <= batch.clock + 1):
        return "pending_transfer_expired"
    amount = e.amount or p.amount
    if post and amount > p.amount:
        return "exceeds_pending_transfer_amount"
    if not post and amount != p.amount:
        return "pending_transfer_has_different_amount"
    dr, cr = book.accounts[p.debit_account_id], book.accounts[p.credit_account_id]
    if post and A.CLOSED in dr.flags:
        return "debit_account_closed"
    if post and A.CLOSED in cr.flags:
        return "credit_account_closed"
    timestamp = batch.tick()
    dr, cr = batch.change_account(dr), batch.change_account(cr)
    dr.debits_pending -= p.amount
    cr.credits_pending -= p.amount
    if post:
        dr.debits_posted += amount
        cr.credits_posted += amount
    batch.snapshot(timestamp, dr, cr)
    resolved = PendingState.POSTED if post else PendingState.VOIDED
    batch.put_pending(Pending(p.id, resolved, state.expires_at, amount if post else 0))
    batch.add_transfer(
        replace(
            e,
            debit_account_id=p.debit_account_id,
            credit_account_id=p.credit_account_id,
            ledger=p.ledger,
            code=e.code or p.code,
            amount=amount,
            timestamp=timestamp,
            requested_amount=e.amount,
        )
    )
    return CREATED


def expire_pending(book: Book, now: int) -> Outcome:
    """Release the funds of every pending transfer in the book whose timeout has passed."""
    batch = Batch(book, now)
    for p in sorted(book.pendings.values(), key=lambda p: (p.expires_at or 0, p.transfer_id)):
        if p.state is PendingState.PENDING and p.expires_at is not None and p.expires_at <= batch.clock:
            t = book.transfers[p.transfer_id]
            timestamp = batch.tick()
            dr = batch.change_account(book.accounts[t.debit_account_id])
            cr = batch.change_account(book.accounts[t.credit_account_id])
            dr.debits_pending -= t.amount
            cr.credits_pending -= t.amount
            batch.snapshot(timestamp, dr, cr)
            batch.put_pending(Pending(p.transfer_id, PendingState.EXPIRED, p.expires_at))
    return batch.outcome([])
