"""The exhibition hall's figures, drawn live from the platform's own records through each context's service:
the registry, the progress records, the sandbox and the rails. Nothing here is typed in: every number is counted,
every milestone read, when asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fintech_zone.db import Database
from fintech_zone.payments import figures as rails
from fintech_zone.progress import service as progress
from fintech_zone.progress.model import Figure, Line, Source, TaskStatus
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import ASEAN_MEMBERS, Organisation
from fintech_zone.registry.search_store import OrgFilter
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
    since, until = share_window(at)
    _, shares = rails.rmb_figures(db, since, until, at)
    by_jurisdiction = counts["jurisdiction"]
    return HomeFigures(
        generated_at=at,
        organisations=sum(by_jurisdiction.values()),
        by_jurisdiction=by_jurisdiction,
        by_sector=counts["sector"],
        by_status=counts["status"],
        singapore_and_asean=sum(n for j, n in by_jurisdiction.items() if j in ASEAN_MEMBERS),
        pilots=sandbox.status_counts(db),
        settled_today=rails.settled(db, day, at + timedelta(seconds=1), at),
        cny_share=_share(shares, False, since),
        cny_share_demo=_share(shares, True, since),
    )


def share_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The window CNY's share is counted over: the 365 whole UTC days before today, and today up to now."""
    at = now or datetime.now(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC) - SHARE_WINDOW, at + timedelta(seconds=1)


@dataclass
class MonthRmb:
    month: str  # YYYY-MM
    count: int = 0  # cross-border payments settled
    count_demo: int = 0
    share: float | None = None  # CNY's share of their volume; None with no cross-border payment
    share_demo: float | None = None


def monthly_rmb(months: list[rails.MonthFigures], shares: list[rails.CnyShare]) -> list[MonthRmb]:
    """Per month: cross-border payments settled and CNY's share of their volume, real and DEMO apart."""
    out: dict[str, MonthRmb] = {}
    for m in months:
        if m.corridor[:2] != m.corridor[3:] and m.asset == "CNY":  # every cross-border payment has one CNY leg
            row = out.setdefault(m.month, MonthRmb(m.month))
            if m.demo:
                row.count_demo += m.count
            else:
                row.count += m.count
    for s in shares:
        row = out.setdefault(s.month, MonthRmb(s.month))
        if s.demo:
            row.share_demo = s.share
        else:
            row.share = s.share
    return [out[k] for k in sorted(out)]


# -- Chongqing fintech: the registry's analytics --------------------------------------------------------------

PRESENT_SHOWN = 30
"""Organisations listed per Singaporean or ASEAN jurisdiction; the count beside the list gives the rest."""


@dataclass(frozen=True)
class FintechFigures:
    generated_at: datetime
    growth: list[tuple[str, int]]  # (YYYY-MM, organisations settled at that month's end)
    by_sector: dict[str, int]
    by_status: dict[str, int]
    present: list[tuple[str, int, list[Organisation]]]  # Singapore and ASEAN: (jurisdiction, count, first few)


def fintech_figures(db: Database, now: datetime | None = None) -> FintechFigures:
    at = now or datetime.now(UTC)
    counts = registry.counts(db)
    present = []
    for jurisdiction in sorted(ASEAN_MEMBERS, key=lambda j: (j != "SG", j)):  # Singapore first
        n = counts["jurisdiction"].get(jurisdiction, 0)
        if n:
            page = registry.search_organisations(db, OrgFilter(jurisdiction=jurisdiction), None, PRESENT_SHOWN)
            present.append((jurisdiction, n, page.items))
    return FintechFigures(
        generated_at=at,
        growth=registry.settled_by_month(db, at.date()),
        by_sector=counts["sector"],
        by_status=counts["status"],
        present=present,
    )


# -- China–Singapore cooperation: milestones and agreements, each with its source -----------------------------


@dataclass(frozen=True)
class TimelineEntry:
    start: date  # orders the timeline
    when: str  # ISO date, to the precision known
    precision: str  # "month" or "day"
    title_zh: str
    title_en: str
    source: Source
    line: Line | None  # agreements belong to no line of work
    figures: tuple[Figure, ...]
    parties: list[Organisation]  # the agencies of a milestone, the parties to an agreement


@dataclass(frozen=True)
class LineStatus:
    line: Line
    milestones: int
    tasks: dict[TaskStatus, int]  # as of today


@dataclass(frozen=True)
class Cooperation:
    generated_at: datetime
    title_zh: str
    title_en: str
    timeline: list[TimelineEntry]
    lines: list[LineStatus]


def cooperation(db: Database, today: date | None = None) -> Cooperation:
    facts = progress.report_facts(db, today)
    orgs = dict(facts.organisations)
    agreements = registry.list_agreements(db)
    for a in agreements:
        for party in a.party_ids:
            if party not in orgs:
                orgs[party] = registry.get_organisation(db, party)
    timeline: list[TimelineEntry] = []
    lines: list[LineStatus] = []
    for report in facts.progress + facts.next_steps:
        tasks: dict[TaskStatus, int] = {}
        for _, status in report.tasks:
            tasks[status] = tasks.get(status, 0) + 1
        lines.append(LineStatus(report.line, len(report.milestones), tasks))
        for m in report.milestones:
            timeline.append(
                TimelineEntry(
                    m.when.start,
                    m.when.iso(),
                    m.when.precision.value,
                    m.title_zh,
                    m.title_en,
                    m.source,
                    report.line,
                    m.figures,
                    [orgs[a] for a in m.agency_ids if a in orgs],
                )
            )
    for a in agreements:
        if a.signed_on is not None and a.signed_on <= facts.as_of:
            parties = [orgs[p] for p in a.party_ids if p in orgs]
            source = Source(a.source or "")
            timeline.append(
                TimelineEntry(
                    a.signed_on, a.signed_on.isoformat(), "day", a.title_zh, a.title_en, source, None, (), parties
                )
            )
    timeline.sort(key=lambda e: (e.start, e.when))
    return Cooperation(facts.generated_at, facts.title_zh, facts.title_en, timeline, lines)
