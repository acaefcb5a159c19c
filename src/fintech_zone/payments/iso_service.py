"""ISO 20022 at the rails' edge: a pacs.008 becomes payments and a pacs.002 answers it; camt.053 statements.

A pacs.008 that cannot be read, or breaks the schema, is answered with a pacs.002 RJCT FF01 naming where (HTTP
400). A readable one is mapped transaction by transaction to the same payment pipeline as the JSON API, so it
meets the same rules, screening and PvP settlement, and each transaction's outcome becomes its status: ACSC when
settled, PDNG when held for review, RJCT with the ISO reason otherwise (a currency the rails do not settle is
such a RJCT, not an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fintech_zone.db import Database
from fintech_zone.errors import FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.ledger import service as ledger
from fintech_zone.payments import camt053, fx_service, iso20022, pacs002, pacs008, payment_service, store
from fintech_zone.payments.iso20022 import CreditDebit, CreditTransfer, MessageRejected, PaymentStatus
from fintech_zone.payments.model import (
    SETTLEMENT_ASSETS,
    Participant,
    Party,
    Payment,
    PaymentRequest,
    Status,
    check_payment_request,
    check_uetr,
)
from fintech_zone.payments.payment_service import DuplicateUetr, PartyScreener
from fintech_zone.payments.service import now_utc

STATUS_OF = {Status.SETTLED: PaymentStatus.ACSC, Status.HELD: PaymentStatus.PDNG}
NS = 1_000_000_000


@dataclass(frozen=True)
class Answer:
    http_status: int
    document: bytes


def receive_pacs008(db: Database, body: bytes, screener: PartyScreener, actor_org: str | None) -> Answer:
    now = now_utc()
    try:
        message = pacs008.parse_pacs008(body)
    except MessageRejected as refused:
        status = 400 if refused.reason == "FF01" else 200
        return Answer(status, pacs002.rejection(refused, msg_id=pacs002.new_message_id(), created=now))
    with db.read() as conn:
        bics = {bic for tx in message.transactions for bic in (tx.debtor_agent, tx.creditor_agent) if bic}
        by_bic = {p.bic: p for p in store.list_participants(conn) if p.bic in bics}
    for tx in message.transactions:
        sender = by_bic.get(tx.debtor_agent or "")
        if actor_org is not None and (sender is None or sender.id != actor_org):
            raise Forbidden(f"a participant sends pacs.008 only as the debtor agent; {tx.debtor_agent} is not it")
    statuses = [_transaction(db, tx, by_bic, screener, actor_org) for tx in message.transactions]
    document = pacs002.pacs002(
        msg_id=pacs002.new_message_id(),
        created=now,
        original_msg_id=message.msg_id,
        original_created=message.created,
        transactions=statuses,
    )
    return Answer(200, document)


def _transaction(
    db: Database,
    tx: CreditTransfer,
    by_bic: dict[str, Participant],
    screener: PartyScreener,
    actor_org: str | None,
) -> pacs002.TransactionStatus:
    def rejected(reason: str, detail: str) -> pacs002.TransactionStatus:
        return pacs002.TransactionStatus.of(tx, PaymentStatus.RJCT, reason, detail)

    debtor_agent, creditor_agent = by_bic.get(tx.debtor_agent or ""), by_bic.get(tx.creditor_agent or "")
    if debtor_agent is None or creditor_agent is None:
        unknown = tx.debtor_agent if debtor_agent is None else tx.creditor_agent
        return rejected("RC01", f"agent {unknown} is not a participant of the rails")
    target = tx.currency
    source = tx.instructed_currency or target
    for currency in (source, target):
        if currency not in SETTLEMENT_ASSETS:
            return rejected("AM11", f"{currency} is not settled on the rails ({', '.join(SETTLEMENT_ASSETS)} are)")
    if not tx.debtor_name:
        return rejected("RR02", "the debtor's name is missing")
    if not tx.creditor_name:
        return rejected("RR03", "the creditor's name is missing")
    if not tx.debtor_account:
        return rejected("RR01", "the debtor's account is missing")
    if not tx.creditor_account:
        return rejected("AC01", "the creditor's account is missing")
    with db.read() as conn:
        existing = store.get_payment(conn, tx.uetr) if len(tx.uetr) <= 36 else None
    if existing is not None:
        # A re-sent message: its quote was taken at first receipt, so compare what the message itself says.
        r = existing.request
        same = (r.debtor_agent, r.creditor_agent, r.debtor, r.creditor, r.source_asset, r.target_asset) == (
            debtor_agent.id,
            creditor_agent.id,
            Party(tx.debtor_name, tx.debtor_account),
            Party(tx.creditor_name, tx.creditor_account),
            source,
            target,
        ) and existing.target_amount == tx.amount_minor
        if not same:
            return rejected("DUPL", f"UETR {tx.uetr} already identifies a different payment")
        return _status(tx, existing)
    quote_id, source_amount = None, tx.amount_minor
    if source != target:
        # The settlement amount is what the creditor agent gets; the rails' best quote says what it costs in the
        # instructed currency, which must not exceed what the debtor instructed.
        try:
            quote = fx_service.create_quote(db, source, target, None, tx.amount_minor, demo=debtor_agent.demo)
        except (NotFound, InvalidInput) as exc:
            return rejected("NARR", f"no FX quote for {source}→{target}: {exc.detail}")
        if tx.instructed_amount is not None:
            instructed = iso20022.to_minor_units(tx.instructed_amount, source)
            if quote.source_amount > instructed:
                return rejected(
                    "NARR",
                    f"{tx.amount_minor} {target} now costs {quote.source_amount} {source}; {instructed} instructed",
                )
        quote_id, source_amount = quote.id, quote.source_amount
    try:
        request = to_request(tx, debtor_agent.id, creditor_agent.id, source, source_amount, quote_id)
        payment, _ = payment_service.submit(db, request, screener, actor_org)
    except DuplicateUetr as dup:
        return rejected("DUPL", dup.detail)
    except InvalidInput as bad:
        return rejected("FF01", bad.detail)
    return _status(tx, payment)


def to_request(
    tx: CreditTransfer, debtor_agent: str, creditor_agent: str, source: str, source_amount: int, quote_id: str | None
) -> PaymentRequest:
    """The payment a pacs.008 transaction asks for, its agents found by BIC and its source amount known."""
    request = PaymentRequest(
        uetr=tx.uetr,
        debtor_agent=debtor_agent,
        creditor_agent=creditor_agent,
        debtor=Party(tx.debtor_name or "", tx.debtor_account or ""),
        creditor=Party(tx.creditor_name or "", tx.creditor_account or ""),
        source_asset=source,
        source_amount=source_amount,
        target_asset=tx.currency,
        quote_id=quote_id,
        purpose=tx.purpose if tx.purpose and len(tx.purpose) <= 4 else None,
        remittance_info=(tx.remittance or "")[:140] or None,
    )
    check_payment_request(request)
    return request


def _status(tx: CreditTransfer, payment: Payment) -> pacs002.TransactionStatus:
    if payment.status in STATUS_OF:
        return pacs002.TransactionStatus.of(tx, STATUS_OF[payment.status], None, payment.reason_detail or "")
    reason = payment.reason.value if payment.reason else "NARR"
    return pacs002.TransactionStatus.of(tx, PaymentStatus.RJCT, reason, payment.reason_detail or "")


# -- camt.053 -------------------------------------------------------------------------------------------------

MAX_STATEMENT_ENTRIES = 10_000
PAGE = 1_000


def statement(db: Database, account_id: str, start: datetime, end: datetime, viewer_org: str | None) -> bytes:
    """The account's booked entries over [start, end) with its opening and closing balances, as camt.053.

    Opening = today's balance less every entry since ``start``, so any account can have a statement, not only
    those that keep balance history.
    """
    if end <= start:
        raise InvalidInput([FieldError("to", "must be after from", "range")])
    account = ledger.get_account(db, account_id)
    if viewer_org is not None and account.owner_id != viewer_org:
        raise NotFound(f"no account with id {account_id!r}")
    assets = {a.code: a for a in ledger.list_assets(db)}
    currency = assets[account.ledger].currency
    start_ns, end_ns = int(start.timestamp()) * NS, int(end.timestamp()) * NS
    entries: list[camt053.StatementEntry] = []
    since_start, after = 0, start_ns - 1
    while True:
        page = ledger.account_transfers_after(db, account_id, after, PAGE)
        for t in page:
            signed = t.amount if t.credit_account_id == account_id else -t.amount
            since_start += signed
            if t.timestamp < end_ns:
                if len(entries) == MAX_STATEMENT_ENTRIES:
                    raise InvalidInput(
                        [FieldError("to", f"more than {MAX_STATEMENT_ENTRIES} entries: ask for a shorter period")]
                    )
                entries.append(_entry(t.reference, signed, t.timestamp))
        if len(page) < PAGE:
            break
        after = page[-1].timestamp
    balance = account.credits_posted - account.debits_posted
    opening = balance - since_start
    closing = opening + sum(e.amount_minor if e.credit_debit is CreditDebit.CRDT else -e.amount_minor for e in entries)
    enriched = _with_payments(db, entries, account_id)
    with db.read() as conn:
        owner = store.get_participant(conn, account.owner_id) if account.owner_id else None
    now = now_utc()
    return camt053.camt053(
        camt053.Statement(
            statement_id=pacs002.new_message_id(),
            account_id=account_id,
            currency=currency,
            owner_name=owner.id if owner else (account.owner_id or account_id),
            servicer_bic=owner.bic if owner else "FZRLCNCQXXX",
            from_time=start,
            to_time=end,
            created=now,
            opening_minor=opening,
            closing_minor=closing,
            entries=tuple(enriched),
        )
    )


def _entry(reference: str | None, signed: int, timestamp: int) -> camt053.StatementEntry:
    return camt053.StatementEntry(
        amount_minor=abs(signed),
        credit_debit=CreditDebit.CRDT if signed > 0 else CreditDebit.DBIT,
        booked=datetime.fromtimestamp(timestamp / NS, tz=now_utc().tzinfo),
        account_servicer_ref=str(timestamp),  # the ledger's timestamp: unique, and fits Max35Text (ids may not)
        uetr=reference if reference and _is_uetr(reference) else None,
    )


def _is_uetr(value: str) -> bool:
    try:
        check_uetr(value)
    except InvalidInput:
        return False
    return True


def _with_payments(
    db: Database, entries: list[camt053.StatementEntry], account_id: str
) -> list[camt053.StatementEntry]:
    """Entries of payment legs get the payment's end-to-end reference, counterparty and remittance."""
    uetrs = [e.uetr for e in entries if e.uetr]
    with db.read() as conn:
        payments = store.payments_by_uetr(conn, uetrs)
    out = []
    for e in entries:
        p = payments.get(e.uetr) if e.uetr else None
        if p is None:
            out.append(e)
            continue
        counterparty = p.request.debtor.name if e.credit_debit is CreditDebit.CRDT else p.request.creditor.name
        out.append(
            camt053.StatementEntry(
                amount_minor=e.amount_minor,
                credit_debit=e.credit_debit,
                booked=e.booked,
                account_servicer_ref=e.account_servicer_ref,
                end_to_end_id=p.uetr[:35],
                uetr=p.uetr,
                counterparty_name=counterparty,
                remittance=p.request.remittance_info,
                cross_border=p.request.cross_border,
            )
        )
    return out
