"""The RMB figures over many settled payments: summed by the database (``payments.figures.rmb_figures``, what the
hall's home page, its corridor and ``GET /api/v1/payments/figures/rmb`` use) beside the same figures reduced in
Python from every settled row (how they were made before), on one SQLite file, in one run. Both must agree.

    python -m benchmarks.rmb_figures --payments 200000 --json

The payments are synthetic (status ``settled``, spread over 300 days, 30 % marked demo), written straight into the
payments table: only the figures' reads are timed.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.payments import figures
from fintech_zone.payments.store import payments
from fintech_zone.showcase import service


def synthetic(n: int, now: datetime, seed: int = 2026) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        cny = rng.random() < 0.5
        at = now - timedelta(seconds=rng.random() * 86400 * 300)
        rows.append(
            {
                "uetr": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "debtor_agent": "bench-a",
                "creditor_agent": "bench-b",
                "corridor": "CN-SG" if cny else "SG-CN",
                "debtor_name": "BENCH",
                "debtor_account": "1",
                "creditor_name": "BENCH",
                "creditor_account": "2",
                "source_asset": "CNY" if cny else "SGD",
                "source_amount": rng.randint(100, 10**6),
                "target_asset": "SGD" if cny else "CNY",
                "target_amount": rng.randint(100, 10**6),
                "fees": 0,
                "demo": rng.random() < 0.3,
                "status": "settled",
                "created_at": at,
                "settled_at": at,
            }
        )
    return rows


def settled_rows(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    """Every settled payment in [start, end), in settlement order: what the figures read one by one before."""
    c = payments.c
    query = (
        select(c.corridor, c.source_asset, c.source_amount, c.target_asset, c.target_amount, c.settled_at, c.demo)
        .where(c.status == "settled", c.settled_at >= start, c.settled_at < end)
        .order_by(c.settled_at)
    )
    return list(conn.execute(query))


def per_row(db: Database, start: datetime, end: datetime) -> tuple[dict[Any, list[int]], dict[Any, list[int]]]:
    """The figures reduced in Python from every settled row, as ``rmb_figures`` made them before."""
    with db.read() as conn:
        rows = settled_rows(conn, start, end)
    counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    shares: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        month = row.settled_at.strftime("%Y-%m")
        legs = {(row.source_asset, row.source_amount)}
        if row.target_asset != row.source_asset:
            legs.add((row.target_asset, row.target_amount))
            cny = row.source_amount if row.source_asset == "CNY" else row.target_amount
            shares[(month, row.demo)][0] += cny
            if row.source_asset == "CNY":
                shares[(month, row.demo)][1] += cny
        for asset, amount in legs:
            entry = counts[(month, row.corridor, asset, row.demo)]
            entry[0] += 1
            entry[1] += amount
    return counts, shares


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite:///{Path(tmp) / 'figures.db'}")
        upgrade(db.engine)
        now = datetime.now(UTC)
        rows = synthetic(args.payments, now)
        with db.transaction() as conn:
            for k in range(0, len(rows), 10_000):
                conn.execute(payments.insert(), rows[k : k + 10_000])
        start, end = service.share_window(now)
        months, shares = figures.rmb_figures(db, start, end)
        old_counts, old_shares = per_row(db, start, end)
        same = {(m.month, m.corridor, m.asset, m.demo): (m.count, m.volume) for m in months} == {
            k: tuple(v) for k, v in old_counts.items()
        } and {(s.month, s.demo): (s.cross_border_cny_volume, s.cny_denominated_volume) for s in shares} == {
            k: tuple(v) for k, v in old_shares.items()
        }
        summed = best_of(args.runs, lambda: figures.rmb_figures(db, start, end))
        reduced = best_of(args.runs, lambda: per_row(db, start, end))
        home = best_of(args.runs, lambda: service.home_figures(db))
        db.dispose()
    result = {
        "benchmark": "rmb_figures",
        "command": f"python -m benchmarks.rmb_figures --payments {args.payments} --runs {args.runs} --json",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "payments": args.payments,
        "same_figures": same,
        "summed_by_database_s": round(summed, 4),
        "reduced_in_python_s": round(reduced, 4),
        "speedup": round(reduced / summed, 2),
        "home_figures_s": round(home, 4),
    }
    print(json.dumps(result, indent=None if args.json else 2))
    if not same:
        raise SystemExit("the two ways gave different figures")


if __name__ == "__main__":
    main()
