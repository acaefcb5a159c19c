"""Retail wallets (e-CNY style): held at a bank by people and merchants, in tiers by how well the holder is known.

The four tiers follow the e-CNY pilots' four wallet classes: the less the bank knows of the holder (tier 4: a
phone number only; tier 1: identity checked in person), the lower the balance, per-payment and daily limits. CNY
limits follow the class limits reported for the e-CNY pilots. SGD limits are the zone's own policy for the pilot
(Singapore has no retail CBDC to copy): tier 3 holds at most S$5,000, MAS's cap on personal e-wallet holdings.
Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fintech_zone.errors import FieldError, InvalidInput

WALLET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")


class WalletKind(StrEnum):
    PERSON = "person"
    MERCHANT = "merchant"


@dataclass(frozen=True)
class TierLimits:
    """Minor units; None: no limit at that tier."""

    balance: int | None
    per_payment: int | None
    daily: int | None


_YUAN, _DOLLAR = 100, 100  # minor units per unit
TIER_LIMITS: dict[str, dict[int, TierLimits]] = {
    "CNY": {
        1: TierLimits(None, None, None),
        2: TierLimits(500_000 * _YUAN, 50_000 * _YUAN, 100_000 * _YUAN),
        3: TierLimits(20_000 * _YUAN, 5_000 * _YUAN, 10_000 * _YUAN),
        4: TierLimits(10_000 * _YUAN, 2_000 * _YUAN, 5_000 * _YUAN),
    },
    "SGD": {
        1: TierLimits(None, None, None),
        2: TierLimits(100_000 * _DOLLAR, 10_000 * _DOLLAR, 20_000 * _DOLLAR),
        3: TierLimits(5_000 * _DOLLAR, 1_000 * _DOLLAR, 2_000 * _DOLLAR),
        4: TierLimits(1_000 * _DOLLAR, 500 * _DOLLAR, 1_000 * _DOLLAR),
    },
}


@dataclass(frozen=True)
class Wallet:
    id: str
    bank_id: str
    holder_name: str
    kind: WalletKind
    tier: int
    asset: str
    created_at: datetime

    @property
    def limits(self) -> TierLimits:
        return TIER_LIMITS[self.asset][self.tier]


def wallet_account(wallet_id: str) -> str:
    return f"wal:{wallet_id}"


def check_new_wallet(wallet_id: str, holder_name: str, kind: str, tier: int) -> WalletKind:
    errors = []
    if not WALLET_ID.match(wallet_id):
        errors.append(FieldError("id", "1-40 characters of A-Z, a-z, 0-9, '.', '_' and '-'", "format"))
    if not holder_name.strip() or len(holder_name) > 140:
        errors.append(FieldError("holder_name", "the holder's name, 1-140 characters", "length"))
    if kind not in WalletKind.__members__.values():
        errors.append(FieldError("kind", "person or merchant", "allowed_values"))
    if tier not in (1, 2, 3, 4):
        errors.append(FieldError("tier", "1 (identity checked in person) to 4 (phone number only)", "allowed_values"))
    if errors:
        raise InvalidInput(errors)
    return WalletKind(kind)
