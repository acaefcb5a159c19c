"""The progress tracker's domain: lines of work, dated milestones with their precision, tasks. Pure."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.text import text_error


class LineKind(StrEnum):
    PROGRESS = "progress"
    NEXT_STEP = "next_step"


class Precision(StrEnum):
    MONTH = "month"
    DAY = "day"


class TaskStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FuzzyDate:
    """A date known to a month or a day. ``start`` orders it; ``end`` is the last day it may stand for."""

    year: int
    month: int
    day: int | None = None

    @property
    def precision(self) -> Precision:
        return Precision.MONTH if self.day is None else Precision.DAY

    @property
    def start(self) -> date:
        return date(self.year, self.month, self.day or 1)

    @property
    def end(self) -> date:
        return date(self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1])

    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" + (f"-{self.day:02d}" if self.day else "")

    @classmethod
    def parse(cls, text: str, field_name: str = "date") -> FuzzyDate:
        match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text.strip())
        error = InvalidInput([FieldError(field_name, f"{text!r} is not YYYY-MM or YYYY-MM-DD", "date_format")])
        if not match:
            raise error
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3)) if match.group(3) else None
        try:
            date(year, month, day or 1)
        except ValueError:
            raise error from None
        return cls(year, month, day)

    @classmethod
    def from_parts(cls, start: date, precision: Precision) -> FuzzyDate:
        return cls(start.year, start.month, start.day if precision is Precision.DAY else None)


@dataclass(frozen=True)
class Figure:
    """A number a milestone reports, e.g. 16 firms signed; labels read after the value."""

    key: str
    value: int
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a reference (seed paragraph, minutes, URL) and, for the seed, its original words."""

    ref: str
    quote: str | None = None


@dataclass(frozen=True)
class Line:
    id: str
    kind: LineKind
    number: int
    title_zh: str
    title_en: str
    source: str


@dataclass(frozen=True)
class OverviewSection:
    id: str
    number: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    source: str


@dataclass(frozen=True)
class Milestone:
    id: str
    line_id: str
    when: FuzzyDate
    title_zh: str
    title_en: str
    source: Source
    agency_ids: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class TaskChange:
    task_id: str
    from_status: TaskStatus | None
    to_status: TaskStatus
    changed_on: date
    reason: str | None


@dataclass(frozen=True)
class Task:
    id: str
    line_id: str
    title_zh: str
    title_en: str
    lead_id: str
    status: TaskStatus
    source: str
    co_agency_ids: tuple[str, ...] = ()
    due_on: date | None = None
    history: tuple[TaskChange, ...] = field(default_factory=tuple)

    def status_on(self, as_of: date) -> TaskStatus | None:
        """The status on a date, or None when the task did not exist yet."""
        current: TaskStatus | None = None
        for change in self.history:
            if change.changed_on <= as_of:
                current = change.to_status
        return current


ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


def check_milestone(m: Milestone) -> None:
    errors: list[FieldError] = []
    if not ID_PATTERN.match(m.id):
        errors.append(FieldError("id", "1-64 characters of [A-Za-z0-9._:-], starting with a letter or digit", "format"))
    for name, value in (("title_zh", m.title_zh), ("title_en", m.title_en), ("source", m.source.ref)):
        if not value.strip():
            errors.append(FieldError(name, "must not be blank", "required"))
        elif (error := text_error(name, value, 4000, multiline=True)) is not None:
            errors.append(error)
    for i, f in enumerate(m.figures):
        for name, value in (("label_zh", f.label_zh), ("label_en", f.label_en)):
            if (error := text_error(f"figures.{i}.{name}", value, 200)) is not None:
                errors.append(error)
    keys = [f.key for f in m.figures]
    if len(keys) != len(set(keys)):
        errors.append(FieldError("figures", "each figure key may appear once", "duplicate"))
    if errors:
        raise InvalidInput(errors)


def check_task(t: Task) -> None:
    errors: list[FieldError] = []
    if not ID_PATTERN.match(t.id):
        errors.append(FieldError("id", "1-64 characters of [A-Za-z0-9._:-], starting with a letter or digit", "format"))
    for name, value in (("title_zh", t.title_zh), ("title_en", t.title_en), ("source", t.source)):
        if not value.strip():
            errors.append(FieldError(name, "must not be blank", "required"))
        elif (error := text_error(name, value, 4000, multiline=True)) is not None:
            errors.append(error)
    if t.lead_id in t.co_agency_ids:
        errors.append(FieldError("co_agencies", "the lead agency cannot also be a co-agency", "duplicate"))
    if errors:
        raise InvalidInput(errors)


def check_task_transition(current: TaskStatus, target: TaskStatus, reason: str | None) -> None:
    if current == target:
        raise InvalidInput([FieldError("status", f"task is already {current.value}", "same_status")])
    if reason is not None and (error := text_error("reason", reason, 2000, multiline=True)) is not None:
        raise InvalidInput([error])
    reopening = current in (TaskStatus.DONE, TaskStatus.CANCELLED)
    if (reopening or target in (TaskStatus.BLOCKED, TaskStatus.CANCELLED)) and not (reason and reason.strip()):
        raise InvalidInput(
            [
                FieldError(
                    "reason",
                    f"moving a task from {current.value} to {target.value} needs a reason",
                    "reason_required",
                )
            ]
        )
