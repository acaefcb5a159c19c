"""Progress HTTP API: lines of work, milestones, tasks, and the generated report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.progress import report, service
from fintech_zone.progress.schemas import (
    LineOut,
    MilestoneIn,
    MilestoneOut,
    SeedResultOut,
    TaskIn,
    TaskOut,
    TaskStatusIn,
)
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.schemas import IsoDate
from fintech_zone.web.security import DB, require

router = APIRouter()
Reader = Annotated[Principal, Depends(require())]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


@router.get("/lines", response_model=list[LineOut], summary="Lines of work: the progress lines, then the next steps")
def list_lines(db: DB, _: Reader) -> list[LineOut]:
    return [LineOut.of(li) for li in service.list_lines(db)]


@router.get(
    "/milestones",
    response_model=list[MilestoneOut],
    summary="Milestones in date order",
    responses=problem_responses(404, 422),
)
def list_milestones(
    db: DB,
    _: Reader,
    before: Annotated[
        IsoDate | None,
        Query(
            description="Only milestones dated on or before this date; a month-precision "
            "milestone counts from the first day of its month"
        ),
    ] = None,
    line: Annotated[str | None, Query(max_length=64)] = None,
) -> list[MilestoneOut]:
    return [MilestoneOut.of(m) for m in service.list_milestones(db, before, line)]


@router.get(
    "/milestones/{milestone_id}",
    response_model=MilestoneOut,
    summary="One milestone",
    responses=problem_responses(404, 422),
)
def get_milestone(milestone_id: str, db: DB, _: Reader) -> MilestoneOut:
    return MilestoneOut.of(service.get_milestone(db, milestone_id))


@router.post(
    "/milestones",
    response_model=MilestoneOut,
    status_code=201,
    summary="Record a milestone",
    responses=problem_responses(403, 409, 422),
)
def add_milestone(body: MilestoneIn, db: DB, _: Operator) -> MilestoneOut:
    return MilestoneOut.of(service.add_milestone(db, body.to_model()))


@router.get(
    "/tasks",
    response_model=list[TaskOut],
    summary="Tasks with their status history",
    responses=problem_responses(404, 422),
)
def list_tasks(db: DB, _: Reader, line: Annotated[str | None, Query(max_length=64)] = None) -> list[TaskOut]:
    return [TaskOut.of(t) for t in service.list_tasks(db, line)]


@router.get("/tasks/{task_id}", response_model=TaskOut, summary="One task", responses=problem_responses(404, 422))
def get_task(task_id: str, db: DB, _: Reader) -> TaskOut:
    return TaskOut.of(service.get_task(db, task_id))


@router.post(
    "/tasks",
    response_model=TaskOut,
    status_code=201,
    summary="Add a task to a line of work",
    responses=problem_responses(403, 409, 422),
)
def add_task(body: TaskIn, db: DB, _: Operator) -> TaskOut:
    return TaskOut.of(service.add_task(db, body.to_model()))


@router.post(
    "/tasks/{task_id}/status",
    response_model=TaskOut,
    summary="Change a task's status",
    responses=problem_responses(403, 404, 422),
)
def change_task_status(task_id: str, body: TaskStatusIn, db: DB, _: Operator) -> TaskOut:
    return TaskOut.of(service.change_task_status(db, task_id, body.status, body.changed_on, body.reason))


@router.post(
    "/seed",
    response_model=SeedResultOut,
    summary="Load the seed document's facts (idempotent)",
    responses=problem_responses(403),
)
def load_seed(db: DB, _: Operator) -> SeedResultOut:
    return SeedResultOut(**service.load_seed(db).__dict__)


@router.get(
    "/report",
    response_class=Response,
    summary="The progress report, generated from the database",
    responses={
        200: {"content": {"text/markdown": {}, "text/html": {}, "application/pdf": {}}},
        **problem_responses(422),
    },
)
def progress_report(
    db: DB,
    _: Reader,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    format: report.ReportFormat = report.ReportFormat.HTML,
    as_of: IsoDate | None = None,
) -> Response:
    return report.download(service.report_facts(db, as_of), lang, format)
