"""HTTP API of the pilot rails: participants, digital currency, FX and payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.db import Database
from fintech_zone.errors import FieldError, Forbidden, InvalidInput
from fintech_zone.payments import figures, fx_service, limits, payment_service, service
from fintech_zone.payments.model import Status
from fintech_zone.payments.payment_service import PartyScreener
from fintech_zone.payments.schemas import (
    CapIn,
    CnyShareOut,
    HoldingOut,
    IssuanceOut,
    LimitIO,
    MonthFiguresOut,
    ParticipantIn,
    ParticipantOut,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    QuoteIn,
    QuoteOut,
    RateIn,
    RateOut,
    ReviewIn,
    RmbFiguresOut,
    SupplyOut,
    TokenOperationIn,
)
from fintech_zone.payments.screening_config import screener_for
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.security import DB, get_db, require

router = APIRouter()
fx_router = APIRouter()
Reader = Annotated[Principal, Depends(require())]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Supervisor = Annotated[Principal, Depends(require(Role.OPERATOR, Role.REGULATOR))]
Participating = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTICIPANT))]
CentralBank = Annotated[Principal, Depends(require(Role.PARTICIPANT))]


async def get_screener(request: Request) -> PartyScreener:
    # On the event loop rather than a worker thread (see web.security's DB): the screener is cached, its list file
    # looked at once a second, and only a changed one is read again.
    return screener_for(request.app.state.settings)


Screener = Annotated[PartyScreener, Depends(get_screener)]


@dataclass(frozen=True)
class Sending:
    db: Database
    who: Principal
    screener: PartyScreener


_participating = require(Role.OPERATOR, Role.PARTICIPANT)


async def sending(request: Request) -> Sending:
    """The database, the sender's principal (401/403 as ``Participating``) and the screener as one dependency:
    FastAPI solves each dependency in a pass of its own over the request, and ``POST /api/v1/payments`` took three
    on every payment."""
    return Sending(get_db(request), await _participating(request), await get_screener(request))


def acting_org(who: Principal) -> str | None:
    """The organisation a participant acts for; None for an operator, who acts for the zone."""
    return who.org_id if who.role is Role.PARTICIPANT else None


# -- participants and digital currency -----------------------------------------------------------------------


@router.post(
    "/participants",
    response_model=ParticipantOut,
    status_code=201,
    summary="A participant joins the rails (its registry organisation and ledger accounts are created)",
    responses=problem_responses(403, 409, 422),
)
def join(body: ParticipantIn, db: DB, _: Operator) -> ParticipantOut:
    return ParticipantOut.of(service.join(db, body.to_request()))


@router.get("/participants", response_model=list[ParticipantOut], summary="Participants of the rails")
def participants(db: DB, _: Reader) -> list[ParticipantOut]:
    return [ParticipantOut.of(p) for p in service.list_participants(db)]


@router.get(
    "/participants/{participant_id}",
    response_model=ParticipantOut,
    summary="A participant",
    responses=problem_responses(404, 422),
)
def participant(participant_id: str, db: DB, _: Reader) -> ParticipantOut:
    return ParticipantOut.of(service.get_participant(db, participant_id))


@router.get(
    "/participants/{participant_id}/holdings",
    response_model=list[HoldingOut],
    summary="A participant's balances on the rails (itself, operators and regulators only)",
    responses=problem_responses(403, 404, 422),
)
def holdings(participant_id: str, db: DB, who: Reader) -> list[HoldingOut]:
    if who.role is Role.VIEWER or (who.role is Role.PARTICIPANT and who.org_id != participant_id):
        raise Forbidden("a participant's balances are for itself, operators and regulators")
    return [HoldingOut.of(h) for h in service.holdings(db, participant_id)]


@router.post(
    "/caps",
    response_model=ParticipantOut,
    summary="The central bank sets how many tokens a domestic bank may hold issued",
    responses=problem_responses(403, 404, 409, 422),
)
def set_cap(body: CapIn, db: DB, who: CentralBank) -> ParticipantOut:
    return ParticipantOut.of(service.set_cap(db, who.org_id, body.participant_id, body.asset, body.cap))


@router.post(
    "/reserves",
    response_model=IssuanceOut,
    status_code=201,
    summary="The central bank credits a domestic bank's reserve account (money arriving from RTGS)",
    responses=problem_responses(403, 404, 409, 422),
)
def credit_reserve(body: TokenOperationIn, db: DB, who: CentralBank) -> IssuanceOut:
    return IssuanceOut.of(service.credit_reserve(db, who.org_id, body.participant_id, body.asset, body.amount))


@router.post(
    "/issuance",
    response_model=IssuanceOut,
    status_code=201,
    summary="The central bank issues its token to a domestic bank against the bank's reserve, within its cap",
    responses=problem_responses(403, 404, 409, 422),
)
def issue(body: TokenOperationIn, db: DB, who: CentralBank) -> IssuanceOut:
    return IssuanceOut.of(service.issue(db, who.org_id, body.participant_id, body.asset, body.amount))


@router.post(
    "/redemption",
    response_model=IssuanceOut,
    status_code=201,
    summary="The central bank redeems a domestic bank's tokens back into its reserve",
    responses=problem_responses(403, 404, 409, 422),
)
def redeem(body: TokenOperationIn, db: DB, who: CentralBank) -> IssuanceOut:
    return IssuanceOut.of(service.redeem(db, who.org_id, body.participant_id, body.asset, body.amount))


@router.get(
    "/supply/{asset}",
    response_model=SupplyOut,
    summary="A token's supply: issued − redeemed, as the records, the ledger and the holders each say",
    responses=problem_responses(404, 422),
)
def supply(asset: str, db: DB, _: Reader) -> SupplyOut:
    return SupplyOut.of(service.supply(db, asset))


# -- limits and figures ---------------------------------------------------------------------------------------


@router.post(
    "/limits",
    response_model=LimitIO,
    summary="Set a per-participant or per-corridor limit (per payment, per day) in one asset",
    responses=problem_responses(403, 404, 422),
)
def set_limit(body: LimitIO, db: DB, _: Supervisor) -> LimitIO:
    return LimitIO.of(limits.set_limit(db, body.to_model()))


@router.get("/limits", response_model=list[LimitIO], summary="Limits in force")
def list_limits(db: DB, _: Reader) -> list[LimitIO]:
    return [LimitIO.of(x) for x in limits.list_limits(db)]


def _month(value: str, field: str) -> datetime:
    try:
        parsed = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 7:
        raise InvalidInput([FieldError(field, "a month as YYYY-MM", "format")])
    return parsed


@router.get(
    "/figures/rmb",
    response_model=RmbFiguresOut,
    summary="RMB internationalisation: settled volume and count by month, corridor and asset; CNY's share",
    responses=problem_responses(422),
)
def rmb_figures(
    db: DB,
    _: Reader,
    from_: Annotated[str, Query(alias="from", max_length=7, examples=["2026-01"])],
    to: Annotated[str, Query(max_length=7, examples=["2026-12"], description="inclusive")],
) -> RmbFiguresOut:
    start, last = _month(from_, "from"), _month(to, "to")
    end = last.replace(year=last.year + 1, month=1) if last.month == 12 else last.replace(month=last.month + 1)
    months, share = figures.rmb_figures(db, start, end)
    return RmbFiguresOut(
        months=[MonthFiguresOut.of(m) for m in months],
        cny_share=[CnyShareOut.of(c) for c in share],
        note="Settled payments only. Rows with demo=true are synthetic traffic (fintech-zone simulate payments).",
    )


# -- payments -------------------------------------------------------------------------------------------------


@router.post(
    "",
    response_model=PaymentOut,
    status_code=201,
    summary="Send a payment: received → screened → settled | rejected (or held for review)",
    responses={
        200: {"description": "the same payment re-sent: its recorded outcome"},
        **problem_responses(403, 409, 422),
    },
)
async def create_payment(body: PaymentIn, via: Annotated[Sending, Depends(sending)]) -> Response:
    # On the event loop: the payment waits for its group commit on a future, not in a worker thread of its own.
    payment, new = await payment_service.submit_async(via.db, body.to_request(), via.screener, acting_org(via.who))
    # Written here rather than by FastAPI, which would dump the model to a dict and validate that again against
    # PaymentOut before writing it: the same JSON, at a fraction of the cost (every payment returns this).
    return Response(
        PaymentOut.of(payment).model_dump_json(), status_code=201 if new else 200, media_type="application/json"
    )


@router.get(
    "",
    response_model=PaymentPage,
    summary="Payments, newest first (a participant sees its own)",
    responses=problem_responses(422),
)
def list_payments(
    db: DB,
    who: Reader,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PaymentPage:
    page = payment_service.list_payments(db, acting_org(who), status, cursor, limit)
    return PaymentPage(items=[PaymentOut.of(p) for p in page.items], next_cursor=page.next_cursor)


# `{uetr:uuid}`: only a UUID matches, so /caps, /limits… are never taken for a payment (nor their methods mixed).
@router.get(
    "/{uetr:uuid}",
    response_model=PaymentOut,
    summary="A payment and every decision on it",
    responses=problem_responses(404, 422),
)
def get_payment(uetr: UUID, db: DB, who: Reader) -> PaymentOut:
    return PaymentOut.of(payment_service.get_payment(db, str(uetr), acting_org(who)))


@router.post(
    "/{uetr:uuid}/review",
    response_model=PaymentOut,
    summary="Release or reject a payment held by screening (regulators and operators)",
    responses=problem_responses(403, 404, 409, 422),
)
def review(uetr: UUID, body: ReviewIn, db: DB, who: Supervisor) -> PaymentOut:
    reviewer = f"{who.role.value}:{who.name or who.token_id}"
    return PaymentOut.of(payment_service.review(db, str(uetr), body.decision == "release", body.reason, reviewer))


# -- FX -------------------------------------------------------------------------------------------------------


@fx_router.post(
    "/rates",
    response_model=RateOut,
    status_code=201,
    summary="An FX provider posts its rate for a pair (replacing its previous one)",
    responses=problem_responses(403, 404, 409, 422),
)
def post_rate(body: RateIn, db: DB, who: Participating) -> RateOut:
    rate = fx_service.post_rate(
        db, acting_org(who), body.provider_id, body.pair, body.rate, body.spread_bps, body.valid_seconds
    )
    return RateOut.of(rate)


@fx_router.get("/rates", response_model=list[RateOut], summary="Posted rates")
def rates(db: DB, _: Reader) -> list[RateOut]:
    return [RateOut.of(r) for r in fx_service.list_rates(db)]


@fx_router.post(
    "/quotes",
    response_model=QuoteOut,
    status_code=201,
    summary="A quote for a source or a target amount: best provider, explicit rounding, expires in 600 s",
    responses=problem_responses(403, 404, 422),
)
def create_quote(body: QuoteIn, db: DB, who: Participating) -> QuoteOut:
    demo = service.is_demo(db, acting_org(who))
    quote = fx_service.create_quote(
        db, body.source_asset, body.target_asset, body.source_amount, body.target_amount, demo=demo
    )
    return QuoteOut.of(quote)


@fx_router.get("/quotes/{quote_id}", response_model=QuoteOut, summary="A quote", responses=problem_responses(404, 422))
def get_quote(quote_id: str, db: DB, _: Reader) -> QuoteOut:
    return QuoteOut.of(fx_service.get_quote(db, quote_id))
