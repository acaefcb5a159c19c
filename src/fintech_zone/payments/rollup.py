"""Settled payments summed per UTC day, kept by each server process, so the figures read only the payments of the
last minute or two however many have settled before: a kiosk running the demo all day, or a year of traffic, costs
the hall's pages and its live corridor the same as a fresh database.

A settled payment never changes, so once the database has summed a stretch of time it stays summed: the rollup
absorbs settled payments up to a minute ago (``MARGIN``: a payment's transaction commits within moments of its
``settled_at``), and a query adds what settled since, read live. The first query of a process sums ``HORIZON`` of
history at once; later ones only move the mark forward. A settled payment written into the database with an older
``settled_at`` than the mark (a restore, a hand-made backfill) is counted once the server restarts.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from fintech_zone.db import Database
from fintech_zone.payments import feed_store

MARGIN = timedelta(seconds=60)
HORIZON = timedelta(days=400)
"""How far back a process sums at its first query: a 365-day window and twelve whole months, with room."""


@dataclass(frozen=True, order=True)
class DayTotal:
    day: str  # YYYY-MM-DD, UTC
    corridor: str
    demo: bool
    source_asset: str
    target_asset: str
    n: int
    source_volume: int
    target_volume: int


_Key = tuple[str, str, bool, str, str]


def midnight(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def _add(into: dict[_Key, list[int]], rows: list[Any]) -> None:
    for r in rows:
        entry = into.setdefault((str(r.day), r.corridor, bool(r.demo), r.source_asset, r.target_asset), [0, 0, 0])
        entry[0] += int(r.n)
        entry[1] += int(r.source_volume)
        entry[2] += int(r.target_volume)


def _totals(sums: dict[_Key, list[int]]) -> list[DayTotal]:
    return [DayTotal(*key, *values) for key, values in sorted(sums.items())]


class Rollup:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start: datetime | None = None  # everything settled in [start, through) is in _days
        self._through: datetime | None = None
        self._days: dict[_Key, list[int]] = {}

    def _absorb(self, conn: Connection, now: datetime) -> tuple[datetime, datetime]:
        if self._start is None or self._through is None:
            self._start = self._through = midnight(now - HORIZON)
        mark = (now - MARGIN).replace(second=0, microsecond=0)
        if mark > self._through:
            _add(self._days, feed_store.daily_totals(conn, self._through, mark))
            self._through = mark
        return self._start, self._through

    def totals(self, conn: Connection, start: datetime, end: datetime, now: datetime) -> list[DayTotal]:
        """Payments settled in [start, end), summed per day. ``start`` at a UTC midnight (and ``end`` too, or at or
        after the mark) is served from the rollup; any other range is summed by the database in full."""
        with self._lock:
            first, through = self._absorb(conn, now)
            if start != midnight(start) or start < first or (end < through and end != midnight(end)):
                cached = None
            elif end >= through:  # up to the mark from the rollup (the mark's day as far as it goes), then live
                lo = start.strftime("%Y-%m-%d")
                cached = {k: list(v) for k, v in self._days.items() if k[0] >= lo}
            else:  # whole days before the mark
                lo, hi = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
                cached = {k: list(v) for k, v in self._days.items() if lo <= k[0] < hi}
        if cached is None:
            sums: dict[_Key, list[int]] = {}
            _add(sums, feed_store.daily_totals(conn, start, end))
            return _totals(sums)
        if end > through:
            _add(cached, feed_store.daily_totals(conn, max(start, through), end))
        return _totals(cached)


_rollups: weakref.WeakKeyDictionary[Database, Rollup] = weakref.WeakKeyDictionary()
_rollups_lock = threading.Lock()


def settled_per_day(db: Database, start: datetime, end: datetime, now: datetime | None = None) -> list[DayTotal]:
    """Settled payments in [start, end) per day, corridor, demo and pair of assets, through this process's rollup."""
    with _rollups_lock:
        rollup = _rollups.get(db)
        if rollup is None:
            rollup = _rollups[db] = Rollup()
    with db.read() as conn:
        return rollup.totals(conn, start, end, now or datetime.now(UTC))
