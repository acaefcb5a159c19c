"""Progress pages: the timeline and the report download."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fintech_zone.auth.model import Principal
from fintech_zone.progress import report, service
from fintech_zone.registry import service as registry
from fintech_zone.web.pages import render
from fintech_zone.web.schemas import IsoDate
from fintech_zone.web.security import DB, page_user

router = APIRouter(tags=["pages"])
User = Annotated[Principal, Depends(page_user)]


@router.get("/progress", response_class=HTMLResponse)
def timeline(request: Request, db: DB, _: User) -> Response:
    lines = {li.id: li for li in service.list_lines(db)}
    milestones = service.list_milestones(db)
    tasks = service.list_tasks(db)
    org_ids = {a for m in milestones for a in m.agency_ids} | {t.lead_id for t in tasks}
    orgs = {i: registry.get_organisation(db, i) for i in org_ids}
    return render(request, "timeline.html", {"lines": lines, "milestones": milestones, "tasks": tasks, "orgs": orgs})


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, _: User) -> Response:
    return render(request, "reports.html", {"today": date.today()})


@router.get("/reports/progress")
def report_download(
    db: DB,
    _: User,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    format: report.ReportFormat = report.ReportFormat.HTML,
    as_of: IsoDate | None = None,
) -> Response:
    return report.download(service.report_facts(db, as_of), lang, format)
