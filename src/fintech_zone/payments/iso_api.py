"""ISO 20022 over HTTP: pacs.008 in, pacs.002 out; camt.053 statements. XML bodies, not JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.payments import iso_service
from fintech_zone.payments.api import Screener, acting_org
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.schemas import IsoDate
from fintech_zone.web.security import DB, require

router = APIRouter()
XML = "application/xml"
BankOrOperator = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTICIPANT))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.REGULATOR, Role.PARTICIPANT))]

_PACS008_BODY = {
    "requestBody": {
        "required": True,
        "content": {XML: {"schema": {"type": "string", "description": "pacs.008.001.08 (CBPR+ usage)"}}},
    }
}


@router.post(
    "/pacs.008",
    summary="A pacs.008.001.08 FI-to-FI credit transfer: answered with a pacs.002 (ACSC, PDNG or RJCT + reason)",
    openapi_extra=_PACS008_BODY,
    responses={
        200: {"content": {XML: {}}, "description": "pacs.002.001.10 with each transaction's status"},
        400: {"content": {XML: {}}, "description": "pacs.002 RJCT FF01: not well-formed, unsafe or schema-invalid"},
        **problem_responses(403),
    },
)
async def pacs008(request: Request, db: DB, who: BankOrOperator, screener: Screener) -> Response:
    body = await request.body()
    answer = iso_service.receive_pacs008(db, body, screener, acting_org(who))
    return Response(answer.document, status_code=answer.http_status, media_type=XML)


@router.get(
    "/camt.053",
    summary="A camt.053.001.08 statement of a ledger account over a period (its owner, operators, regulators)",
    responses={200: {"content": {XML: {}}, "description": "camt.053.001.08"}, **problem_responses(404, 422)},
)
def camt053(
    db: DB,
    who: Reader,
    account: Annotated[str, Query(max_length=64, examples=["pay:cq-bank:CNY"])],
    from_: Annotated[IsoDate, Query(alias="from", description="first day (UTC), inclusive")],
    to: Annotated[IsoDate, Query(description="last day (UTC), inclusive")],
) -> Response:
    start = datetime.combine(from_, time(), UTC)
    end = datetime.combine(to + timedelta(days=1), time(), UTC) if to < date.max else datetime.max.replace(tzinfo=UTC)
    document = iso_service.statement(db, account, start, end, acting_org(who))
    return Response(document, media_type=XML)
