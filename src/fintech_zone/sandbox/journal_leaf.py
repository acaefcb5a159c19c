"""What the sandbox writes into the journal: a leaf per lifecycle decision and per event on the rails (a
boundary rejection, an alert, a suspension or its end). Pure.

The reason a regulator gives and an event's detail are free text: the public leaf carries their SHA-256 digest,
and an auditor with the database recomputes it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from fintech_zone.journal.model import Entry, leaf, stamp
from fintech_zone.sandbox.model import Transition

DECISION = "sandbox.decision"
EVENT = "sandbox.event"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decision_entry(pilot_id: str, seq: int, t: Transition) -> Entry:
    data = leaf(
        DECISION,
        pilot=pilot_id,
        seq=seq,
        at=stamp(t.at),
        from_status=t.from_status.value if t.from_status else None,
        to_status=t.to_status.value,
        outcome=t.outcome.value if t.outcome else None,
        cause=t.cause.value if t.cause else None,
        actor=t.actor,
        reason_digest=_digest(t.reason),
    )
    return Entry(DECISION, data, refs=(pilot_id,))


def event_entry(
    event_id: int, pilot_id: str, at: datetime, kind: str, boundary: str | None, detail: str, uetr: str | None
) -> Entry:
    data = leaf(
        EVENT,
        id=event_id,
        pilot=pilot_id,
        at=stamp(at),
        event=kind,
        boundary=boundary,
        uetr=uetr,
        detail_digest=_digest(detail),
    )
    return Entry(EVENT, data, refs=(pilot_id,) + ((uetr,) if uetr else ()))
