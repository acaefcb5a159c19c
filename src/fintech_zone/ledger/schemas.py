"""Pydantic shapes of the ledger API: batches are JSON arrays of events; amounts are JSON integers."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from fintech_zone.ledger.model import Account, AccountFlag, Asset, AssetKind, NewAccount, Transfer, TransferFlag
from fintech_zone.web.schemas import Strict


class AssetIO(Strict):
    code: str = Field(min_length=2, max_length=16, examples=["CNY", "e-CNY-W"])
    kind: AssetKind
    currency: str = Field(min_length=3, max_length=3, examples=["CNY"])
    exponent: StrictInt = Field(ge=0, le=18, examples=[2])
    issuer_id: str | None = Field(default=None, max_length=64)

    def to_model(self) -> Asset:
        return Asset(self.code, self.kind, self.currency, self.exponent, self.issuer_id)

    @classmethod
    def of(cls, a: Asset) -> AssetIO:
        return cls(code=a.code, kind=a.kind, currency=a.currency, exponent=a.exponent, issuer_id=a.issuer_id)


class AccountIn(Strict):
    # Ids and amounts are checked by the engine, which answers per event (`id_invalid`, `code_must_be_positive`…);
    # only the shapes are checked here.
    id: str = Field(max_length=200)
    ledger: str = Field(max_length=16)
    code: StrictInt = Field(ge=-(2**31), le=2**31 - 1)
    flags: list[AccountFlag] = Field(default_factory=list, max_length=len(AccountFlag))
    owner_id: str | None = Field(default=None, max_length=64)

    def to_model(self) -> NewAccount:
        return NewAccount(self.id, self.ledger, self.code, frozenset(self.flags), self.owner_id)


_NO_FLAGS: frozenset[TransferFlag] = frozenset()


class TransferIn(Strict):
    id: str = Field(max_length=200)
    debit_account_id: str = Field(default="", max_length=64)
    credit_account_id: str = Field(default="", max_length=64)
    amount: StrictInt = Field(default=0, ge=-(2**64), le=2**64, description="minor units; > 0, at most 2^63-1")
    ledger: str = Field(default="", max_length=16)
    code: StrictInt = Field(default=0, ge=-(2**31), le=2**31 - 1)
    flags: list[TransferFlag] = Field(default_factory=list, max_length=len(TransferFlag))
    pending_id: str | None = Field(default=None, max_length=64)
    timeout: StrictInt = Field(default=0, ge=-(2**31), le=2**32, description="seconds, pending transfers only")
    reference: str | None = Field(default=None, max_length=140)
    user_data: StrictInt = Field(default=0, ge=0, le=2**63 - 1)

    def to_model(self) -> Transfer:
        return Transfer(
            id=self.id,
            debit_account_id=self.debit_account_id,
            credit_account_id=self.credit_account_id,
            amount=self.amount,
            ledger=self.ledger,
            code=self.code,
            flags=frozenset(self.flags) if self.flags else _NO_FLAGS,
            pending_id=self.pending_id or None,
            timeout=self.timeout,
            reference=self.reference,
            user_data=self.user_data,
        )


class EventResultOut(BaseModel):
    id: str
    result: str


class AccountOut(BaseModel):
    id: str
    ledger: str
    code: int
    owner_id: str | None
    flags: list[AccountFlag]
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    timestamp: int

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        return cls(
            id=a.id,
            ledger=a.ledger,
            code=a.code,
            owner_id=a.owner_id,
            flags=sorted(a.flags),
            debits_pending=a.debits_pending,
            debits_posted=a.debits_posted,
            credits_pending=a.credits_pending,
            credits_posted=a.credits_posted,
            timestamp=a.timestamp,
        )


class TransferOut(BaseModel):
    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: int
    flags: list[TransferFlag]
    pending_id: str | None
    timeout: int
    reference: str | None
    user_data: int
    timestamp: int

    @classmethod
    def of(cls, t: Transfer) -> TransferOut:
        return cls(
            id=t.id,
            debit_account_id=t.debit_account_id,
            credit_account_id=t.credit_account_id,
            amount=t.amount,
            ledger=t.ledger,
            code=t.code,
            flags=sorted(t.flags),
            pending_id=t.pending_id,
            timeout=t.timeout,
            reference=t.reference,
            user_data=t.user_data,
            timestamp=t.timestamp,
        )


class TransferPage(BaseModel):
    items: list[TransferOut]
    next_cursor: str | None


class BalanceOut(BaseModel):
    account_id: str
    timestamp: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
