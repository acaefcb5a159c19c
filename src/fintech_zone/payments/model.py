"""The pilot rails' domain: participants, wholesale digital currency, FX quotes and payments. Pure.

Modelled on what central banks built: in mBridge and Project Ubin each central bank alone issues and redeems its
currency's token, and only to its domestic banks, against their reserves; a cross-border payment settles
payment-versus-payment (PvP) as one linked chain — both legs or neither. FX follows BIS Nexus and Mojaloop: FX
providers post rates, a payer takes a quote with an id and an expiry, and a quote is consumed at most once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum

from fintech_zone.errors import FieldError, InvalidInput

PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")  # short enough for the ledger account ids
MAX_AMOUNT = 2**63 - 1
QUOTE_SECONDS = 600  # a quote's default life (Nexus holds quotes for 600 s)
MAX_RATE_SECONDS = 7 * 24 * 3600
RATE_DIGITS = 12  # decimal places a posted rate may carry


class ParticipantRole(StrEnum):
    CENTRAL_BANK = "central_bank"
    BANK = "bank"
    FX_PROVIDER = "fx_provider"


class Status(StrEnum):
    """A payment's life: received → screened → settled | rejected; a screening hit in the review band holds it."""

    RECEIVED = "received"
    SCREENED = "screened"
    HELD = "held"
    SETTLED = "settled"
    REJECTED = "rejected"


class Reason(StrEnum):
    """ISO 20022 ExternalStatusReason1Code values the rails answer with."""

    AC01 = "AC01"  # IncorrectAccountNumber: an account identifier that cannot be one
    AC04 = "AC04"  # ClosedAccountNumber: the agent's settlement account is closed
    AG01 = "AG01"  # TransactionForbidden: not a participant that may send or receive this
    AM02 = "AM02"  # NotAllowedAmount: above a per-payment or daily limit
    AM04 = "AM04"  # InsufficientFunds: the debtor agent's (or FX provider's) settlement balance
    AM11 = "AM11"  # InvalidTransactionCurrency: a currency the rails do not settle
    RR04 = "RR04"  # RegulatoryReason: screening
    DUPL = "DUPL"  # DuplicatePayment: a UETR already used for a different payment
    FF01 = "FF01"  # InvalidFileFormat: schema-invalid message
    NARR = "NARR"  # Narrative: the reason is in the text (an unknown, expired or already used quote)


# The central bank that alone issues and redeems each currency's token, by jurisdiction.
CURRENCY_OF_JURISDICTION = {"CN": "CNY", "SG": "SGD"}
SETTLEMENT_ASSETS = tuple(CURRENCY_OF_JURISDICTION.values())  # the wholesale tokens payments settle in


def reserve_asset(currency: str) -> str:
    """The central-bank reserve money a bank holds in a currency (its RTGS balance), the backing of its tokens."""
    return f"{currency}-RSV"


def settlement_account(participant_id: str, asset: str) -> str:
    return f"pay:{participant_id}:{asset}"


def issuance_account(central_bank_id: str, asset: str) -> str:
    """The central bank's side of every issuance: its balance is minus the supply of the token."""
    return f"pay:{central_bank_id}:{asset}:issued"


def transfer_id(uetr: str, leg: int) -> str:
    return f"pay:{uetr}:{leg}"


@dataclass(frozen=True)
class Participant:
    id: str
    bic: str
    role: ParticipantRole
    jurisdiction: str
    issuance_cap: int | None = None  # set by the central bank for its domestic banks; None: none issued yet
    joined_at: datetime | None = None
    # A DEMO participant (fintech-zone simulate payments): it deals only with other demo participants, so
    # synthetic traffic never moves a real participant's money, and everything it does is labelled demo.
    demo: bool = False

    @property
    def home_currency(self) -> str | None:
        return CURRENCY_OF_JURISDICTION.get(self.jurisdiction)


