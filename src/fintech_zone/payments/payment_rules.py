"""The rules a payment must pass before screening and settlement, each failing with its ISO 20022 reason.

Split from ``payment_service`` (which receives, screens and settles): the assets, the agents, the parties'
accounts, the FX quote, the participant and corridor limits and the wallets' tier limits. Each rule reads what it
needs in the payment's own transaction; the first that fails rejects the payment (``Rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection

from fintech_zone.ledger import service as ledger
from fintech_zone.payments import agent_cache, fx_store, limits_store, store
from fintech_zone.payments.model import (
    ACCOUNT_ID,
    SETTLEMENT_ASSETS,
    Decision,
    Participant,
    ParticipantRole,
    Payment,
    PaymentRequest,
    Quote,
    Reason,
    Status,
    corridor,
)
from fintech_zone.payments.wallets import wallet_account

SYSTEM = "rails"  # the actor of automatic decisions


@dataclass
class Draft:
    """A payment being decided: its steps so far, and what it will record."""

    request: PaymentRequest
    at: datetime
    actor: str
    history: list[Decision]
    target_amount: int = 0
    rate: Decimal | None = None
    fees: int = 0
    provider: str | None = None

    def step(self, status: Status, detail: str, reason: Reason | None = None, actor: str = SYSTEM) -> None:
        self.history.append(Decision(status, reason, detail, self.at, actor))

    def payment(self) -> Payment:
        last = self.history[-1]
        return Payment(
            request=self.request,
            status=last.status,
            reason=last.reason,
            reason_detail=last.detail if last.status is Status.REJECTED or last.status is Status.HELD else None,
            target_amount=self.target_amount,
            rate=self.rate,
            fees=self.fees,
            fx_provider_id=self.provider,
            created_at=self.at,
            settled_at=self.at if last.status is Status.SETTLED else None,
            history=list(self.history),
        )


class Rejected(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def check_rules(
    conn: Connection, draft: Draft, debtor_agent: Participant, creditor_agent: Participant, at: datetime
) -> Quote | None:
    """Every rule before screening; the first that fails rejects the payment with its reason."""
    r = draft.request
    for asset in (r.source_asset, r.target_asset):
        if asset not in SETTLEMENT_ASSETS:
            raise Rejected(Reason.AM11, f"{asset} is not settled on the rails ({', '.join(SETTLEMENT_ASSETS)} are)")
    if debtor_agent.demo != creditor_agent.demo:
        raise Rejected(Reason.AG01, "demo and real participants never pay each other")
    for agent in (debtor_agent, creditor_agent):
        # FX providers may be agents too: that is how they fund (and return) their liquidity in each token.
        if agent.role is ParticipantRole.CENTRAL_BANK:
            raise Rejected(Reason.AG01, f"{agent.id} is a central bank: it issues and redeems, it does not pay")
    for side, party in (("debtor", r.debtor), ("creditor", r.creditor)):
        if not ACCOUNT_ID.match(party.account):
            raise Rejected(Reason.AC01, f"the {side}'s account {party.account!r} is not an account identifier")
    quote = None
    if r.cross_border:
        quote = _usable_quote(conn, r, at)
        draft.target_amount, draft.rate, draft.fees, draft.provider = (
            quote.target_amount,
            quote.rate,
            quote.fees,
            quote.provider_id,
        )
    else:
        if r.quote_id is not None:
            raise Rejected(Reason.NARR, "a quote is for cross-border payments; this one stays in one asset")
        draft.target_amount = r.source_amount
    _check_limits(conn, r, corridor(debtor_agent.jurisdiction, creditor_agent.jurisdiction), at)
    if r.debtor_wallet or r.creditor_wallet:
        _check_wallets(conn, draft, at)
    return quote


def _check_wallets(conn: Connection, draft: Draft, at: datetime) -> None:
    """A wallet pays within its tier's per-payment and daily limits, and is paid only up to its tier's balance."""
    r = draft.request
    found = store.wallets_by_id(conn, [w for w in (r.debtor_wallet, r.creditor_wallet) if w])
    for side, wallet_id, agent, asset in (
        ("debtor", r.debtor_wallet, r.debtor_agent, r.source_asset),
        ("creditor", r.creditor_wallet, r.creditor_agent, r.target_asset),
    ):
        wallet = found.get(wallet_id) if wallet_id else None
        if wallet_id and (wallet is None or wallet.bank_id != agent or wallet.asset != asset):
            raise Rejected(Reason.AC01, f"the {side}'s wallet {wallet_id} is not a {asset} wallet at {agent}")
    if r.debtor_wallet:
        payer = found[r.debtor_wallet]
        limits = payer.limits
        if limits.per_payment is not None and r.source_amount > limits.per_payment:
            raise Rejected(
                Reason.AM02, f"wallet {payer.id} (tier {payer.tier}) pays at most {limits.per_payment} at a time"
            )
        if limits.daily is not None:
            today = store.sent_since(conn, "debtor_wallet", payer.id, r.source_asset, day_start(at))
            if today + r.source_amount > limits.daily:
                raise Rejected(
                    Reason.AM02,
                    f"wallet {payer.id} (tier {payer.tier}) has paid {today} today; {r.source_amount} more is above "
                    f"its daily limit of {limits.daily}",
                )
    if r.creditor_wallet:
        payee = found[r.creditor_wallet]
        cap = payee.limits.balance
        account = ledger.accounts_in(conn, [wallet_account(payee.id)]).get(wallet_account(payee.id))
        held = account.credits_posted - account.debits_posted if account else 0
        if cap is not None and held + draft.target_amount > cap:
            raise Rejected(
                Reason.AM02, f"wallet {payee.id} (tier {payee.tier}) may hold at most {cap}; it holds {held}"
            )


def _usable_quote(conn: Connection, r: PaymentRequest, at: datetime) -> Quote:
    if r.quote_id is None:
        raise Rejected(Reason.NARR, "a cross-border payment needs an FX quote (quote_id)")
    quote = fx_store.get_quote(conn, r.quote_id) if len(r.quote_id) <= 36 else None
    if quote is None:
        raise Rejected(Reason.NARR, f"unknown quote {r.quote_id}")
    provider = agent_cache.participants(conn, [quote.provider_id]).get(quote.provider_id)
    if provider is None or provider.demo != r.demo:
        raise Rejected(Reason.AG01, f"quote {quote.id} is from a {'real' if r.demo else 'demo'} FX provider")
    if quote.consumed_by is not None:
        raise Rejected(Reason.NARR, f"quote {quote.id} was used by another payment")
    if quote.expires_at <= at:
        raise Rejected(Reason.NARR, f"quote {quote.id} expired at {quote.expires_at.isoformat()}")
    if (quote.source_asset, quote.target_asset, quote.source_amount) != (
        r.source_asset,
        r.target_asset,
        r.source_amount,
    ):
        raise Rejected(
            Reason.NARR,
            f"quote {quote.id} is for {quote.source_amount} {quote.source_asset} → {quote.target_asset}, not "
            f"{r.source_amount} {r.source_asset} → {r.target_asset}",
        )
    return quote


def day_start(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def _check_limits(conn: Connection, r: PaymentRequest, corridor_key: str, at: datetime) -> None:
    columns = {"participant": "debtor_agent", "corridor": "corridor"}
    for limit in limits_store.limits_for(
        conn, [("participant", r.debtor_agent), ("corridor", corridor_key)], r.source_asset
    ):
        who = f"{limit.scope} {limit.key}"
        if limit.per_payment is not None and r.source_amount > limit.per_payment:
            raise Rejected(
                Reason.AM02, f"{r.source_amount} {r.source_asset} is above {who}'s limit of {limit.per_payment}"
            )
        if limit.daily is not None:
            today = store.sent_since(conn, columns[limit.scope], limit.key, r.source_asset, day_start(at))
            if today + r.source_amount > limit.daily:
                raise Rejected(
                    Reason.AM02,
                    f"{who} has sent {today} {r.source_asset} today; {r.source_amount} more is above its daily "
                    f"limit of {limit.daily}",
                )
