"""Payments: domestic and cross-border credit transfers, keyed by their UETR, settled on the ledger.

One transaction per payment holds everything: the payment record, every decision on it with its reason, the
quote it consumes and its ledger legs. A cross-border payment settles payment-versus-payment as one linked chain
— debtor agent → FX provider in the source asset, FX provider → creditor agent in the target asset — so a crash
or a refusal leaves both legs or neither, and never a payment without its settlement or the reverse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.journal import service as journal
from fintech_zone.ledger.model import Transfer
from fintech_zone.paging import Page, decode_cursor, encode_cursor
from fintech_zone.payments import agent_cache, fx_store, group_commit, journal_leaf, store
from fintech_zone.payments.model import (
    Participant,
    Payment,
    PaymentRequest,
    Reason,
    Status,
    check_payment_request,
    corridor,
    settlement_account,
    transfer_id,
)
from fintech_zone.payments.payment_rules import Draft, Rejected, check_rules
from fintech_zone.payments.service import CODE_PAYMENT, Refused, move, now_utc
from fintech_zone.payments.wallets import wallet_account
from fintech_zone.sandbox import rails as sandbox
from fintech_zone.sandbox.boundaries import Attempt, Breach


class ScreeningVerdict(Protocol):
    @property
    def decision(self) -> str: ...  # clear | review | reject

    @property
    def reason(self) -> str: ...


class PartyScreener(Protocol):
    def screen_parties(self, debtor: str, creditor: str) -> ScreeningVerdict: ...


class DuplicateUetr(Conflict):
    """The UETR names another payment already: ISO 20022 DUPL."""

    reason = Reason.DUPL.value


def submit(
    db: Database,
    request: PaymentRequest,
    screener: PartyScreener,
    actor_org: str | None = None,
    now: datetime | None = None,
) -> tuple[Payment, bool]:
    """Receive, screen and settle (or reject, or hold) a payment. Returns it and whether it is new: re-sending the
    same payment with its UETR answers with the recorded outcome; another payment under a used UETR is DUPL."""
    work = _received(request, screener, actor_org, now)
    try:
        return group_commit.for_database(db).run(work)
    except IntegrityError:
        if (recorded := _recorded_first(db, request)) is None:
            raise
        return recorded


async def submit_async(
    db: Database, request: PaymentRequest, screener: PartyScreener, actor_org: str | None = None
) -> tuple[Payment, bool]:
    """``submit`` on an event loop: the payment waits for its group's commit without holding a thread."""
    work = _received(request, screener, actor_org, None)
    try:
        return await group_commit.for_database(db).run_async(work)
    except IntegrityError:
        if (recorded := await asyncio.to_thread(_recorded_first, db, request)) is None:
            raise
        return recorded


def _received(
    request: PaymentRequest, screener: PartyScreener, actor_org: str | None, now: datetime | None
) -> Callable[[Connection], tuple[Payment, bool]]:
    """The payment checked and screened; what remains is its work in a write transaction."""
    check_payment_request(request)
    at = now or now_utc()
    # Screening needs no database: done before the write transaction, it does not hold up other writers.
    verdict = screener.screen_parties(request.debtor.name, request.creditor.name)
    return lambda conn: _submit_in(conn, request, verdict, actor_org, at)


def _recorded_first(db: Database, request: PaymentRequest) -> tuple[Payment, bool] | None:
    """After an integrity error: when another process recorded this UETR first, between our read and our insert,
    the answer a re-send would get; None when no payment holds it (the error was another one)."""
    with db.read() as conn:
        existing = store.get_payment(conn, request.uetr)
    return None if existing is None else (_replay(existing, request), False)


