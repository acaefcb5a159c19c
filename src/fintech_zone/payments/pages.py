"""Payments pages of the operator console: the list, a payment with its decisions, and the review of a held one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.errors import DomainError
from fintech_zone.payments import payment_service
from fintech_zone.payments.model import Status
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB, page_user

router = APIRouter(tags=["pages"])
User = Annotated[Principal, Depends(page_user)]


def _viewer(who: Principal) -> str | None:
    """A participant sees its own payments only; everyone else signed in sees all."""
    return who.org_id if who.role is Role.PARTICIPANT else None


@router.get("/payments", response_class=HTMLResponse)
def payments_list(
    request: Request,
    db: DB,
    who: User,
    status: str | None = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    chosen = next((s for s in Status if s.value == status), None)
    page = payment_service.list_payments(db, _viewer(who), chosen, cursor, 50)
    context = {"page": page, "status": chosen, "statuses": list(Status)}
    return render(request, "payments_list.html", context)


@router.get("/payments/{uetr}", response_class=HTMLResponse)
def payment_page(request: Request, uetr: str, db: DB, who: User) -> Response:
    payment = payment_service.get_payment(db, uetr, _viewer(who))
    return render(request, "payment.html", {"p": payment, "error": None})


@router.post("/payments/{uetr}/review", response_class=HTMLResponse)
def payment_review(
    request: Request,
    uetr: str,
    db: DB,
    who: User,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if who.role not in (Role.OPERATOR, Role.REGULATOR):
        raise HTTPException(403, "only regulators and operators review held payments")
    try:
        if decision not in ("release", "reject"):
            raise ValueError("choose release or reject")
        reviewer = f"{who.role.value}:{who.name or who.token_id}"
        payment_service.review(db, uetr, decision == "release", reason, reviewer)
    except (DomainError, ValueError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else str(exc)
        payment = payment_service.get_payment(db, uetr)
        return render(request, "payment.html", {"p": payment, "error": message}, status_code=422)
    return RedirectResponse(f"/payments/{uetr}", status_code=303)
