"""RFC 9457 problem+json: the one place domain and framework errors become HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from fintech_zone.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from fintech_zone.web.openapi import BODY_SCHEMAS

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"

STATUS_FOR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (TooManyRequests, 429),
    (InvalidInput, 422),
    (DomainError, 422),
]

HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict with the current state"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
}


class ProblemFieldError(BaseModel):
    """One failing field of an ``invalid-input`` problem."""

    field: str = Field(description="Dotted path of the field, e.g. `figures.0.key`; `body` for the whole body")
    check: str = Field(description="The rule that failed, e.g. `string_too_long` or `check_character`")
    message: str
    row: int | None = Field(default=None, description="CSV imports: the row as a spreadsheet numbers it, header = 1")


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error answer of the API, sent as `application/problem+json`."""

    type: str = Field(description="Stable identifier of the kind of problem", examples=["/problems/not-found"])
    title: str = Field(description="Short human summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong with this request")
    instance: str | None = Field(default=None, description="Path of the request")
    errors: list[ProblemFieldError] | None = Field(default=None, description="`invalid-input`: every failing field")


PROBLEM_REF = "#/components/schemas/Problem"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring each status as a problem+json answer (FastAPI's own 422 is replaced)."""
    return {
        status: {
            "description": HTTP_SLUGS[status][1],
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status in statuses
    }


def install_problem_schema(app: FastAPI) -> None:
    """Add ``Problem`` to the OpenAPI components, for the ``$ref`` that :func:`problem_responses` writes, and the
    schemas of the bodies endpoints read themselves (``web.openapi.json_body``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem_schema.pop("$defs", {}))
            schemas.update({name: body for name, body in BODY_SCHEMAS.items() if name not in schemas})
            schemas["Problem"] = problem_schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this request's path, for the ``Allow`` header of a 405.

    FastAPI's own 405 names only the methods of the first route whose path matched, so ``GET`` and ``POST`` at
    one path each claimed to be the only one. Each method is probed against the app's routes instead (mounts, such
    as the static files, answer any path below them and are left out).
    """
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = []
    for method in _METHODS:
        probe = {
            "type": "http",
            "method": method,
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def field_error_json(e: FieldError) -> dict[str, Any]:
    out: dict[str, Any] = {"field": e.field, "check": e.check, "message": e.message}
    if e.row is not None:
        out["row"] = e.row
    return out


def domain_status(exc: DomainError) -> int:
    return next(code for cls, code in STATUS_FOR if isinstance(exc, cls))


def domain_problem(exc: DomainError, instance: str | None = None) -> JSONResponse:
    errors = [field_error_json(e) for e in exc.errors] if isinstance(exc, InvalidInput) else None
    return problem(domain_status(exc), exc.type_slug, exc.title, exc.detail, instance, errors)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")


def respond(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error as problem+json, or as an HTML page when a person's browser asked for a page (not the API)."""
    if not wants_html(request):
        return problem(status, slug, title, detail, request.url.path, errors, headers)
    from fintech_zone.web.pages import render  # pages import the security helpers, which import this module

    page = render(request, "error.html", {"status": status, "title": title, "detail": detail}, status_code=status)
    page.headers.update(headers or {})
    return page


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if wants_html(request):
            return respond(request, domain_status(exc), exc.type_slug, exc.title, exc.detail)
        return domain_problem(exc, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug, title = HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and (methods := allowed_methods(request)):
            headers["Allow"] = ", ".join(methods)
        return respond(request, exc.status_code, slug, title, detail, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            first = next(e for e in raw if e.get("type") == "json_invalid")
            position = first.get("ctx", {}).get("error", "")
            return problem(
                400,
                "malformed-json",
                "Malformed JSON",
                f"the request body is not valid JSON: {position}",
                request.url.path,
            )
        errors = [
            {
                "field": _field_path(tuple(e.get("loc", ()))),
                "check": e.get("type", "invalid"),
                "message": e.get("msg", ""),
            }
            for e in raw
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid-input", "Invalid input", detail, request.url.path, errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Last resort: the error is logged by the server; the client gets no traceback.
        logging.getLogger("fintech_zone").exception("unhandled error on %s", request.url.path)
        return problem(
            500,
            "internal-error",
            "Internal server error",
            "the server failed; the error was logged",
            request.url.path,
        )