def _submit_in(
    conn: Connection, request: PaymentRequest, verdict: ScreeningVerdict, actor_org: str | None, at: datetime
) -> tuple[Payment, bool]:
    journal.lock_in(conn)  # first, before the quote's and the ledger's locks (journal.service's lock order)
    existing = store.get_payment(conn, request.uetr)
    if existing is not None:
        return _replay(existing, request), False
    agents = agent_cache.participants(conn, [request.debtor_agent, request.creditor_agent])
    for field, agent in (("debtor_agent", request.debtor_agent), ("creditor_agent", request.creditor_agent)):
        if agent not in agents:
            raise InvalidInput([FieldError(field, f"no participant with id {agent!r}", "unknown_reference")])
    if actor_org is not None and actor_org != request.debtor_agent:
        raise Forbidden("a participant sends payments as their debtor agent only")
    debtor_agent, creditor_agent = agents[request.debtor_agent], agents[request.creditor_agent]
    if request.demo != debtor_agent.demo:  # demo-ness is the participants', not the caller's
        request = replace(request, demo=debtor_agent.demo)
    draft = Draft(request, at, actor_org or "operator", [])
    draft.step(Status.RECEIVED, f"received from {debtor_agent.id} ({debtor_agent.bic})", actor=draft.actor)
    quote, consumed = None, False
    try:
        quote = check_rules(conn, draft, debtor_agent, creditor_agent, at)
        if verdict.decision == "reject":
            raise Rejected(Reason.RR04, f"screening: {verdict.reason}")
        if quote is not None:
            consumed = fx_store.consume_quote(conn, quote.id, request.uetr)
            if not consumed:
                raise Rejected(Reason.NARR, f"quote {quote.id} was used by another payment")
        if verdict.decision == "review":
            draft.step(Status.HELD, f"held for compliance review: {verdict.reason}")
        else:
            draft.step(Status.SCREENED, f"screening: {verdict.reason}")
            _settle_within_pilot(conn, draft, debtor_agent, creditor_agent, at)
    except Rejected as rejected:
        if quote is not None and consumed:
            fx_store.release_quote(conn, quote.id, request.uetr)  # a refused payment does not use up its quote
        draft.step(Status.REJECTED, rejected.detail, rejected.reason)
    payment = draft.payment()
    salt = journal_leaf.new_salt()
    store.insert_payment(conn, payment, corridor(debtor_agent.jurisdiction, creditor_agent.jurisdiction), salt)
    journal.append_in(conn, journal_leaf.decision_entries(payment, salt, 0, payment.history))
    return payment, True


def _replay(existing: Payment, request: PaymentRequest) -> Payment:
    if existing.request.fingerprint() != request.fingerprint():
        raise DuplicateUetr(f"DUPL: UETR {request.uetr} already identifies a different payment")
    return existing


def _settle_within_pilot(
    conn: Connection, draft: Draft, debtor_agent: Participant, creditor_agent: Participant, at: datetime
) -> None:
    """Settle; a pilot's payment only within its pilot's boundaries, checked under the pilot's lock in this
    transaction (so racing payments cannot together pass a limit), and its use recorded once it settled."""
    r = draft.request
    admission = None
    if r.pilot_id is not None:
        attempt = Attempt(
            r.source_asset,
            r.source_amount,
            corridor(debtor_agent.jurisdiction, creditor_agent.jurisdiction),
            sandbox.customer_digest(r.debtor_agent, r.debtor.account, r.debtor_wallet),
            at.astimezone(UTC).date(),
        )
        checked = sandbox.check_payment_in(conn, r.pilot_id, r.debtor_agent, attempt, r.uetr, at)
        if isinstance(checked, Breach):
            raise Rejected(Reason.AG01, f"pilot boundary {checked.boundary}: {checked.detail}")
        admission = checked
    _settle(conn, draft, debtor_agent, creditor_agent)
    if admission is not None:
        sandbox.record_settled_in(conn, admission, r.uetr, at)


def _settle(conn: Connection, draft: Draft, debtor_agent: Participant, creditor_agent: Participant) -> None:
    r = draft.request
    payer = wallet_account(r.debtor_wallet) if r.debtor_wallet else settlement_account(debtor_agent.id, r.source_asset)
    payee = (
        wallet_account(r.creditor_wallet)
        if r.creditor_wallet
        else settlement_account(creditor_agent.id, r.target_asset)
    )
    if r.cross_border:
        assert draft.provider is not None
        legs = [
            Transfer(
                transfer_id(r.uetr, 1),
                payer,
                settlement_account(draft.provider, r.source_asset),
                r.source_amount,
                r.source_asset,
                CODE_PAYMENT,
                reference=r.uetr,
            ),
            Transfer(
                transfer_id(r.uetr, 2),
                settlement_account(draft.provider, r.target_asset),
                payee,
                draft.target_amount,
                r.target_asset,
                CODE_PAYMENT,
                reference=r.uetr,
            ),
        ]
    else:
        legs = [
            Transfer(
                transfer_id(r.uetr, 1),
                payer,
                payee,
                r.source_amount,
                r.source_asset,
                CODE_PAYMENT,
                reference=r.uetr,
            )
        ]
    try:
        move(conn, legs, "settlement")
    except Refused as refused:
        raise Rejected(Reason(refused.reason), refused.detail) from refused
    via = f" via {draft.provider} at {draft.rate}" if r.cross_border else ""
    draft.step(Status.SETTLED, f"settled: {', '.join(t.id for t in legs)}{via}")


