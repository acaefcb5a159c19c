"""What the exhibition hall's live corridor reads of the payments table: the latest settled flows and the day's
totals, aggregated by the database (the feed asks every second, so it never reads a day's rows into Python)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from fintech_zone.payments.model import Status
from fintech_zone.payments.store import payments

_SETTLED = payments.c.status == Status.SETTLED.value


def latest_settled(conn: Connection, since: datetime, limit: int) -> list[Any]:
    """The latest settled payments after ``since``, newest first: no party data, only what a visitor may see."""
    c = payments.c
    query = (
        select(c.corridor, c.source_asset, c.source_amount, c.target_asset, c.target_amount, c.settled_at, c.demo)
        .where(_SETTLED, c.settled_at >= since)
        .order_by(c.settled_at.desc())
        .limit(limit)
    )
    return list(conn.execute(query))


def settled_totals(conn: Connection, since: datetime) -> list[Any]:
    """Count and volumes of payments settled since ``since``, per (demo, source asset, target asset)."""
    c = payments.c
    query = (
        select(
            c.demo,
            c.source_asset,
            c.target_asset,
            func.count().label("n"),
            func.coalesce(func.sum(c.source_amount), 0).label("source_volume"),
            func.coalesce(func.sum(c.target_amount), 0).label("target_volume"),
        )
        .where(_SETTLED, c.settled_at >= since)
        .group_by(c.demo, c.source_asset, c.target_asset)
    )
    return list(conn.execute(query))
