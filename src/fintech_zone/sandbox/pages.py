"""The sandbox's pages, in Chinese and English. Without signing in: the pilots whose statements are disclosed,
each statement with its boundaries and history, and the comment form while it is open for comment. Signed in,
the same pages also show a pilot's drafts to its applicants, its live figures, and the forms of the moves the
signed-in side may make (the applicants apply and submit; the regulators review, score, admit, extend, suspend
and end a pilot)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fintech_zone.auth.model import Role
from fintech_zone.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fintech_zone.sandbox import feedback, figures, service
from fintech_zone.sandbox.api import client_key, limiter, timers
from fintech_zone.sandbox.model import (
    STATEMENT_FIELDS,
    Application,
    Boundaries,
    Cause,
    Criterion,
    Institution,
    InstitutionRole,
    Outcome,
    PilotType,
    Scenario,
    Status,
)
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB, page_user, session_principal

router = APIRouter(tags=["pages"])


def _who(request: Request) -> service.Actor | None:
    p = session_principal(request)
    return None if p is None else service.Actor(p.role, p.org_id)


@router.get("/sandbox", response_class=HTMLResponse)
def pilots_page(request: Request, db: DB) -> Response:
    who = _who(request)
    pilots = service.list_pilots(db, who)
    can_apply = who is not None and who.role in (Role.OPERATOR, Role.PARTICIPANT)
    return render(request, "sandbox_list.html", {"pilots": pilots, "can_apply": can_apply})


CORRIDORS = ("CN-SG", "SG-CN", "CN-CN", "SG-SG")


def _status_of(exc: Exception) -> int:
    for kind, status in ((NotFound, 404), (Forbidden, 403), (Conflict, 409)):
        if isinstance(exc, kind):
            return status
    return 422


def _applicant(request: Request) -> service.Actor:
    principal = page_user(request)
    if principal.role not in (Role.OPERATOR, Role.PARTICIPANT):
        raise Forbidden("a participant (one of the pilot's institutions) or the operator applies for a pilot")
    return service.Actor(principal.role, principal.org_id)


@router.get("/sandbox/apply", response_class=HTMLResponse)
def apply_form(request: Request) -> Response:
    who = _applicant(request)
    return render(request, "sandbox_apply.html", {"form": {"tech_org": who.org_id or ""}, "error": None, **_choices()})


def _choices() -> dict[str, object]:
    return {"texts": STATEMENT_FIELDS, "corridors": CORRIDORS, "types": [t.value for t in PilotType]}


def _per_asset(asset: str, amount: int | None) -> dict[str, int]:
    return {} if amount is None else {asset: amount}


def _minor(value: str, field: str) -> int | None:
    """An amount typed in units with up to two decimals (yuan, dollars), in minor units."""
    if not value.strip():
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{field}: {value!r} is not an amount") from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{field}: a positive amount with at most two decimals")
    return int(amount * 100)


@router.post("/sandbox/apply", response_class=HTMLResponse)
async def apply_submit(request: Request, db: DB) -> Response:
    who = _applicant(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    corridors = tuple(c for c in CORRIDORS if form.get(f"corridor_{c}"))
    try:
        asset = form.get("asset", "CNY").strip() or "CNY"
        limits = {name: _minor(form.get(name, ""), name) for name in ("per_payment", "daily", "total")}
        max_customers = int(form["max_customers"]) if form.get("max_customers", "").strip() else None
        institutions = [Institution(form.get("tech_org", "").strip(), InstitutionRole.TECHNOLOGY_FIRM)]
        if form.get("fi_org", "").strip():
            institutions.append(
                Institution(
                    form["fi_org"].strip(),
                    InstitutionRole.FINANCIAL_INSTITUTION,
                    form.get("licence", "").strip() or None,
                )
            )
        scenarios: tuple[Scenario, ...] = ()
        if form.get("scenario", "").strip():
            scenarios = (Scenario(form["scenario"].strip(), form.get("success_criteria", "").strip()),)
        application = Application(
            name=form.get("name", "").strip(),
            type=PilotType(form.get("type", PilotType.FINANCIAL_SERVICE.value)),
            institutions=tuple(institutions),
            planned_go_live=date.fromisoformat(form["planned_go_live"]) if form.get("planned_go_live") else None,
            scenarios=scenarios,
            requested=Boundaries(
                max_customers,
                _per_asset(asset, limits["per_payment"]),
                _per_asset(asset, limits["daily"]),
                _per_asset(asset, limits["total"]),
                corridors,
                date.fromisoformat(form["starts_on"]) if form.get("starts_on") else None,
                date.fromisoformat(form["ends_on"]) if form.get("ends_on") else None,
            ),
            cross_border=bool(form.get("cross_border")),
            **{name: form.get(name, "").strip() for name in STATEMENT_FIELDS},
        )
        pilot = service.create_pilot(db, form.get("id", "").strip(), application, who)
    except (DomainError, ValueError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else str(exc)
        status = _status_of(exc)
        return render(request, "sandbox_apply.html", {"form": form, "error": message, **_choices()}, status)
    return RedirectResponse(f"/sandbox/{pilot.id}", status_code=303)


def _pilot_page(request: Request, db: DB, pilot_id: str, status_code: int = 200, **extra: object) -> Response:
    who = _who(request)
    try:
        pilot = service.get_pilot(db, pilot_id, who)
    except NotFound:
        detail = f"no disclosed pilot {pilot_id}"
        return render(request, "error.html", {"status": 404, "title": "Not found", "detail": detail}, 404)
    try:
        live = figures.monitor(db, pilot_id, who, timers(request)) if who is not None else None
    except Forbidden:
        live = None
    context = {
        "pilot": pilot,
        "app": pilot.application,
        "usage": figures.usage(db, pilot_id),
        "institutions": figures.institutions(db, pilot),
        "comments": feedback.comments(db, pilot_id) if pilot.status in service.PUBLIC else [],
        "figures": live,
        "who": who,
        "moves": _moves(pilot.status, pilot.outcome is Outcome.EXTENDED, who),
        "outcomes": [o.value for o in Outcome],
        "causes": [c.value for c in Cause],
        "decision_error": None,
        "open": pilot.status is Status.PUBLIC_DISCLOSURE,
        "criteria": [c.value for c in Criterion],
        "author": "",
        "body": "",
        "error": None,
        "thanks": request.query_params.get("commented") == "1",
        **extra,
    }
    return render(request, "sandbox_pilot.html", context, status_code)


@router.get("/sandbox/{pilot_id}", response_class=HTMLResponse)
def pilot_page(request: Request, db: DB, pilot_id: str) -> Response:
    return _pilot_page(request, db, pilot_id)


@router.post("/sandbox/{pilot_id}/comments", response_class=HTMLResponse)
def comment_form(
    request: Request,
    db: DB,
    pilot_id: str,
    body: Annotated[str, Form(max_length=2000)] = "",
    author: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not limiter(request).allow(client_key(request)):
        return _pilot_page(request, db, pilot_id, 429, author=author, body=body, error="rate")
    try:
        feedback.add_comment(db, pilot_id, author or None, body)
    except InvalidInput:
        return _pilot_page(request, db, pilot_id, 422, author=author, body=body, error="invalid")
    except Conflict:
        return _pilot_page(request, db, pilot_id, 409, author=author, body=body, error="closed")
    except NotFound:
        return _pilot_page(request, db, pilot_id, 404)
    lang = request.query_params.get("lang")
    suffix = f"&lang={lang}" if lang in ("en", "zh") else ""
    return RedirectResponse(f"/sandbox/{pilot_id}?commented=1{suffix}#comments", status_code=303)


def _moves(status: Status, extended: bool, who: service.Actor | None) -> list[str]:
    """The states the signed-in side may try to move to from here (the service decides the rest)."""
    if who is None or who.role is Role.VIEWER or (status is Status.EXITED and not extended):
        return []
    regulator = {
        Status.SUBMITTED: [Status.PRELIMINARY_REVIEW],
        Status.PRELIMINARY_REVIEW: [Status.EVALUATION, Status.DRAFT],
        Status.EVALUATION: [Status.PUBLIC_DISCLOSURE, Status.DRAFT],
        Status.PUBLIC_DISCLOSURE: [Status.ADMITTED],
        Status.ADMITTED: [Status.TESTING],
    }
    applicant = {Status.DRAFT: [Status.SUBMITTED], Status.ADMITTED: [Status.TESTING]}
    moves = (regulator if who.role is Role.REGULATOR else applicant).get(status, [])
    return [m.value for m in moves] + [Status.EXITED.value]


@router.post("/sandbox/{pilot_id}/move", response_class=HTMLResponse)
def move_form(
    request: Request,
    db: DB,
    pilot_id: str,
    to: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    cause: Annotated[str, Form(max_length=32)] = "",
    ends_on: Annotated[str, Form(max_length=10)] = "",
    inclusive_benefit: Annotated[str, Form(max_length=2)] = "",
    technical_innovation: Annotated[str, Form(max_length=2)] = "",
    controllable_risk: Annotated[str, Form(max_length=2)] = "",
    need_for_regulatory_support: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    principal = page_user(request)
    who = service.Actor(principal.role, principal.org_id)
    try:
        target = Status(to)
        given = {
            "inclusive_benefit": inclusive_benefit,
            "technical_innovation": technical_innovation,
            "controllable_risk": controllable_risk,
            "need_for_regulatory_support": need_for_regulatory_support,
        }
        scores = {k: int(v) for k, v in given.items() if v.strip()} or None
        boundaries = None
        if ends_on.strip():  # an extension: the current boundaries to a later end date
            current = service.get_pilot(db, pilot_id, who)
            base = current.boundaries or current.application.requested
            boundaries = Boundaries(
                base.max_customers, base.per_payment, base.daily, base.total, base.corridors, base.starts_on,
                date.fromisoformat(ends_on),
            )  # fmt: skip
        service.transition(
            db,
            pilot_id,
            target,
            reason,
            who,
            outcome=Outcome(outcome) if outcome else None,
            cause=Cause(cause) if cause else None,
            scores=scores,
            boundaries=boundaries,
            timers=timers(request),
        )
    except (DomainError, ValueError) as exc:
        status = _status_of(exc)
        message = exc.detail if isinstance(exc, DomainError) else str(exc)
        return _pilot_page(request, db, pilot_id, status, decision_error=message)
    return RedirectResponse(f"/sandbox/{pilot_id}", status_code=303)


@router.post("/sandbox/{pilot_id}/suspension", response_class=HTMLResponse)
def suspension_form(
    request: Request,
    db: DB,
    pilot_id: str,
    suspended: Annotated[str, Form(max_length=1)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = page_user(request)
    try:
        service.set_suspended(db, pilot_id, suspended == "1", reason, service.Actor(principal.role, principal.org_id))
    except DomainError as exc:
        status = _status_of(exc)
        return _pilot_page(request, db, pilot_id, status, decision_error=exc.detail)
    return RedirectResponse(f"/sandbox/{pilot_id}", status_code=303)