# -- review of held payments ----------------------------------------------------------------------------------


def review(db: Database, uetr: str, release: bool, reason: str, reviewer: str, now: datetime | None = None) -> Payment:
    """A regulator or operator decides on a payment held by screening: release settles it, reject refuses it
    (RR04). Both are recorded with the reviewer and the reason."""
    if not reason.strip():
        raise InvalidInput([FieldError("reason", "a review decision needs its reason", "required")])
    at = now or now_utc()
    with db.transaction() as conn:
        journal.lock_in(conn)
        payment = store.get_payment(conn, uetr)
        if payment is None:
            raise NotFound(f"no payment with UETR {uetr!r}")
        if payment.status is not Status.HELD:
            raise Conflict(f"payment {uetr} is {payment.status.value}, not held for review")
        agents = store.participants_by_id(conn, [payment.request.debtor_agent, payment.request.creditor_agent])
        draft = Draft(payment.request, at, reviewer, [])
        draft.target_amount, draft.rate, draft.fees, draft.provider = (
            payment.target_amount,
            payment.rate,
            payment.fees,
            payment.fx_provider_id,
        )
        try:
            if not release:
                raise Rejected(Reason.RR04, f"rejected on review by {reviewer}: {reason}")
            draft.step(Status.SCREENED, f"released on review by {reviewer}: {reason}", actor=reviewer)
            _settle_within_pilot(
                conn, draft, agents[payment.request.debtor_agent], agents[payment.request.creditor_agent], at
            )
        except Rejected as rejected:
            draft.step(Status.REJECTED, rejected.detail, rejected.reason, actor=reviewer)
            if payment.request.quote_id:  # a refused payment does not use up its quote
                fx_store.release_quote(conn, payment.request.quote_id, uetr)
        last = draft.history[-1]
        if not store.update_payment(
            conn,
            uetr,
            last.status,
            last.reason,
            last.detail if last.status is Status.REJECTED else None,
            at if last.status is Status.SETTLED else None,
            expected=Status.HELD,
        ):
            raise Conflict(f"payment {uetr} was decided concurrently")
        first_seq = store.decision_count(conn, uetr)
        store.insert_decisions(conn, uetr, first_seq, draft.history)
        updated = store.get_payment(conn, uetr)
        assert updated is not None
        salt = store.journal_salt(conn, uetr)
        if salt is None:  # a payment from before the journal existed: it gets its salt with its first leaf
            salt = journal_leaf.new_salt()
            store.set_journal_salt(conn, uetr, salt)
        journal.append_in(conn, journal_leaf.decision_entries(updated, salt, first_seq, draft.history))
    return updated


# -- reads ----------------------------------------------------------------------------------------------------


def get_payment(db: Database, uetr: str, viewer_org: str | None = None) -> Payment:
    """A payment with its decisions; a participant sees only payments it sends or receives."""
    with db.read() as conn:
        payment = store.get_payment(conn, uetr) if len(uetr) <= 36 else None
    if payment is None or (
        viewer_org is not None and viewer_org not in (payment.request.debtor_agent, payment.request.creditor_agent)
    ):
        raise NotFound(f"no payment with UETR {uetr!r}")
    return payment


def list_payments(
    db: Database, viewer_org: str | None, status: Status | None, cursor: str | None, limit: int
) -> Page[Payment]:
    before = None
    if cursor:
        raw = decode_cursor(cursor)
        stamp, _, uetr = raw.partition("|")
        try:
            before = (datetime.fromisoformat(stamp), uetr)
        except ValueError:
            before = None
        if before is None or before[0].tzinfo is None or encode_cursor(raw) != cursor:
            raise InvalidInput([FieldError("cursor", "not a cursor this server issued", "format")])
    with db.read() as conn:
        rows = store.list_payments(conn, viewer_org, status, before, limit + 1)
    items = rows[:limit]
    more = len(rows) > limit and items
    last = items[-1] if items else None
    return Page(items, encode_cursor(f"{last.created_at.isoformat()}|{last.uetr}") if more and last else None)
