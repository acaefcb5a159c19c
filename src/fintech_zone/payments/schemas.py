"""Pydantic shapes of the rails' API. Amounts are JSON integers in minor units; rates are decimal strings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt, StrictStr

from fintech_zone.payments.figures import CnyShare, MonthFigures
from fintech_zone.payments.model import (
    MAX_AMOUNT,
    Decision,
    Limit,
    Participant,
    Party,
    Payment,
    PaymentRequest,
    Quote,
    Rate,
)
from fintech_zone.payments.service import Holding, IssuanceRecord, JoinRequest, Supply
from fintech_zone.payments.wallet_service import WalletView
from fintech_zone.web.schemas import Strict

Amount = StrictInt


class ParticipantIn(Strict):
    id: str = Field(max_length=64, examples=["cn-cq-bank"])
    bic: str = Field(max_length=11, examples=["CQCBCN22XXX"])
    role: str = Field(max_length=16, examples=["bank"], description="central_bank, bank or fx_provider")
    jurisdiction: str = Field(max_length=2, examples=["CN"])
    name_en: str = Field(max_length=300)
    name_zh: str = Field(max_length=300)
    demo: bool = Field(default=False, description="a DEMO participant: deals only with other demo participants")

    def to_request(self) -> JoinRequest:
        return JoinRequest(self.id, self.bic, self.role, self.jurisdiction, self.name_en, self.name_zh, self.demo)


class ParticipantOut(BaseModel):
    id: str
    bic: str
    role: str
    jurisdiction: str
    issuance_cap: int | None
    joined_at: datetime | None
    demo: bool

    @classmethod
    def of(cls, p: Participant) -> ParticipantOut:
        return cls(
            id=p.id,
            bic=p.bic,
            role=p.role.value,
            jurisdiction=p.jurisdiction,
            issuance_cap=p.issuance_cap,
            joined_at=p.joined_at,
            demo=p.demo,
        )


class HoldingOut(BaseModel):
    account_id: str
    asset: str
    balance: int
    pending_out: int

    @classmethod
    def of(cls, h: Holding) -> HoldingOut:
        return cls(account_id=h.account_id, asset=h.asset, balance=h.balance, pending_out=h.pending_out)


class TokenOperationIn(Strict):
    participant_id: str = Field(max_length=64, description="the domestic bank")
    asset: str = Field(max_length=16, examples=["CNY"])
    amount: Amount = Field(ge=-MAX_AMOUNT, le=2**64, description="minor units, > 0")


class CapIn(Strict):
    participant_id: str = Field(max_length=64)
    asset: str = Field(max_length=16)
    cap: Amount = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="most tokens outstanding to the bank")


class IssuanceOut(BaseModel):
    id: str
    kind: str
    central_bank_id: str
    participant_id: str
    asset: str
    amount: int
    outstanding: int = Field(description="issued − redeemed to this bank")
    supply: int = Field(description="issued − redeemed to every bank")

    @classmethod
    def of(cls, r: IssuanceRecord) -> IssuanceOut:
        return cls(
            id=r.id,
            kind=r.kind,
            central_bank_id=r.central_bank_id,
            participant_id=r.bank_id,
            asset=r.asset,
            amount=r.amount,
            outstanding=r.outstanding,
            supply=r.supply,
        )


class SupplyOut(BaseModel):
    asset: str
    issued_minus_redeemed: int
    on_ledger: int
    held: int

    @classmethod
    def of(cls, s: Supply) -> SupplyOut:
        return cls(asset=s.asset, issued_minus_redeemed=s.issued_minus_redeemed, on_ledger=s.on_ledger, held=s.held)


class RateIn(Strict):
    provider_id: str = Field(max_length=64)
    pair: str = Field(max_length=16, examples=["CNY/SGD"])
    rate: StrictStr = Field(max_length=40, examples=["0.1852"], description="quote currency per unit of base")
    spread_bps: StrictInt = Field(ge=-(2**31), le=2**31, examples=[25])
    valid_seconds: StrictInt = Field(ge=-(2**31), le=2**31, examples=[3600])


class RateOut(BaseModel):
    provider_id: str
    pair: str
    rate: str
    spread_bps: int
    posted_at: datetime
    valid_until: datetime

    @classmethod
    def of(cls, r: Rate) -> RateOut:
        return cls(
            provider_id=r.provider_id,
            pair=str(r.pair),
            rate=str(r.rate),
            spread_bps=r.spread_bps,
            posted_at=r.posted_at,
            valid_until=r.valid_until,
        )


class QuoteIn(Strict):
    source_asset: str = Field(max_length=16, examples=["CNY"])
    target_asset: str = Field(max_length=16, examples=["SGD"])
    source_amount: Amount | None = Field(default=None, ge=-MAX_AMOUNT, le=2**64)
    target_amount: Amount | None = Field(default=None, ge=-MAX_AMOUNT, le=2**64)


class QuoteOut(BaseModel):
    id: str
    provider_id: str
    source_asset: str
    target_asset: str
    source_amount: int
    target_amount: int
    rate: str = Field(description="target units per source unit, spread included")
    fees: int = Field(description="source minor units given up against the mid rate (spread, rounding); in `rate`")
    expires_at: datetime
    consumed_by: str | None

    @classmethod
    def of(cls, q: Quote) -> QuoteOut:
        return cls(
            id=q.id,
            provider_id=q.provider_id,
            source_asset=q.source_asset,
            target_asset=q.target_asset,
            source_amount=q.source_amount,
            target_amount=q.target_amount,
            rate=str(q.rate.normalize()),
            fees=q.fees,
            expires_at=q.expires_at,
            consumed_by=q.consumed_by,
        )


class PartyIO(Strict):
    name: str = Field(max_length=300)
    account: str = Field(max_length=64)


class PaymentIn(Strict):
    uetr: str = Field(max_length=64, description="UUID v4: the payment's idempotency key")
    debtor_agent: str = Field(max_length=64)
    creditor_agent: str = Field(max_length=64)
    debtor: PartyIO
    creditor: PartyIO
    source_asset: str = Field(max_length=16)
    source_amount: Amount = Field(ge=-MAX_AMOUNT, le=2**64)
    target_asset: str = Field(max_length=16)
    quote_id: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=16)
    remittance_info: str | None = Field(default=None, max_length=300)
    pilot_id: str | None = Field(
        default=None, max_length=64, description="a sandbox pilot's payment: settles only within its boundaries"
    )

    def to_request(self) -> PaymentRequest:
        return PaymentRequest(
            uetr=self.uetr,
            debtor_agent=self.debtor_agent,
            creditor_agent=self.creditor_agent,
            debtor=Party(self.debtor.name, self.debtor.account),
            creditor=Party(self.creditor.name, self.creditor.account),
            source_asset=self.source_asset,
            source_amount=self.source_amount,
            target_asset=self.target_asset,
            quote_id=self.quote_id,
            purpose=self.purpose,
            remittance_info=self.remittance_info,
            pilot_id=self.pilot_id,
        )


class DecisionOut(BaseModel):
    status: str
    reason: str | None
    detail: str
    at: datetime
    actor: str

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        # Built without validation (model_construct), as PaymentOut.of: the values are the model's own, typed.
        return cls.model_construct(
            status=d.status.value, reason=d.reason.value if d.reason else None, detail=d.detail, at=d.at, actor=d.actor
        )


class PaymentOut(BaseModel):
    uetr: str
    status: str
    reason: str | None = Field(description="ISO 20022 ExternalStatusReason code when rejected")
    reason_detail: str | None
    debtor_agent: str
    creditor_agent: str
    debtor: PartyIO
    creditor: PartyIO
    source_asset: str
    source_amount: int
    target_asset: str
    target_amount: int
    rate: str | None
    fees: int
    fx_provider_id: str | None
    quote_id: str | None
    purpose: str | None
    remittance_info: str | None
    demo: bool = Field(description="between DEMO participants: synthetic traffic (fintech-zone simulate payments)")
    pilot_id: str | None = None
    created_at: datetime
    settled_at: datetime | None
    history: list[DecisionOut]

    @classmethod
    def of(cls, p: Payment) -> PaymentOut:
        # Without validation (model_construct): every value comes typed from the payment as recorded, and validating
        # them again cost a tenth of a payment request's time on the event loop (docs/benchmarks.md, Payment rails).
        # tests/payments/test_payments_api.py holds this JSON equal to the validated model's.
        r = p.request
        return cls.model_construct(
            uetr=r.uetr,
            status=p.status.value,
            reason=p.reason.value if p.reason else None,
            reason_detail=p.reason_detail,
            debtor_agent=r.debtor_agent,
            creditor_agent=r.creditor_agent,
            debtor=PartyIO.model_construct(name=r.debtor.name, account=r.debtor.account),
            creditor=PartyIO.model_construct(name=r.creditor.name, account=r.creditor.account),
            source_asset=r.source_asset,
            source_amount=r.source_amount,
            target_asset=r.target_asset,
            target_amount=p.target_amount,
            rate=str(p.rate.normalize()) if p.rate is not None else None,
            fees=p.fees,
            fx_provider_id=p.fx_provider_id,
            quote_id=r.quote_id,
            purpose=r.purpose,
            remittance_info=r.remittance_info,
            demo=r.demo,
            pilot_id=r.pilot_id,
            created_at=p.created_at,
            settled_at=p.settled_at,
            history=[DecisionOut.of(d) for d in p.history],
        )


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None


class ReviewIn(Strict):
    decision: str = Field(pattern="^(release|reject)$")
    reason: str = Field(min_length=1, max_length=400)


class LimitIO(Strict):
    scope: str = Field(pattern="^(participant|corridor)$")
    key: str = Field(max_length=40, examples=["CN-SG"])
    asset: str = Field(max_length=16)
    per_payment: Amount | None = Field(default=None, ge=-MAX_AMOUNT, le=2**64)
    daily: Amount | None = Field(default=None, ge=-MAX_AMOUNT, le=2**64)

    def to_model(self) -> Limit:
        return Limit(self.scope, self.key, self.asset, self.per_payment, self.daily)

    @classmethod
    def of(cls, x: Limit) -> LimitIO:
        return cls(scope=x.scope, key=x.key, asset=x.asset, per_payment=x.per_payment, daily=x.daily)


class MonthFiguresOut(BaseModel):
    month: str
    corridor: str
    asset: str
    demo: bool
    count: int
    volume: int

    @classmethod
    def of(cls, m: MonthFigures) -> MonthFiguresOut:
        return cls(month=m.month, corridor=m.corridor, asset=m.asset, demo=m.demo, count=m.count, volume=m.volume)


class CnyShareOut(BaseModel):
    month: str
    demo: bool
    cross_border_cny_volume: int
    cny_denominated_volume: int
    share: float | None

    @classmethod
    def of(cls, c: CnyShare) -> CnyShareOut:
        return cls(
            month=c.month,
            demo=c.demo,
            cross_border_cny_volume=c.cross_border_cny_volume,
            cny_denominated_volume=c.cny_denominated_volume,
            share=c.share,
        )


class RmbFiguresOut(BaseModel):
    months: list[MonthFiguresOut]
    cny_share: list[CnyShareOut]
    note: str


class WalletIn(Strict):
    id: str = Field(max_length=64, examples=["visitor-li"])
    bank_id: str = Field(max_length=64, examples=["cq-bank"])
    holder_name: str = Field(max_length=300, examples=["Li Ming"])
    kind: str = Field(max_length=16, examples=["person"], description="person or merchant")
    tier: StrictInt = Field(ge=-(2**31), le=2**31, examples=[3], description="1 (identity checked) to 4 (phone only)")


class LimitsOut(BaseModel):
    balance: int | None
    per_payment: int | None
    daily: int | None


class WalletOut(BaseModel):
    id: str
    bank_id: str
    holder_name: str
    kind: str
    tier: int
    asset: str
    balance: int
    paid_today: int
    limits: LimitsOut
    created_at: datetime

    @classmethod
    def of(cls, v: WalletView) -> WalletOut:
        w = v.wallet
        return cls(
            id=w.id,
            bank_id=w.bank_id,
            holder_name=w.holder_name,
            kind=w.kind.value,
            tier=w.tier,
            asset=w.asset,
            balance=v.balance,
            paid_today=v.paid_today,
            limits=LimitsOut(balance=v.limits.balance, per_payment=v.limits.per_payment, daily=v.limits.daily),
            created_at=w.created_at,
        )


class AmountIn(Strict):
    amount: Amount = Field(ge=-MAX_AMOUNT, le=2**64, description="minor units, > 0")


class WalletPaymentIn(Strict):
    uetr: str = Field(max_length=64, description="UUID v4: the payment's idempotency key")
    to_wallet: str = Field(max_length=64)
    source_amount: Amount = Field(ge=-MAX_AMOUNT, le=2**64, description="in the paying wallet's currency")
    quote_id: str | None = Field(default=None, max_length=64, description="when the wallets' currencies differ")
    remittance_info: str | None = Field(default=None, max_length=300)
