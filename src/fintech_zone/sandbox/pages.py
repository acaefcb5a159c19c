"""The sandbox's public disclosure pages (no sign-in, Chinese and English): the pilots whose statements are
disclosed, each statement with its boundaries and history, and the comment form while it is open for comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fintech_zone.errors import Conflict, InvalidInput, NotFound
from fintech_zone.sandbox import service
from fintech_zone.sandbox.api import client_key, limiter
from fintech_zone.sandbox.model import Criterion, Status
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB

router = APIRouter(tags=["pages"])


@router.get("/sandbox", response_class=HTMLResponse)
def pilots_page(request: Request, db: DB) -> Response:
    pilots = service.list_pilots(db, None)
    return render(request, "sandbox_list.html", {"pilots": pilots, "open": Status.PUBLIC_DISCLOSURE})


def _pilot_page(request: Request, db: DB, pilot_id: str, status_code: int = 200, **extra: object) -> Response:
    try:
        pilot = service.get_pilot(db, pilot_id, None)
    except NotFound:
        detail = f"no disclosed pilot {pilot_id}"
        return render(request, "error.html", {"status": 404, "title": "Not found", "detail": detail}, 404)
    context = {
        "pilot": pilot,
        "app": pilot.application,
        "usage": service.usage(db, pilot_id),
        "comments": service.comments(db, pilot_id),
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
        service.add_comment(db, pilot_id, author or None, body)
    except InvalidInput:
        return _pilot_page(request, db, pilot_id, 422, author=author, body=body, error="invalid")
    except Conflict:
        return _pilot_page(request, db, pilot_id, 409, author=author, body=body, error="closed")
    except NotFound:
        return _pilot_page(request, db, pilot_id, 404)
    lang = request.query_params.get("lang")
    suffix = f"&lang={lang}" if lang in ("en", "zh") else ""
    return RedirectResponse(f"/sandbox/{pilot_id}?commented=1{suffix}#comments", status_code=303)
