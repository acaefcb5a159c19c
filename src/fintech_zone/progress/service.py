"""Progress use cases: the seed loader, milestones, tasks, and the facts a progress report is made of."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, InvalidInput, NotFound
from fintech_zone.progress import store
from fintech_zone.progress.model import (
    ID_PATTERN,
    Figure,
    FuzzyDate,
    Line,
    LineKind,
    Milestone,
    OverviewSection,
    Source,
    Task,
    TaskChange,
    TaskStatus,
    check_milestone,
    check_task,
    check_task_transition,
)
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation, Organisation, build_organisation

SEED_FILE = "seed_facts.json"
SEED_SOURCE_PREFIX = "zone-progress-report "


def _now() -> datetime:
    return datetime.now(UTC)


def seed_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((resources.files("fintech_zone.progress") / SEED_FILE).read_text("utf-8"))
    return data


@dataclass(frozen=True)
class SeedResult:
    organisations: int
    lines: int
    milestones: int
    tasks: int
    overview: int


def load_seed(db: Database) -> SeedResult:
    """Load the seed document's facts. Idempotent: a second run adds nothing and changes nothing."""
    data = seed_data()
    recorded_on = date.fromisoformat(data["document"]["recorded_on"])
    prefix = SEED_SOURCE_PREFIX
    orgs = [
        build_organisation(
            NewOrganisation(
                id=o["id"],
                kind=o["kind"],
                jurisdiction=o["jurisdiction"],
                name_en=o["name_en"],
                name_zh=o["name_zh"],
                sector=o["sector"],
                status=o.get("status"),
                source=prefix + o["source"],
            )
        )
        for o in data["organisations"]
    ]
    with db.transaction() as conn:
        n_orgs = registry.ensure_organisations_in(conn, orgs, recorded_on)
        n_overview = sum(
            store.upsert_overview(
                conn,
                OverviewSection(
                    s["id"],
                    s["number"],
                    s["title_zh"],
                    s["title_en"],
                    s["body_zh"],
                    s["body_en"],
                    prefix + s["source"],
                ),
            )
            for s in data["overview"]
        )
        n_lines = sum(
            store.insert_line_if_missing(
                conn,
                Line(
                    li["id"],
                    LineKind(li["kind"]),
                    li["number"],
                    li["title_zh"],
                    li["title_en"],
                    prefix + li["source"],
                ),
            )
            for li in data["lines"]
        )
        n_milestones = 0
        for m in data["milestones"]:
            if store.milestone_exists(conn, m["id"]):
                continue
            store.insert_milestone(conn, _seed_milestone(m), _now())
            n_milestones += 1
        n_tasks = 0
        for t in data["tasks"]:
            if store.task_exists(conn, t["id"]):
                continue
            task = Task(
                id=t["id"],
                line_id=t["line"],
                title_zh=t["title_zh"],
                title_en=t["title_en"],
                lead_id=t["lead"],
                status=TaskStatus(t["status"]),
                source=prefix + t["source"],
                co_agency_ids=tuple(t["co"]),
            )
            store.insert_task(conn, task, recorded_on, _now())
            n_tasks += 1
    return SeedResult(n_orgs, n_lines, n_milestones, n_tasks, n_overview)


def _seed_milestone(m: dict[str, Any]) -> Milestone:
    return Milestone(
        id=m["id"],
        line_id=m["line"],
        when=FuzzyDate.parse(m["date"]),
        title_zh=m["title_zh"],
        title_en=m["title_en"],
        source=Source(SEED_SOURCE_PREFIX + m["source"], m.get("quote")),
        agency_ids=tuple(m["agencies"]),
        figures=tuple(Figure(**f) for f in m["figures"]),
    )


# -- queries --------------------------------------------------------------------------------------------------


def list_lines(db: Database) -> list[Line]:
    with db.read() as conn:
        return store.list_lines(conn)


def list_milestones(db: Database, on_or_before: date | None = None, line_id: str | None = None) -> list[Milestone]:
    with db.read() as conn:
        if line_id is not None and not store.line_exists(conn, line_id):
            raise NotFound(f"no line of work with id {line_id!r}")
        return store.list_milestones(conn, on_or_before, line_id)


def get_milestone(db: Database, milestone_id: str) -> Milestone:
    with db.read() as conn:
        m = store.get_milestone(conn, milestone_id)
    if m is None:
        raise NotFound(f"no milestone with id {milestone_id!r}")
    return m


def list_tasks(db: Database, line_id: str | None = None) -> list[Task]:
    with db.read() as conn:
        if line_id is not None and not store.line_exists(conn, line_id):
            raise NotFound(f"no line of work with id {line_id!r}")
        return store.list_tasks(conn, line_id)


