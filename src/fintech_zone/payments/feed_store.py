"""What the figures read of the payments table — the RMB figures, the hall's counts and its live corridor: settled
payments aggregated by the database, so a year of traffic is never read into Python row by row (the corridor asks
every second), and the latest settled flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

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


_SUMS = (
    func.count().label("n"),
    func.coalesce(func.sum(payments.c.source_amount), 0).label("source_volume"),
    func.coalesce(func.sum(payments.c.target_amount), 0).label("target_volume"),
)


def settled_totals(conn: Connection, since: datetime) -> list[Any]:
    """Count and volumes of payments settled since ``since``, per (demo, source asset, target asset)."""
    c = payments.c
    keys = (c.demo, c.source_asset, c.target_asset)
    return list(conn.execute(select(*keys, *_SUMS).where(_SETTLED, c.settled_at >= since).group_by(*keys)))


def _day(conn: Connection) -> ColumnElement[str]:
    """The UTC day (YYYY-MM-DD) of ``settled_at``: SQLite keeps it as ISO text, PostgreSQL as timestamptz."""
    settled_at = payments.c.settled_at
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", settled_at), "YYYY-MM-DD")
    return func.substr(settled_at, 1, 10)


def daily_totals(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    """Count and volumes of payments settled in [start, end), per (day, corridor, demo, source and target asset)."""
    c = payments.c
    day = _day(conn).label("day")
    keys = (day, c.corridor, c.demo, c.source_asset, c.target_asset)
    query = select(*keys, *_SUMS).where(_SETTLED, c.settled_at >= start, c.settled_at < end).group_by(*keys)
    return list(conn.execute(query))
