"""HTTP API of the pilot sandbox: applications, the lifecycle, suspension, live figures, complaints, and the
public disclosure (no token) with its comment form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.errors import TooManyRequests
from fintech_zone.sandbox import feedback, figures, report, service
from fintech_zone.sandbox.model import Status
from fintech_zone.sandbox.schemas import (
    ApplicationIO,
    CommentIn,
    CommentOut,
    ComplaintIn,
    MonitorOut,
    PilotIn,
    PilotOut,
    SuspensionIn,
    TransitionIn,
)
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.ratelimit import RateLimiter
from fintech_zone.web.security import DB, bearer_principal, require

router = APIRouter()
public_router = APIRouter()
"""The public disclosure: no token (mounted without the 401 the rest of the API may answer)."""
Reader = Annotated[Principal, Depends(require())]
Applicant = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTICIPANT))]
Actor = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTICIPANT, Role.REGULATOR))]
Regulator = Annotated[Principal, Depends(require(Role.REGULATOR))]


def optional_principal(request: Request) -> Principal | None:
    """The caller when it sends a token (a draft is its applicants' and the regulators'), else the public."""
    return bearer_principal(request) if request.headers.get("authorization") else None


Maybe = Annotated[Principal | None, Depends(optional_principal)]


def actor(p: Principal | None) -> service.Actor | None:
    return None if p is None else service.Actor(p.role, p.org_id)


def timers(request: Request) -> service.Timers:
    s = request.app.state.settings
    return service.Timers(s.sandbox_review_days, s.sandbox_evaluation_days, s.sandbox_comment_days)


@router.post(
    "/pilots",
    response_model=PilotOut,
    status_code=201,
    summary="Apply for a pilot (a draft, by one of its institutions or the operator)",
    responses=problem_responses(403, 409, 422),
)
def create(body: PilotIn, db: DB, who: Applicant) -> PilotOut:
    app = ApplicationIO.model_validate(body.model_dump(exclude={"id"})).to_model()
    return PilotOut.of(service.create_pilot(db, body.id, app, service.Actor(who.role, who.org_id)))


@router.put(
    "/pilots/{pilot_id}/application",
    response_model=PilotOut,
    summary="Change a draft application",
    responses=problem_responses(403, 404, 409, 422),
)
def update(pilot_id: str, body: ApplicationIO, db: DB, who: Applicant) -> PilotOut:
    pilot = service.update_application(db, pilot_id, body.to_model(), service.Actor(who.role, who.org_id))
    return PilotOut.of(pilot)


@router.get(
    "/pilots",
    response_model=list[PilotOut],
    summary="Pilots the caller may see (drafts: its own)",
    responses=problem_responses(422),
)
def pilots(db: DB, who: Reader, status: Annotated[Status | None, Query()] = None) -> list[PilotOut]:
    return [PilotOut.of(p) for p in service.list_pilots(db, actor(who), status)]


@router.get(
    "/pilots/{pilot_id}",
    response_model=PilotOut,
    summary="A pilot, its boundaries and the space it has used (public from disclosure on)",
    responses=problem_responses(404, 422),
)
def pilot(pilot_id: str, db: DB, who: Maybe) -> PilotOut:
    found = service.get_pilot(db, pilot_id, actor(who))
    return PilotOut.of(found, figures.usage(db, pilot_id), figures.institutions(db, found))


@router.post(
    "/pilots/{pilot_id}/transitions",
    response_model=PilotOut,
    summary="Move a pilot with a reason (403: not this side's move or not its regulator; 409: not from here)",
    responses=problem_responses(403, 404, 409, 422),
)
def move(pilot_id: str, body: TransitionIn, request: Request, db: DB, who: Actor) -> PilotOut:
    pilot = service.transition(
        db,
        pilot_id,
        body.to,
        body.reason,
        service.Actor(who.role, who.org_id),
        outcome=body.outcome,
        cause=body.cause,
        scores=body.scores,
        boundaries=body.boundaries.to_model() if body.boundaries else None,
        timers=timers(request),
        assessment=body.assessment_dict(),
    )
    return PilotOut.of(pilot, figures.usage(db, pilot_id))


@router.post(
    "/pilots/{pilot_id}/suspension",
    response_model=PilotOut,
    summary="A regulator suspends a pilot at once (its payments are refused) or resumes it",
    responses=problem_responses(403, 404, 409, 422),
)
def suspend(pilot_id: str, body: SuspensionIn, db: DB, who: Regulator) -> PilotOut:
    pilot = service.set_suspended(db, pilot_id, body.suspended, body.reason, service.Actor(who.role, who.org_id))
    return PilotOut.of(pilot, figures.usage(db, pilot_id))


@router.get(
    "/pilots/{pilot_id}/monitor",
    response_model=MonitorOut,
    summary="Live figures: customers, volumes, rejections, alerts, complaints, boundary use, service level",
    responses=problem_responses(403, 404, 422),
)
def monitor(pilot_id: str, request: Request, db: DB, who: Actor) -> MonitorOut:
    return MonitorOut.of(figures.monitor(db, pilot_id, actor(who), timers(request)))


@router.get(
    "/pilots/{pilot_id}/report",
    response_class=Response,
    summary="The pilot's exit report (HTML or PDF, zh or en), generated from its records",
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, **problem_responses(403, 404, 422)},
)
def exit_report(
    pilot_id: str,
    db: DB,
    who: Actor,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    format: report.ReportFormat = report.ReportFormat.HTML,
) -> Response:
    pilot, used, events = figures.report_facts(db, pilot_id, actor(who))
    return report.download(pilot, used, events, lang, format)


@router.post(
    "/pilots/{pilot_id}/complaints",
    status_code=204,
    summary="Record a customer complaint",
    responses=problem_responses(403, 404, 409, 422),
)
def complaint(pilot_id: str, body: ComplaintIn, db: DB, who: Actor) -> None:
    feedback.record_complaint(db, pilot_id, body.detail, service.Actor(who.role, who.org_id))


# -- public disclosure (no token) -----------------------------------------------------------------------------------


@public_router.get(
    "/public/pilots", response_model=list[PilotOut], summary="Disclosed pilots and their statements (public)"
)
def public_pilots(db: DB) -> list[PilotOut]:
    return [PilotOut.of(p) for p in service.list_pilots(db, None)]


@public_router.get(
    "/public/pilots/{pilot_id}/comments",
    response_model=list[CommentOut],
    summary="Public comments on a disclosed pilot",
    responses=problem_responses(404, 422),
)
def public_comments(pilot_id: str, db: DB) -> list[CommentOut]:
    return [CommentOut(**c) for c in feedback.comments(db, pilot_id)]


def limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "comment_limiter", None) is None:
        s = state.settings
        state.comment_limiter = RateLimiter(s.sandbox_comments_per_window, s.sandbox_comment_window_seconds)
    found: RateLimiter = state.comment_limiter
    return found


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@public_router.post(
    "/public/pilots/{pilot_id}/comments",
    status_code=204,
    summary="Comment on a pilot's statement while it is disclosed (rate-limited per address)",
    responses=problem_responses(404, 409, 422, 429),
)
def comment(pilot_id: str, body: CommentIn, request: Request, db: DB) -> None:
    if not limiter(request).allow(client_key(request)):
        raise TooManyRequests("too many comments from this address: try again in a few minutes")
    feedback.add_comment(db, pilot_id, body.author, body.body)
