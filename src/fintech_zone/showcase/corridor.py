"""The hall's live corridor: Chongqing ⇄ Singapore payments as they settle. One poller per server process reads the
database once a second and hands the same snapshot to every connected screen (server-sent events), so 200 screens
cost one query set a second, not 200."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread

from fintech_zone.db import Database
from fintech_zone.ledger import service as ledger
from fintech_zone.payments import feed_store
from fintech_zone.payments import figures as rails

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(seconds=10)
"""Payments per second is the count settled over this window divided by its length: steady, yet fresh."""
FLOWS_SHOWN = 12
FLOWS_WINDOW = timedelta(hours=1)
"""The flow list shows the latest payments of the last hour; older ones are history, not a live corridor."""


@dataclass(frozen=True)
class Flow:
    corridor: str  # "CN-SG": the debtor agent's jurisdiction, then the creditor agent's
    source_asset: str
    source_amount: int  # minor units
    target_asset: str
    target_amount: int
    settled_at: str  # ISO 8601, UTC
    demo: bool


@dataclass(frozen=True)
class Totals:
    count: int
    by_asset: dict[str, int]  # minor units; a cross-border payment counts in both its assets


@dataclass(frozen=True)
class Snapshot:
    at: str
    per_second: float  # real payments, over RATE_WINDOW
    per_second_demo: float  # DEMO traffic, apart
    today: Totals
    today_demo: Totals
    exponents: dict[str, int]  # each asset's minor-unit exponent, so screens show major units
    flows: list[Flow]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)


def _totals(settled: rails.Settled, demo: bool) -> Totals:
    if demo:
        return Totals(settled.demo_count, settled.demo_by_asset)
    return Totals(settled.count, settled.by_asset)


def snapshot(db: Database, now: datetime | None = None) -> Snapshot:
    at = now or datetime.now(UTC)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    with db.read() as conn:
        flows = feed_store.latest_settled(conn, at - FLOWS_WINDOW, FLOWS_SHOWN)
        window = feed_store.settled_totals(conn, at - RATE_WINDOW)
    today = rails.settled(db, day, at + timedelta(seconds=1), at)  # summed per day by the rollup, then live
    exponents = {a.code: a.exponent for a in ledger.list_assets(db)}
    seconds = RATE_WINDOW.total_seconds()
    return Snapshot(
        at=at.isoformat(),
        per_second=round(sum(r.n for r in window if not r.demo) / seconds, 2),
        per_second_demo=round(sum(r.n for r in window if r.demo) / seconds, 2),
        today=_totals(today, False),
        today_demo=_totals(today, True),
        exponents=exponents,
        flows=[
            Flow(
                r.corridor,
                r.source_asset,
                r.source_amount,
                r.target_asset,
                r.target_amount,
                r.settled_at.astimezone(UTC).isoformat(),
                bool(r.demo),
            )
            for r in flows
        ],
    )


class Feed:
    """Fans one snapshot out to every subscriber twice a second, on a fixed beat (so every second of every screen
    holds an update even when a snapshot runs late). The poller runs while someone listens, and a little longer, so
    a screen that reconnects finds it warm."""

    def __init__(self, db: Database, interval: float = 0.5, linger: float = 10.0) -> None:
        self.db = db
        self.interval = interval
        self.linger = linger
        self._queues: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._latest: str | None = None

    @property
    def listeners(self) -> int:
        return len(self._queues)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        beat = idle_since = loop.time()
        while self._queues or loop.time() - idle_since < self.linger:
            if self._queues:
                idle_since = loop.time()
            try:
                data = (await anyio.to_thread.run_sync(snapshot, self.db)).to_json()
            except Exception:  # a database hiccup must not end the feed: screens keep the last figures
                log.exception("live corridor: snapshot failed; retrying")
            else:
                self._latest = data
                for queue in self._queues:
                    if queue.full():  # a slow screen skips a beat rather than holding memory
                        queue.get_nowait()
                    queue.put_nowait(data)
            beat = max(beat + self.interval, loop.time())  # behind the beat: carry on from now, no burst
            await asyncio.sleep(beat - loop.time())
        self._task = None

    async def subscribe(self, max_seconds: float | None = None) -> AsyncIterator[str]:
        """Snapshots as JSON text, the latest first, until the client goes (or for ``max_seconds``)."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=2)
        self._queues.add(queue)
        if self._task is None:
            self._task = asyncio.create_task(self._poll())
        loop = asyncio.get_running_loop()
        deadline = None if max_seconds is None else loop.time() + max_seconds
        try:
            if self._latest is not None:
                yield self._latest
            while deadline is None or (left := deadline - loop.time()) > 0:
                try:
                    yield await (queue.get() if deadline is None else asyncio.wait_for(queue.get(), timeout=left))
                except TimeoutError:
                    return
        finally:
            self._queues.discard(queue)
