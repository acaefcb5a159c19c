"""Events of a pilot (refusals, alerts, suspensions, complaints, a regulator's half of a joint decision): a row and
a journal leaf, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from fintech_zone.journal import service as journal
from fintech_zone.sandbox import journal_leaf, store


def record_event(
    conn: Connection,
    pilot_id: str,
    at: datetime,
    kind: str,
    detail: str,
    boundary: str | None = None,
    uetr: str | None = None,
) -> None:
    event_id = store.insert_event(conn, pilot_id, at, kind, detail, boundary, uetr)
    journal.append_in(conn, [journal_leaf.event_entry(event_id, pilot_id, at, kind, boundary, detail[:500], uetr)])
