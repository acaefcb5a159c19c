"""Registry HTTP API: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from fintech_zone.auth.model import Principal, Role
from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.registry import service
from fintech_zone.registry.model import Kind, NewOrganisation, Sector, Status
from fintech_zone.registry.schemas import (
    AgreementIn,
    AgreementOut,
    ImportErrorOut,
    ImportOut,
    OrganisationDetailOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    StatusChangeIn,
    StatusChangeOut,
)
from fintech_zone.registry.service import OrgFilter
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.security import DB, require

router = APIRouter()
Reader = Annotated[Principal, Depends(require())]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    summary="Register an organisation",
    responses=problem_responses(403, 409, 422),
)
def create_organisation(body: OrganisationIn, db: DB, _: Operator) -> OrganisationOut:
    new = NewOrganisation(
        id=body.id,
        kind=body.kind.value,
        jurisdiction=body.jurisdiction,
        name_en=body.name_en,
        name_zh=body.name_zh,
        sector=body.sector.value,
        status=body.status.value if body.status else None,
        uscc=body.uscc,
        uen=body.uen,
        lei=body.lei,
        bic=body.bic,
        source=body.source,
    )
    return OrganisationOut.of(service.create_organisation(db, new, body.since))


@router.get(
    "/organisations",
    response_model=OrganisationPage,
    summary="Search and filter organisations",
    responses=problem_responses(422),
)
def list_organisations(
    db: DB,
    _: Reader,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in either name or the id; or an exact identifier")
    ] = None,
    kind: Kind | None = None,
    jurisdiction: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    sector: Sector | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> OrganisationPage:
    f = OrgFilter(
        q=q or None,
        kind=kind,
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        sector=sector,
        status=status,
    )
    page = service.search_organisations(db, f, cursor, limit)
    return OrganisationPage(items=[OrganisationOut.of(o) for o in page.items], next_cursor=page.next_cursor)


@router.get(
    "/organisations/{org_id}",
    response_model=OrganisationDetailOut,
    summary="One organisation with its status history and agreements",
    responses=problem_responses(404, 422),
)
def get_organisation(org_id: str, db: DB, _: Reader) -> OrganisationDetailOut:
    d = service.organisation_detail(db, org_id)
    return OrganisationDetailOut(
        **OrganisationOut.of(d.organisation).model_dump(),
        history=[StatusChangeOut.of(c) for c in d.history],
        agreements=[AgreementOut.of(a) for a in d.agreements],
    )


@router.post(
    "/organisations/{org_id}/status",
    response_model=OrganisationOut,
    summary="Move an organisation along the settlement pipeline",
    responses=problem_responses(403, 404, 422),
)
def change_status(org_id: str, body: StatusChangeIn, db: DB, _: Operator) -> OrganisationOut:
    return OrganisationOut.of(service.change_status(db, org_id, body.status, body.changed_on, body.reason))


@router.post(
    "/imports",
    response_model=ImportOut,
    summary="Import organisations from CSV",
    description="Body: `text/csv` (UTF-8) with the columns in docs/registry.md. All-or-nothing unless "
    "`skip_bad_rows=true`: any bad row gives 422 listing every bad row with its number and field, and nothing "
    "is written.",
    responses=problem_responses(403, 409, 422),
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}},
)
async def import_csv(request: Request, db: DB, _: Operator, skip_bad_rows: bool = False) -> ImportOut:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("text/csv", "text/plain"):
        raise InvalidInput([FieldError("content-type", "send the file as text/csv", "media_type")])
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput([FieldError("file", f"not UTF-8 (byte {exc.start})", "encoding")]) from exc
    result = service.import_csv(db, io.StringIO(text, newline=""), skip_bad_rows=skip_bad_rows)
    return ImportOut(
        imported=result.imported,
        skipped=[
            ImportErrorOut(row=e.row, field=e.field, check=e.check, message=e.message) for e in result.skipped_rows
        ],
    )


@router.get("/agreements", response_model=list[AgreementOut], summary="Agreements, oldest first")
def list_agreements(db: DB, _: Reader) -> list[AgreementOut]:
    return [AgreementOut.of(a) for a in service.list_agreements(db)]


@router.post(
    "/agreements",
    response_model=AgreementOut,
    status_code=201,
    summary="Record an agreement",
    responses=problem_responses(403, 409, 422),
)
def create_agreement(body: AgreementIn, db: DB, _: Operator) -> AgreementOut:
    return AgreementOut.of(service.create_agreement(db, body.to_model()))


@router.get("/taxonomy", summary="Allowed kinds, sectors, statuses and jurisdictions")
def taxonomy(_: Reader) -> dict[str, list[str]]:
    from fintech_zone.registry.model import JURISDICTIONS

    return {
        "kinds": [k.value for k in Kind],
        "sectors": [s.value for s in Sector],
        "statuses": [s.value for s in Status],
        "jurisdictions": list(JURISDICTIONS),
    }