def check_participant_id(value: str) -> None:
    if not PARTICIPANT_ID.match(value):
        raise InvalidInput(
            [FieldError("id", "1-40 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
        )


def check_amount(name: str, amount: int) -> None:
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput([FieldError(name, f"must be a positive integer in minor units, at most {MAX_AMOUNT}")])


def check_uetr(value: str) -> None:
    """A UETR is a UUID version 4 in its canonical lower-case form (SWIFT gpi, ISO 20022 UETR)."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.version != 4 or str(parsed) != value:
        raise InvalidInput([FieldError("uetr", "must be a UUID version 4 in lower-case canonical form", "format")])


# -- FX -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    base: str
    quote: str

    @classmethod
    def parse(cls, text: str) -> Pair:
        base, sep, quote = text.partition("/")
        if not sep or base not in SETTLEMENT_ASSETS or quote not in SETTLEMENT_ASSETS or base == quote:
            settled = ", ".join(f"{a}/{b}" for a in SETTLEMENT_ASSETS for b in SETTLEMENT_ASSETS if a != b)
            raise InvalidInput([FieldError("pair", f"{text!r} is not a pair the rails settle: {settled}", "pair")])
        return cls(base, quote)

    def __str__(self) -> str:
        return f"{self.base}/{self.quote}"


def parse_rate(text: str) -> Decimal:
    """A rate is a decimal string (units of the quote currency per unit of the base), never a float."""
    try:
        rate = Decimal(text)
    except (InvalidOperation, TypeError):
        rate = Decimal("NaN")
    if not rate.is_finite() or rate <= 0 or rate > Decimal(10**9):
        raise InvalidInput([FieldError("rate", f"{text!r} is not a positive decimal rate", "format")])
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_DIGITS:
        raise InvalidInput([FieldError("rate", f"at most {RATE_DIGITS} decimal places", "precision")])
    return rate


@dataclass(frozen=True)
class Rate:
    provider_id: str
    pair: Pair
    rate: Decimal  # mid: units of pair.quote per unit of pair.base
    spread_bps: int
    posted_at: datetime
    valid_until: datetime

    def mid(self, source: str, target: str) -> Decimal:
        """Units of ``target`` per unit of ``source`` at the mid rate: a rate posted for CNY/SGD also serves
        SGD→CNY at its inverse."""
        return self.rate if (source, target) == (self.pair.base, self.pair.quote) else 1 / self.rate

    def customer_rate(self, source: str, target: str) -> Decimal:
        """What the provider gives: the mid rate less its spread, taken in the payer's disfavour."""
        return self.mid(source, target) * (1 - Decimal(self.spread_bps) / 10_000)


@dataclass(frozen=True)
class Quote:
    id: str
    provider_id: str
    source_asset: str
    target_asset: str
    source_amount: int
    target_amount: int
    rate: Decimal  # the customer rate, as minor-unit amounts were computed from
    fees: int  # source minor units the payer gives up against the mid rate (spread and rounding; inside the rate)
    created_at: datetime
    expires_at: datetime
    consumed_by: str | None = None  # the UETR of the payment that used it


def quote_amounts(
    customer_rate: Decimal,
    mid: Decimal,
    source_exponent: int,
    target_exponent: int,
    source_amount: int | None,
    target_amount: int | None,
) -> tuple[int, int, int]:
    """(source, target, fees) in minor units for a quote given either side.

    Rounding is explicit and always in the payer's disfavour by less than one minor unit: from a source amount
    the target is rounded down; from a target amount the source is rounded up. The fee is what the payer gives up
    against the mid rate (the spread and the rounding) in source minor units, rounded down: shown before
    confirmation, not charged again.
    """
    scale = Decimal(10) ** (target_exponent - source_exponent)  # target minor units per source minor unit, at 1:1
    if (source_amount is None) == (target_amount is None):
        raise InvalidInput([FieldError("source_amount", "give exactly one of source_amount and target_amount")])
    if source_amount is not None:
        check_amount("source_amount", source_amount)
        target = int((source_amount * customer_rate * scale).to_integral_value(ROUND_FLOOR))
        source = source_amount
    else:
        assert target_amount is not None
        check_amount("target_amount", target_amount)
        target = target_amount
        source = int((target_amount / (customer_rate * scale)).to_integral_value(ROUND_CEILING))
    if target <= 0:
        raise InvalidInput([FieldError("source_amount", "too small to buy one minor unit of the target", "amount")])
    if source > MAX_AMOUNT or target > MAX_AMOUNT:
        raise InvalidInput([FieldError("source_amount", "the converted amount does not fit in 64 bits", "amount")])
    at_mid = source * mid * scale  # what the source amount buys at the mid rate
    fees = int(((at_mid - target) / (mid * scale)).to_integral_value(ROUND_FLOOR))
    return source, target, max(fees, 0)


# -- payments -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    name: str
    account: str


ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./:_-]{0,33}\Z")  # an account identifier (IBAN or Othr/Id: ≤ 34)


@dataclass(frozen=True)
class PaymentRequest:
    uetr: str
    debtor_agent: str
    creditor_agent: str
    debtor: Party
    creditor: Party
    source_asset: str
    source_amount: int
    target_asset: str
    quote_id: str | None = None
    purpose: str | None = None
    remittance_info: str | None = None
    demo: bool = False  # synthetic traffic (fintech-zone simulate payments): shown as demo data everywhere
    # Retail wallets (``wallets``) paying or paid: the leg moves the wallet's balance, not its bank's.
    debtor_wallet: str | None = None
    creditor_wallet: str | None = None
    pilot_id: str | None = None  # a sandbox pilot's payment: held to the pilot's boundaries as it settles

    @property
    def cross_border(self) -> bool:
        return self.source_asset != self.target_asset

    def fingerprint(self) -> tuple[object, ...]:
        """What makes two requests with the same UETR the same payment (a re-send is then idempotent)."""
        return (
            self.debtor_agent,
            self.creditor_agent,
            self.debtor,
            self.creditor,
            self.source_asset,
            self.source_amount,
            self.target_asset,
            self.quote_id,
            self.purpose,
            self.remittance_info,
            self.debtor_wallet,
            self.creditor_wallet,
            self.pilot_id,
        )


def check_payment_request(p: PaymentRequest) -> None:
    """Shape errors: the party data ISO 20022 requires, present and well formed (a 422, not a payment)."""
    check_uetr(p.uetr)
    errors: list[FieldError] = []
    for side, party in (("debtor", p.debtor), ("creditor", p.creditor)):
        if not party.name.strip():
            errors.append(FieldError(f"{side}.name", "the name is required (ISO 20022 Nm, CBPR+)", "required"))
        elif len(party.name) > 140:
            errors.append(FieldError(f"{side}.name", "at most 140 characters (ISO 20022 Max140Text)", "length"))
    for name, value in (("source_asset", p.source_asset), ("target_asset", p.target_asset)):
        if not value or len(value) > 16:
            errors.append(FieldError(name, "an asset code", "format"))
    if p.purpose is not None and not re.fullmatch(r"[A-Z0-9]{1,4}", p.purpose):
        errors.append(FieldError("purpose", "an ISO 20022 ExternalPurpose1Code (1-4 capitals)", "format"))
    if p.remittance_info is not None and len(p.remittance_info) > 140:
        errors.append(FieldError("remittance_info", "at most 140 characters (ISO 20022 Ustrd)", "length"))
    if errors:
        raise InvalidInput(errors)
    check_amount("source_amount", p.source_amount)


@dataclass(frozen=True)
class Decision:
    """One recorded step of a payment: a status it entered, why, and who or what decided."""

    status: Status
    reason: Reason | None
    detail: str
    at: datetime
    actor: str


@dataclass(frozen=True)
class Payment:
    request: PaymentRequest
    status: Status
    reason: Reason | None
    reason_detail: str | None
    target_amount: int
    rate: Decimal | None
    fees: int
    fx_provider_id: str | None
    created_at: datetime
    settled_at: datetime | None
    history: list[Decision] = field(default_factory=list)

    @property
    def uetr(self) -> str:
        return self.request.uetr


@dataclass(frozen=True)
class Limit:
    """A cap on payments: per participant (``scope`` = ``participant``, ``key`` its id) or per corridor
    (``scope`` = ``corridor``, ``key`` like ``CN-SG``), in one asset; ``None`` leaves that cap off."""

    scope: str
    key: str
    asset: str
    per_payment: int | None
    daily: int | None


def corridor(debtor_jurisdiction: str, creditor_jurisdiction: str) -> str:
    return f"{debtor_jurisdiction}-{creditor_jurisdiction}"
