"""Progress tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.db.types import UTCDateTime
from fintech_zone.progress.model import (
    Figure,
    FuzzyDate,
    Line,
    LineKind,
    Milestone,
    OverviewSection,
    Precision,
    Source,
    Task,
    TaskChange,
    TaskStatus,
)

overview = Table(
    "progress_overview",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("title_zh", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("source", Text, nullable=False),
)

lines = Table(
    "progress_lines",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title_zh", String(200), nullable=False),
    Column("title_en", String(200), nullable=False),
    Column("source", Text, nullable=False),
)

milestones = Table(
    "progress_milestones",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("line_id", String(64), ForeignKey("progress_lines.id"), nullable=False, index=True),
    Column("occurred_on", Date, nullable=False, index=True),
    Column("precision", String(8), nullable=False),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("source_quote", Text, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

milestone_agencies = Table(
    "progress_milestone_agencies",
    metadata,
    Column("milestone_id", String(64), ForeignKey("progress_milestones.id"), primary_key=True),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

tasks = Table(
    "progress_tasks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("line_id", String(64), ForeignKey("progress_lines.id"), nullable=False, index=True),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("lead_id", String(64), ForeignKey("registry_organisations.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_on", Date, nullable=True),
    Column("source", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

task_agencies = Table(
    "progress_task_agencies",
    metadata,
    Column("task_id", String(64), ForeignKey("progress_tasks.id"), primary_key=True),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

task_history = Table(
    "progress_task_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(64), ForeignKey("progress_tasks.id"), nullable=False, index=True),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("changed_on", Date, nullable=False),
    Column("reason", Text, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
)


# -- overview and lines ---------------------------------------------------------------------------------------


def upsert_overview(conn: Connection, section: OverviewSection) -> bool:
    if conn.execute(select(overview.c.id).where(overview.c.id == section.id)).first():
        return False
    conn.execute(insert(overview).values(**section.__dict__))
    return True


def list_overview(conn: Connection) -> list[OverviewSection]:
    return [
        OverviewSection(r.id, r.number, r.title_zh, r.title_en, r.body_zh, r.body_en, r.source)
        for r in conn.execute(select(overview).order_by(overview.c.number))
    ]


def insert_line_if_missing(conn: Connection, line: Line) -> bool:
    if conn.execute(select(lines.c.id).where(lines.c.id == line.id)).first():
        return False
    conn.execute(
        insert(lines).values(
            id=line.id,
            kind=line.kind.value,
            number=line.number,
            title_zh=line.title_zh,
            title_en=line.title_en,
            source=line.source,
        )
    )
    return True


def list_lines(conn: Connection) -> list[Line]:
    rows = conn.execute(select(lines).order_by(lines.c.kind.desc(), lines.c.number))
    return [Line(r.id, LineKind(r.kind), r.number, r.title_zh, r.title_en, r.source) for r in rows]


def line_exists(conn: Connection, line_id: str) -> bool:
    return conn.execute(select(lines.c.id).where(lines.c.id == line_id)).first() is not None


# -- milestones -----------------------------------------------------------------------------------------------


def milestone_exists(conn: Connection, milestone_id: str) -> bool:
    return conn.execute(select(milestones.c.id).where(milestones.c.id == milestone_id)).first() is not None


def insert_milestone(conn: Connection, m: Milestone, now: datetime) -> None:
    conn.execute(
        insert(milestones).values(
            id=m.id,
            line_id=m.line_id,
            occurred_on=m.when.start,
            precision=m.when.precision.value,
            title_zh=m.title_zh,
            title_en=m.title_en,
            figures=[f.__dict__ for f in m.figures],
            source_ref=m.source.ref,
            source_quote=m.source.quote,
            recorded_at=now,
        )
    )
    if m.agency_ids:
        conn.execute(
            insert(milestone_agencies),
            [{"milestone_id": m.id, "org_id": org, "position": i} for i, org in enumerate(m.agency_ids)],
        )


def list_milestones(conn: Connection, on_or_before: date | None = None, line_id: str | None = None) -> list[Milestone]:
    stmt = select(milestones)
    if on_or_before is not None:
        # A month-precision milestone counts from the first of its month: "2019-12" is in a report as of any day
        # of December 2019, and a milestone recorded this month is in today's report.
        stmt = stmt.where(milestones.c.occurred_on <= on_or_before)
    if line_id is not None:
        stmt = stmt.where(milestones.c.line_id == line_id)
    rows = conn.execute(stmt.order_by(milestones.c.occurred_on, milestones.c.id)).all()
    agencies: dict[str, list[str]] = {}
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for a in conn.execute(
            select(milestone_agencies)
            .where(milestone_agencies.c.milestone_id.in_(chunk))
            .order_by(milestone_agencies.c.position)
        ):
            agencies.setdefault(a.milestone_id, []).append(a.org_id)
    return [_milestone(r, agencies.get(r.id, [])) for r in rows]


def get_milestone(conn: Connection, milestone_id: str) -> Milestone | None:
    row = conn.execute(select(milestones).where(milestones.c.id == milestone_id)).first()
    if row is None:
        return None
    agencies = conn.scalars(
        select(milestone_agencies.c.org_id)
        .where(milestone_agencies.c.milestone_id == milestone_id)
        .order_by(milestone_agencies.c.position)
    ).all()
    return _milestone(row, list(agencies))


def _milestone(r: Any, agency_ids: list[str]) -> Milestone:
    return Milestone(
        id=r.id,
        line_id=r.line_id,
        when=FuzzyDate.from_parts(r.occurred_on, Precision(r.precision)),
        title_zh=r.title_zh,
        title_en=r.title_en,
        source=Source(r.source_ref, r.source_quote),
        agency_ids=tuple(agency_ids),
        figures=tuple(Figure(**f) for f in r.figures),
        recorded_at=r.recorded_at,
    )


# -- tasks ----------------------------------------------------------------------------------------------------


def task_exists(conn: Connection, task_id: str) -> bool:
    return conn.execute(select(tasks.c.id).where(tasks.c.id == task_id)).first() is not None


def insert_task(conn: Connection, t: Task, changed_on: date, now: datetime) -> None:
    conn.execute(
        insert(tasks).values(
            id=t.id,
            line_id=t.line_id,
            title_zh=t.title_zh,
            title_en=t.title_en,
            lead_id=t.lead_id,
            status=t.status.value,
            due_on=t.due_on,
            source=t.source,
            created_at=now,
        )
    )
    if t.co_agency_ids:
        conn.execute(
            insert(task_agencies),
            [{"task_id": t.id, "org_id": org, "position": i} for i, org in enumerate(t.co_agency_ids)],
        )
    record_task_change(conn, TaskChange(t.id, None, t.status, changed_on, "created"), now)


def record_task_change(conn: Connection, change: TaskChange, now: datetime) -> None:
    conn.execute(
        insert(task_history).values(
            task_id=change.task_id,
            from_status=change.from_status.value if change.from_status else None,
            to_status=change.to_status.value,
            changed_on=change.changed_on,
            reason=change.reason,
            recorded_at=now,
        )
    )
    conn.execute(update(tasks).where(tasks.c.id == change.task_id).values(status=change.to_status.value))


def lock_task(conn: Connection, task_id: str) -> Task | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id).with_for_update()).first()
    return _tasks(conn, [row])[0] if row else None


def list_tasks(conn: Connection, line_id: str | None = None) -> list[Task]:
    stmt = select(tasks)
    if line_id is not None:
        stmt = stmt.where(tasks.c.line_id == line_id)
    return _tasks(conn, conn.execute(stmt.order_by(tasks.c.line_id, tasks.c.created_at, tasks.c.id)).all())


def get_task(conn: Connection, task_id: str) -> Task | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    return _tasks(conn, [row])[0] if row else None


def _tasks(conn: Connection, rows: Any) -> list[Task]:
    ids = [r.id for r in rows]
    co: dict[str, list[str]] = {}
    hist: dict[str, list[TaskChange]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for a in conn.execute(
            select(task_agencies).where(task_agencies.c.task_id.in_(chunk)).order_by(task_agencies.c.position)
        ):
            co.setdefault(a.task_id, []).append(a.org_id)
        for h in conn.execute(
            select(task_history)
            .where(task_history.c.task_id.in_(chunk))
            .order_by(task_history.c.changed_on, task_history.c.id)
        ):
            hist.setdefault(h.task_id, []).append(
                TaskChange(
                    h.task_id,
                    TaskStatus(h.from_status) if h.from_status else None,
                    TaskStatus(h.to_status),
                    h.changed_on,
                    h.reason,
                )
            )
    return [
        Task(
            id=r.id,
            line_id=r.line_id,
            title_zh=r.title_zh,
            title_en=r.title_en,
            lead_id=r.lead_id,
            status=TaskStatus(r.status),
            source=r.source,
            co_agency_ids=tuple(co.get(r.id, [])),
            due_on=r.due_on,
            history=tuple(hist.get(r.id, [])),
        )
        for r in rows
    ]
