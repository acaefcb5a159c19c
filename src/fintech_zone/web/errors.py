"""RFC 9457 problem+json: the one place domain and framework errors become HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fintech_zone.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"

STATUS_FOR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
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


def field_error_json(e: FieldError) -> dict[str, Any]:
    out: dict[str, Any] = {"field": e.field, "check": e.check, "message": e.message}
    if e.row is not None:
        out["row"] = e.row
    return out


def domain_problem(exc: DomainError, instance: str | None = None) -> JSONResponse:
    status = next(code for cls, code in STATUS_FOR if isinstance(exc, cls))
    errors = [field_error_json(e) for e in exc.errors] if isinstance(exc, InvalidInput) else None
    return problem(status, exc.type_slug, exc.title, exc.detail, instance, errors)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc, request.url.path)

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
