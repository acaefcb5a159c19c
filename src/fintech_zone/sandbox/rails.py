"""The sandbox on the rails: a pilot-tagged payment checked against its pilot's boundaries inside the payment's
own transaction (after the journal's lock, under the pilot's), and the space it used recorded once it settled."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from fintech_zone.sandbox import rails_store as store
from fintech_zone.sandbox.boundaries import Attempt, Breach, Space, Usage, alerts_crossed, check_attempt
from fintech_zone.sandbox.events import record_event
from fintech_zone.sandbox.model import PILOT_ID


def customer_digest(agent: str, account: str, wallet: str | None) -> str:
    return hashlib.sha256(f"{agent}\x00{account}\x00{wallet or ''}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Admission:
    """A pilot-tagged payment's place in its pilot, between the check and the settlement."""

    pilot: Space
    attempt: Attempt
    before: Usage


def check_payment_in(
    conn: Connection, pilot_id: str, debtor_agent: str, attempt: Attempt, uetr: str, at: datetime
) -> Admission | Breach:
    """In the payment's transaction (after the journal's lock): lock the pilot's row and check the payment
    against its boundaries. A breach is recorded as an event (and a leaf); the caller rejects the payment."""
    found = (
        store.space_of(conn, pilot_id, debtor_agent, attempt.asset, attempt.customer, attempt.on)
        if PILOT_ID.match(pilot_id)
        else None
    )
    if found is None:
        return Breach("pilot", f"no pilot with id {pilot_id!r}")
    space, member, usage = found
    breach = (
        check_attempt(space, attempt, usage)
        if member
        else Breach("institutions", f"{debtor_agent} is not one of pilot {pilot_id}'s institutions")
    )
    if breach is not None:
        record_event(conn, pilot_id, at, "rejected", breach.detail, breach.boundary, uetr)
        return breach
    return Admission(space, attempt, usage)


def record_settled_in(conn: Connection, admission: Admission, uetr: str, at: datetime) -> None:
    """After the payment settled, in its transaction: the space it used, and an alert for each boundary it took
    past 80 % of its limit."""
    a, before = admission.attempt, admission.before
    store.add_usage(conn, admission.pilot.id, a.asset, a.on, a.amount, a.customer, new=not before.known_customer)
    for boundary in alerts_crossed(admission.pilot, a, before):
        record_event(
            conn,
            admission.pilot.id,
            at,
            "alert",
            f"payment {uetr} took {boundary} past 80 % of its limit",
            boundary,
            uetr,
        )