def get_task(db: Database, task_id: str) -> Task:
    with db.read() as conn:
        t = store.get_task(conn, task_id)
    if t is None:
        raise NotFound(f"no task with id {task_id!r}")
    return t


# -- changes --------------------------------------------------------------------------------------------------


def _require_line(conn: Connection, line_id: str) -> None:
    if not ID_PATTERN.match(line_id) or not store.line_exists(conn, line_id):
        raise InvalidInput([FieldError("line", f"unknown line of work {line_id!r}", "unknown_reference")])


def add_milestone(db: Database, m: Milestone) -> Milestone:
    check_milestone(m)
    with db.transaction() as conn:
        if store.milestone_exists(conn, m.id):
            raise Conflict(f"milestone {m.id!r} already exists")
        _require_line(conn, m.line_id)
        registry.require_organisations_in(conn, m.agency_ids, "agencies")
        try:
            store.insert_milestone(conn, m, _now())
        except IntegrityError as exc:
            raise Conflict(f"milestone {m.id!r} was recorded concurrently") from exc
        created = store.get_milestone(conn, m.id)
    assert created is not None
    return created


def add_task(db: Database, t: Task, created_on: date | None = None) -> Task:
    check_task(t)
    with db.transaction() as conn:
        if store.task_exists(conn, t.id):
            raise Conflict(f"task {t.id!r} already exists")
        _require_line(conn, t.line_id)
        registry.require_organisations_in(conn, [t.lead_id], "lead")
        registry.require_organisations_in(conn, t.co_agency_ids, "co_agencies")
        try:
            store.insert_task(conn, t, created_on or date.today(), _now())
        except IntegrityError as exc:
            raise Conflict(f"task {t.id!r} was created concurrently") from exc
        created = store.get_task(conn, t.id)
    assert created is not None
    return created


def change_task_status(
    db: Database, task_id: str, target: TaskStatus, changed_on: date | None = None, reason: str | None = None
) -> Task:
    with db.transaction() as conn:
        task = store.lock_task(conn, task_id)
        if task is None:
            raise NotFound(f"no task with id {task_id!r}")
        check_task_transition(task.status, target, reason)
        when = changed_on or date.today()
        if task.history and when < task.history[-1].changed_on:
            raise InvalidInput(
                [
                    FieldError(
                        "changed_on",
                        f"{when} is before the last change ({task.history[-1].changed_on})",
                        "chronology",
                    )
                ]
            )
        store.record_task_change(conn, TaskChange(task_id, task.status, target, when, reason), _now())
        updated = store.get_task(conn, task_id)
    assert updated is not None
    return updated


# -- the report's facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineReport:
    line: Line
    milestones: list[Milestone]
    tasks: list[tuple[Task, TaskStatus]]


@dataclass(frozen=True)
class ReportFacts:
    as_of: date
    generated_at: datetime
    title_zh: str
    title_en: str
    overview: list[OverviewSection]
    registry_counts: dict[str, int]
    progress: list[LineReport]
    next_steps: list[LineReport]
    organisations: dict[str, Organisation]


def report_facts(db: Database, as_of: date | None = None) -> ReportFacts:
    """Everything a progress report states, read from the database as it stood on ``as_of``."""
    as_of = as_of or date.today()
    statuses = registry.statuses_as_of(db, as_of)
    with db.read() as conn:
        lines = store.list_lines(conn)
        milestones = store.list_milestones(conn, as_of)
        tasks = store.list_tasks(conn)
        overview = store.list_overview(conn)
    ids = {a for m in milestones for a in m.agency_ids} | {t.lead_id for t in tasks}
    ids |= {a for t in tasks for a in t.co_agency_ids}
    orgs = {i: registry.get_organisation(db, i) for i in sorted(ids)}
    counts: Counter[str] = Counter({"registered": len(statuses)})
    for status in statuses.values():
        if status is not None:
            counts[status.value] += 1
    reports = []
    for line in lines:
        line_tasks = [(t, s) for t in tasks if t.line_id == line.id and (s := t.status_on(as_of)) is not None]
        reports.append(LineReport(line, [m for m in milestones if m.line_id == line.id], line_tasks))
    doc = seed_data()["document"]
    return ReportFacts(
        as_of=as_of,
        generated_at=_now(),
        title_zh=doc["title_zh"],
        title_en=doc["title_en"],
        overview=overview,
        registry_counts=dict(counts),
        progress=[r for r in reports if r.line.kind is LineKind.PROGRESS],
        next_steps=[r for r in reports if r.line.kind is LineKind.NEXT_STEP],
        organisations=orgs,
    )
