"""Pydantic shapes of the progress API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from fintech_zone.progress.model import (
    Figure,
    FuzzyDate,
    Line,
    LineKind,
    Milestone,
    Precision,
    Source,
    Task,
    TaskStatus,
)
from fintech_zone.web.schemas import IsoDate, Strict


class FigureIO(Strict):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    value: int = Field(ge=0, le=10**15)
    label_zh: str = Field(min_length=1, max_length=200)
    label_en: str = Field(min_length=1, max_length=200)


class LineOut(BaseModel):
    id: str
    kind: LineKind
    number: int
    title_zh: str
    title_en: str
    source: str

    @classmethod
    def of(cls, line: Line) -> LineOut:
        return cls(**line.__dict__)


class MilestoneIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    line: str = Field(min_length=1, max_length=64)
    date: str = Field(
        pattern=r"^\d{4}-\d{2}(-\d{2})?$",
        description="YYYY-MM (month precision) or YYYY-MM-DD",
        examples=["2026-11", "2026-11-27"],
    )
    title_zh: str = Field(min_length=1, max_length=4000)
    title_en: str = Field(min_length=1, max_length=4000)
    agencies: list[str] = Field(default_factory=list, max_length=50)
    figures: list[FigureIO] = Field(default_factory=list, max_length=20)
    source: str = Field(min_length=1, max_length=2000, description="Where the fact comes from: minutes, a URL …")

    def to_model(self) -> Milestone:
        return Milestone(
            id=self.id,
            line_id=self.line,
            when=FuzzyDate.parse(self.date),
            title_zh=self.title_zh,
            title_en=self.title_en,
            source=Source(self.source),
            agency_ids=tuple(dict.fromkeys(self.agencies)),
            figures=tuple(Figure(**f.model_dump()) for f in self.figures),
        )


class MilestoneOut(BaseModel):
    id: str
    line: str
    date: str = Field(description="YYYY-MM or YYYY-MM-DD, as precise as known")
    precision: Precision
    title_zh: str
    title_en: str
    agencies: list[str]
    figures: list[FigureIO]
    source: str
    source_quote: str | None
    recorded_at: datetime | None

    @classmethod
    def of(cls, m: Milestone) -> MilestoneOut:
        return cls(
            id=m.id,
            line=m.line_id,
            date=m.when.iso(),
            precision=m.when.precision,
            title_zh=m.title_zh,
            title_en=m.title_en,
            agencies=list(m.agency_ids),
            figures=[FigureIO(**f.__dict__) for f in m.figures],
            source=m.source.ref,
            source_quote=m.source.quote,
            recorded_at=m.recorded_at,
        )


class TaskIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    line: str = Field(min_length=1, max_length=64)
    title_zh: str = Field(min_length=1, max_length=4000)
    title_en: str = Field(min_length=1, max_length=4000)
    lead: str = Field(min_length=1, max_length=64)
    co_agencies: list[str] = Field(default_factory=list, max_length=50)
    due_on: IsoDate | None = None
    status: TaskStatus = TaskStatus.PLANNED
    source: str = Field(min_length=1, max_length=2000)

    def to_model(self) -> Task:
        return Task(
            id=self.id,
            line_id=self.line,
            title_zh=self.title_zh,
            title_en=self.title_en,
            lead_id=self.lead,
            status=self.status,
            source=self.source,
            co_agency_ids=tuple(dict.fromkeys(self.co_agencies)),
            due_on=self.due_on,
        )


class TaskChangeOut(BaseModel):
    from_status: TaskStatus | None
    to_status: TaskStatus
    changed_on: date
    reason: str | None


class TaskOut(BaseModel):
    id: str
    line: str
    title_zh: str
    title_en: str
    lead: str
    co_agencies: list[str]
    due_on: date | None
    status: TaskStatus
    source: str
    history: list[TaskChangeOut]

    @classmethod
    def of(cls, t: Task) -> TaskOut:
        return cls(
            id=t.id,
            line=t.line_id,
            title_zh=t.title_zh,
            title_en=t.title_en,
            lead=t.lead_id,
            co_agencies=list(t.co_agency_ids),
            due_on=t.due_on,
            status=t.status,
            source=t.source,
            history=[
                TaskChangeOut(
                    from_status=c.from_status, to_status=c.to_status, changed_on=c.changed_on, reason=c.reason
                )
                for c in t.history
            ],
        )


class TaskStatusIn(Strict):
    status: TaskStatus
    changed_on: IsoDate | None = None
    reason: str | None = Field(default=None, max_length=2000)


class SeedResultOut(BaseModel):
    organisations: int
    lines: int
    milestones: int
    tasks: int
    overview: int
