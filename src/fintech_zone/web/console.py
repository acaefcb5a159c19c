"""Console pages shared by every context: home, sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Principal
from fintech_zone.progress import service as progress
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import Status
from fintech_zone.registry.service import OrgFilter
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB, SESSION_KEY, page_user

router = APIRouter(tags=["pages"])


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after sign-in would hand the session to a phishing page.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, _: Annotated[Principal, Depends(page_user)]) -> Response:
    figures = {
        "organisations": registry.count_organisations(db, OrgFilter()),
        "settled": registry.count_organisations(db, OrgFilter(status=Status.SETTLED)),
        "milestones": len(progress.list_milestones(db)),
        "open_tasks": sum(
            1 for t in progress.list_tasks(db) if t.status.value in ("planned", "in_progress", "blocked")
        ),
    }
    return render(request, "home.html", {"figures": figures})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, db: DB, token: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/"
) -> Response:
    principal = auth.authenticate(db, token.strip())
    if principal is None:
        from fintech_zone.web.i18n import Translator
        from fintech_zone.web.pages import request_lang

        message = Translator(request_lang(request)).gettext("That token is unknown or revoked.")
        return render(request, "login.html", {"next": _safe_next(next), "error": message}, status_code=401)
    request.session.clear()
    request.session[SESSION_KEY] = principal.token_id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
