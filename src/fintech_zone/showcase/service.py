"""The exhibition hall's figures, drawn live from the platform's own records through each context's service:
the registry, the sandbox and the rails. Nothing here is typed in: every number is counted when asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fintech_zone.db import Database
from fintech_zone.payments import figures as rails
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import ASEAN_MEMBERS
from fintech_zone.sandbox import figures as sandbox

SHARE_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Share:
    """CNY's share of cross-border volume over a window: the CNY legs of payments paid in CNY over all CNY legs."""

    share: float | None  # None when no cross-border payment settled in the window
    cross_border_cny_volume: int  # fen
    since: datetime


@dataclass(frozen=True)
class HomeFigures:
    generated_at: datetime
    organisations: int
    by_jurisdiction: dict[str, int]
    by_sector: dict[str, int]
    by_status: dict[str, int]  # settlement pipeline; "" for organisations outside it
    singapore_and_asean: int  # organisations from Singapore and the other ASEAN members
    pilots: dict[str, int]  # by status
    settled_today: rails.Settled  # UTC day; demo traffic counted apart
    cny_share: Share
    cny_share_demo: Share  # the same over demo traffic only, shown apart and labelled


def _share(shares: list[rails.CnyShare], demo: bool, since: datetime) -> Share:
    total = sum(s.cross_border_cny_volume for s in shares if s.demo is demo)
    cny = sum(s.cny_denominated_volume for s in shares if s.demo is demo)
    return Share(round(cny / total, 4) if total else None, total, since)


def home_figures(db: Database, now: datetime | None = None) -> HomeFigures:
    at = now or datetime.now(UTC)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    counts = registry.counts(db)
    since = at - SHARE_WINDOW
    _, shares = rails.rmb_figures(db, since, at + timedelta(seconds=1))
    by_jurisdiction = counts["jurisdiction"]
    return HomeFigures(
        generated_at=at,
        organisations=sum(by_jurisdiction.values()),
        by_jurisdiction=by_jurisdiction,
        by_sector=counts["sector"],
        by_status=counts["status"],
        singapore_and_asean=sum(n for j, n in by_jurisdiction.items() if j in ASEAN_MEMBERS),
        pilots=sandbox.status_counts(db),
        settled_today=rails.settled(db, day, at + timedelta(seconds=1)),
        cny_share=_share(shares, False, since),
        cny_share_demo=_share(shares, True, since),
    )
