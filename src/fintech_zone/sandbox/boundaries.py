"""Holding a payment to its pilot's boundaries: what a payment asks of the pilot's space, the first boundary it
would cross, and the 80 % alerts. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fintech_zone.sandbox.model import Boundaries, Outcome, Status


@dataclass(frozen=True)
class Attempt:
    """What a pilot-tagged payment asks of the pilot's space."""

    asset: str
    amount: int
    corridor: str
    customer: str  # a digest of the paying customer (agent and account): counted, never shown
    on: date


@dataclass(frozen=True)
class Usage:
    customers: int
    known_customer: bool
    today: int  # the asset's volume settled today
    total: int  # and since the pilot began


@dataclass(frozen=True)
class Breach:
    boundary: str  # e.g. "daily.CNY"
    detail: str


@dataclass(frozen=True)
class Space:
    """What the rails need of a pilot to hold a payment to it (read in one statement under the pilot's lock)."""

    id: str
    status: Status
    suspended: bool
    boundaries: Boundaries | None
    outcome: Outcome | None = None

    @property
    def settling(self) -> bool:
        """Testing, or exited on an extension: the states in which the pilot's payments settle."""
        return self.status is Status.TESTING or (self.status is Status.EXITED and self.outcome is Outcome.EXTENDED)


def check_attempt(pilot: Space, attempt: Attempt, usage: Usage) -> Breach | None:
    """The first boundary the payment would cross, or None when it fits."""
    b = pilot.boundaries
    if not pilot.settling or b is None:
        if pilot.status is Status.ADMITTED:
            return Breach("status", f"pilot {pilot.id} is admitted but has not started testing")
        return Breach("status", f"pilot {pilot.id} is {pilot.status}, not testing: it settles no payments")
    if pilot.suspended:
        return Breach("suspended", f"pilot {pilot.id} is suspended by its regulator")
    if b.starts_on and attempt.on < b.starts_on:
        return Breach("starts_on", f"pilot {pilot.id} tests from {b.starts_on.isoformat()}")
    if b.ends_on and attempt.on > b.ends_on:
        return Breach("ends_on", f"pilot {pilot.id} tested until {b.ends_on.isoformat()}")
    if attempt.corridor not in b.corridors:
        allowed = ", ".join(b.corridors) or "none"
        return Breach("corridors", f"corridor {attempt.corridor} is outside pilot {pilot.id}'s ({allowed})")
    if b.max_customers is not None and not usage.known_customer and usage.customers + 1 > b.max_customers:
        return Breach("max_customers", f"pilot {pilot.id} serves at most {b.max_customers} customers")
    a = attempt.asset
    if a in b.per_payment and attempt.amount > b.per_payment[a]:
        return Breach(
            f"per_payment.{a}", f"{attempt.amount} {a} is above pilot {pilot.id}'s {b.per_payment[a]} a payment"
        )
    if a in b.daily and usage.today + attempt.amount > b.daily[a]:
        return Breach(
            f"daily.{a}",
            f"pilot {pilot.id} has settled {usage.today} {a} today; {attempt.amount} more is above its daily "
            f"{b.daily[a]}",
        )
    if a in b.total and usage.total + attempt.amount > b.total[a]:
        return Breach(
            f"total.{a}",
            f"pilot {pilot.id} has settled {usage.total} {a}; {attempt.amount} more is above its total {b.total[a]}",
        )
    return None


ALERT_SHARE = 0.8


def alerts_crossed(pilot: Space, attempt: Attempt, before: Usage) -> list[str]:
    """The boundaries this settled payment took past 80 % of their limit (each alerts once: the payment that
    crosses the line raises it)."""
    b = pilot.boundaries
    if b is None:
        return []
    crossed = []
    a = attempt.asset

    def past(before_value: int, after_value: int, limit: int) -> bool:
        line = ALERT_SHARE * limit
        return before_value < line <= after_value

    if (
        b.max_customers is not None
        and not before.known_customer
        and past(before.customers, before.customers + 1, b.max_customers)
    ):
        crossed.append("max_customers")
    if a in b.daily and past(before.today, before.today + attempt.amount, b.daily[a]):
        crossed.append(f"daily.{a}")
    if a in b.total and past(before.total, before.total + attempt.amount, b.total[a]):
        crossed.append(f"total.{a}")
    return crossed
