"""Registry pages of the operator console: the filtered list and an organisation's page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fintech_zone.auth.model import Principal
from fintech_zone.errors import DomainError
from fintech_zone.registry import service
from fintech_zone.registry.model import JURISDICTIONS, Kind, Sector, Status
from fintech_zone.registry.service import OrgFilter
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB, page_operator, page_user

router = APIRouter(tags=["pages"])
User = Annotated[Principal, Depends(page_user)]


E = TypeVar("E", Kind, Sector, Status)


def _enum_or_none(enum: type[E], value: str | None) -> E | None:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@router.get("/registry", response_class=HTMLResponse)
def registry_list(
    request: Request,
    db: DB,
    _: User,
    q: Annotated[str | None, Query(max_length=200)] = None,
    kind: str | None = None,
    jurisdiction: str | None = None,
    sector: str | None = None,
    status: str | None = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    f = OrgFilter(
        q=q or None,
        kind=_enum_or_none(Kind, kind),
        jurisdiction=jurisdiction if jurisdiction in JURISDICTIONS else None,
        sector=_enum_or_none(Sector, sector),
        status=_enum_or_none(Status, status),
    )
    page = service.search_organisations(db, f, cursor, 50)
    context = {
        "page": page,
        "filter": f,
        "total": service.count_organisations(db, f),
        "kinds": list(Kind),
        "sectors": list(Sector),
        "statuses": list(Status),
        "jurisdictions": JURISDICTIONS,
    }
    template = "registry_rows.html" if request.headers.get("hx-request") else "registry_list.html"
    return render(request, template, context)


@router.get("/registry/{org_id}", response_class=HTMLResponse)
def organisation_page(request: Request, org_id: str, db: DB, _: User) -> Response:
    detail = service.organisation_detail(db, org_id)
    return render(request, "organisation.html", {"d": detail, "statuses": list(Status), "error": None})


@router.post("/registry/{org_id}/status", response_class=HTMLResponse)
def organisation_status(
    request: Request,
    org_id: str,
    db: DB,
    _: Annotated[Principal, Depends(page_operator)],
    status: Annotated[str, Form()],
    changed_on: Annotated[str | None, Form()] = None,
    reason: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    try:
        target = Status(status)
        when = date.fromisoformat(changed_on) if changed_on else None
        service.change_status(db, org_id, target, when, reason or None)
    except (DomainError, ValueError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else str(exc)
        detail = service.organisation_detail(db, org_id)
        return render(
            request,
            "organisation.html",
            {"d": detail, "statuses": list(Status), "error": message},
            status_code=422,
        )
    return RedirectResponse(f"/registry/{org_id}", status_code=303)
