"""The settled-payments rollup, on SQLite and PostgreSQL: whatever the range, its sums equal the database's over the
same rows — whole days from the rollup, the last minutes live — while payments keep settling, across midnight,
and for ranges it does not serve (summed in full)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fintech_zone.db import Database
from fintech_zone.payments import feed_store, figures, rollup
from fintech_zone.payments.store import payments

NOW = datetime(2026, 11, 27, 0, 0, 30, tzinfo=UTC)  # thirty seconds into a day: the mark is still yesterday's


def settle(db: Database, ats: list[datetime], seed: int) -> None:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for at in ats:
        cny = rng.random() < 0.5
        rows.append(
            {
                "uetr": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                **{"debtor_agent": "a", "creditor_agent": "b", "debtor_name": "x", "creditor_name": "y"},
                **{"debtor_account": "1", "creditor_account": "2", "fees": 0, "status": "settled"},
                "corridor": rng.choice(["CN-SG", "SG-CN", "CN-CN"]),
                "source_asset": "CNY" if cny else "SGD",
                "source_amount": rng.randint(1, 10**6),
                "target_asset": rng.choice(["CNY", "SGD"]),
                "target_amount": rng.randint(1, 10**6),
                "demo": rng.random() < 0.3,
                "created_at": at,
                "settled_at": at,
            }
        )
    with db.transaction() as conn:
        conn.execute(payments.insert(), rows)


def direct(db: Database, start: datetime, end: datetime) -> list[rollup.DayTotal]:
    with db.read() as conn:
        rows = feed_store.daily_totals(conn, start, end)
    return sorted(
        rollup.DayTotal(
            str(r.day), r.corridor, bool(r.demo), r.source_asset, r.target_asset,
            int(r.n), int(r.source_volume), int(r.target_volume),
        )
        for r in rows
    )  # fmt: skip


def test_the_rollup_sums_what_the_database_sums(db: Database) -> None:
    rng = random.Random(7)
    # Payments over the last 40 days, some in the last minute (live), some a few seconds ago across midnight.
    settle(db, [NOW - timedelta(seconds=rng.uniform(0, 40 * 86400)) for _ in range(3000)], 1)
    settle(db, [NOW - timedelta(seconds=rng.uniform(0, 90)) for _ in range(200)], 2)
    midnight = rollup.midnight(NOW)
    ranges = [
        (midnight, NOW + timedelta(seconds=1)),  # today so far: nothing absorbed yet, all live
        (midnight - timedelta(days=365), NOW + timedelta(seconds=1)),  # the hall's share window
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),  # this month
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),  # last month, whole days only
        (NOW - timedelta(hours=5, minutes=3), NOW),  # not at midnight: summed in full
    ]
    for start, end in ranges:
        assert rollup.settled_per_day(db, start, end, NOW) == direct(db, start, end), (start, end)
    # Time passes and payments keep settling: the mark moves, the live part follows.
    later = NOW + timedelta(hours=3)
    settle(db, [NOW + timedelta(seconds=rng.uniform(0, 3 * 3600)) for _ in range(500)], 3)
    for start, end in [(midnight, later), (midnight - timedelta(days=30), later + timedelta(seconds=1))]:
        assert rollup.settled_per_day(db, start, end, later) == direct(db, start, end)


def test_the_figures_through_the_rollup_match_the_payments(db: Database) -> None:
    settle(db, [NOW - timedelta(minutes=m) for m in range(0, 3000, 7)], 4)
    start, end = rollup.midnight(NOW) - timedelta(days=3), NOW + timedelta(seconds=1)
    rows = direct(db, start, end)
    got = figures.settled(db, start, end)
    assert got.count + got.demo_count == sum(r.n for r in rows)
    assert got.by_asset.get("CNY", 0) == sum(
        r.source_volume if r.source_asset == "CNY" else r.target_volume
        for r in rows
        if not r.demo and "CNY" in (r.source_asset, r.target_asset)
    )
    months, _ = figures.rmb_figures(db, start, end)
    assert sum(m.count for m in months if m.asset == "SGD") == sum(
        r.n for r in rows if "SGD" in (r.source_asset, r.target_asset)
    )


def test_a_backfill_behind_the_mark_counts_after_a_restart(db: Database, db_url: str) -> None:
    settle(db, [NOW - timedelta(hours=2)], 5)
    day = rollup.midnight(NOW) - timedelta(days=1)
    before = rollup.settled_per_day(db, day, NOW, NOW)
    settle(db, [NOW - timedelta(hours=1)], 6)  # written with a settled_at the rollup has already summed past
    assert rollup.settled_per_day(db, day, NOW, NOW) == before  # documented: not seen by this process
    restarted = Database.from_url(db_url)  # a new process's rollup sums it
    try:
        assert rollup.settled_per_day(restarted, day, NOW, NOW) == direct(db, day, NOW)
    finally:
        restarted.dispose()
