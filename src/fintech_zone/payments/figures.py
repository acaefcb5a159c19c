"""RMB internationalisation figures from settled payments, for the API and the exhibition hall."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fintech_zone.db import Database
from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.payments import rollup


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM
    corridor: str
    asset: str  # the settlement asset of the leg counted (source asset for domestic payments)
    demo: bool  # synthetic traffic, counted apart from real payments
    count: int
    volume: int  # minor units of ``asset``


@dataclass(frozen=True)
class CnyShare:
    month: str
    demo: bool
    cross_border_cny_volume: int  # every cross-border payment's CNY leg, in fen
    cny_denominated_volume: int  # of which: payments whose debtor paid in CNY
    share: float | None  # None when there was no cross-border payment


@dataclass(frozen=True)
class Settled:
    """Settled payments in a period, real and demo apart: count and volume per asset (both legs of a cross-border
    payment, each in its own asset)."""

    count: int
    by_asset: dict[str, int]
    demo_count: int
    demo_by_asset: dict[str, int]


def settled(db: Database, start: datetime, end: datetime, now: datetime | None = None) -> Settled:
    return settled_from(rollup.settled_per_day(db, start, end, now))


def settled_from(rows: Iterable[Any]) -> Settled:
    """``Settled`` from rows of sums per demo, source and target asset (``rollup``'s, or ``feed_store``'s)."""
    counts = {False: 0, True: 0}
    volumes: dict[bool, dict[str, int]] = {False: defaultdict(int), True: defaultdict(int)}
    for row in rows:
        demo = bool(row.demo)
        counts[demo] += int(row.n)
        volumes[demo][row.source_asset] += int(row.source_volume)
        if row.target_asset != row.source_asset:
            volumes[demo][row.target_asset] += int(row.target_volume)
    return Settled(counts[False], dict(volumes[False]), counts[True], dict(volumes[True]))


def rmb_figures(
    db: Database, start: datetime, end: datetime, now: datetime | None = None
) -> tuple[list[MonthFigures], list[CnyShare]]:
    """Settled volume and count by month, corridor and asset, and CNY's share of cross-border volume.

    A CNY ⇄ SGD payment has a leg in each currency, so both legs count, each in its own asset. The share needs one
    unit: every cross-border payment has a CNY leg, so the share is the CNY legs of payments the debtor paid in CNY
    over the CNY legs of all cross-border payments — no outside exchange rate enters the figure.
    """
    if end <= start:
        raise InvalidInput([FieldError("to", "must be after from", "range")])
    if end - start > timedelta(days=3700):
        raise InvalidInput([FieldError("to", "at most ten years at a time", "range")])
    rows = rollup.settled_per_day(db, start, end, now)
    counts: dict[tuple[str, str, str, bool], list[int]] = defaultdict(lambda: [0, 0])
    shares: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:  # one row per day, corridor, demo and pair of assets: the payments summed already
        month, demo, n = row.day[:7], row.demo, row.n
        legs = [(row.source_asset, int(row.source_volume))]
        if row.target_asset != row.source_asset:
            legs.append((row.target_asset, int(row.target_volume)))
            cny = int(row.source_volume) if row.source_asset == "CNY" else int(row.target_volume)
            shares[(month, demo)][0] += cny
            if row.source_asset == "CNY":
                shares[(month, demo)][1] += cny
        for asset, volume in legs:
            entry = counts[(month, row.corridor, asset, demo)]
            entry[0] += n
            entry[1] += volume
    figures = [MonthFigures(m, c, a, d, n, v) for (m, c, a, d), (n, v) in sorted(counts.items())]
    share = [
        CnyShare(m, d, total, cny, round(cny / total, 4) if total else None)
        for (m, d), (total, cny) in sorted(shares.items())
    ]
    return figures, share
