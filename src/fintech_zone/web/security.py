"""Who is asking: bearer tokens for the API, a signed session cookie for the pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Principal, Role
from fintech_zone.db import Database

ALL_ROLES = tuple(Role)


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _db_dependency(request: Request) -> Database:
    # A coroutine, so FastAPI calls it on the event loop: a sync dependency is handed to a worker thread, and that
    # hand-off costs far more than the look-up (every API request has one).
    return get_db(request)


DB = Annotated[Database, Depends(_db_dependency)]


def bearer_principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(
            401, "an Authorization: Bearer <token> header is required", headers={"WWW-Authenticate": "Bearer"}
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "the Authorization header must use the Bearer scheme",
            headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
        )
    principal = auth.authenticate(get_db(request), token.strip())
    if principal is None:
        raise HTTPException(
            401,
            "the token is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: a valid bearer token whose role is one of ``roles`` (401 without one, 403 with the wrong role)."""
    allowed = roles or ALL_ROLES

    async def dependency(request: Request) -> Principal:
        # On SQLite the look-up is one indexed read of a local file (tens of microseconds), done on the event loop:
        # handing it to a worker thread costs more than the read, on every API request. On PostgreSQL it is a
        # network round trip, which must not hold up the loop.
        if get_db(request).dialect == "sqlite":
            principal = bearer_principal(request)
        else:
            principal = await run_in_threadpool(bearer_principal, request)
        if principal.role not in allowed:
            names = ", ".join(r.value for r in allowed)
            raise HTTPException(403, f"this needs the role {names}; the token has {principal.role.value}")
        return principal

    return dependency


SESSION_KEY = "token_id"


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the login page."""


def session_principal(request: Request) -> Principal | None:
    token_id = request.session.get(SESSION_KEY)
    if not isinstance(token_id, int):
        return None
    principal = auth.principal_for(get_db(request), token_id)
    if principal is None:
        request.session.clear()
    return principal


def page_user(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise LoginRequired()
    return principal


def page_operator(request: Request) -> Principal:
    principal = page_user(request)
    if principal.role is not Role.OPERATOR:
        raise HTTPException(403, "only operators can change the registry")
    return principal
