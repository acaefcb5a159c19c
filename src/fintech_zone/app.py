"""The one place the web application is built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from fintech_zone import __version__
from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.settings import Settings
from fintech_zone.web.compression import CompressPaths
from fintech_zone.web.errors import (
    install_error_handlers,
    install_problem_schema,
    problem_responses,
)
from fintech_zone.web.limits import BodySizeLimit, RejectControlCharactersInUrl
from fintech_zone.web.security import LoginRequired

API_DESCRIPTION = """
The HTTP API of the China–Singapore FinTech Cooperation Demonstration Zone platform.

Authenticate with `Authorization: Bearer <token>`; create tokens with `fintech-zone token create --role ROLE`.
Roles: `operator` (writes), `regulator`, `participant` (bound to one organisation), `viewer` (reads).
Every error is `application/problem+json` (RFC 9457) with a stable `type`; validation errors list each failing
field under `errors` as `{field, check, message}`.
"""

OPENAPI_TAGS = [
    {"name": "health", "description": "Liveness and the database's reachability."},
    {"name": "registry", "description": "The firms and institutions settled in the zone."},
    {"name": "progress", "description": "The project's milestones and the seed document's facts."},
    {"name": "ledger", "description": "Double-entry accounts and transfers in minor units, batched."},
    {"name": "wallets", "description": "Retail digital-currency wallets held at the rails' banks."},
    {"name": "payments", "description": "The pilot rails: participants, issuance, CNY ⇄ SGD payments, limits."},
    {"name": "fx", "description": "FX providers' rates and the quotes payers take."},
    {"name": "iso20022", "description": "pacs.008 in, pacs.002 out; camt.053 statements."},
    {"name": "sandbox", "description": "The regulatory sandbox's pilots, their boundaries and disclosures."},
    {"name": "journal", "description": "The tamper-evident journal: leaves, signed tree heads, proofs."},
    {"name": "showcase", "description": "The exhibition hall's figures."},
]
"""The tags in the order the API guide and the interactive docs present them."""


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    database = db or Database.from_url(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            upgrade(database.engine)
        signer = None
        if settings.journal_signer:
            from fintech_zone.journal.signer import Signer

            signer = Signer(
                database,
                settings.journal_key_dir,
                settings.journal_head_every_leaves,
                settings.journal_head_every_seconds,
            )
            signer.start()
        yield
        if signer is not None:
            signer.stop()
        if db is None:  # only dispose of what we created
            database.dispose()

    app = FastAPI(
        title="fintech-zone",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.settings = settings
    app.state.db = database

    install_error_handlers(app)
    install_problem_schema(app)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.get("/healthz", tags=["health"], summary="Liveness and database check")
    def healthz() -> JSONResponse:
        with database.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return JSONResponse({"status": "ok"})

    from fintech_zone.journal.api import router as journal_api
    from fintech_zone.journal.pages import router as journal_pages
    from fintech_zone.ledger.api import router as ledger_api
    from fintech_zone.payments.api import fx_router
    from fintech_zone.payments.api import router as payments_api
    from fintech_zone.payments.iso_api import router as iso20022_api
    from fintech_zone.payments.pages import router as payments_pages
    from fintech_zone.payments.wallet_api import router as wallets_api
    from fintech_zone.progress.api import router as progress_api
    from fintech_zone.progress.pages import router as progress_pages
    from fintech_zone.registry.api import router as registry_api
    from fintech_zone.registry.pages import router as registry_pages
    from fintech_zone.sandbox.api import public_router as sandbox_public_api
    from fintech_zone.sandbox.api import router as sandbox_api
    from fintech_zone.sandbox.pages import router as sandbox_pages
    from fintech_zone.showcase.api import router as showcase_api
    from fintech_zone.showcase.pages import router as showcase_pages
    from fintech_zone.web.console import router as console_pages

    # What any API request may meet before its handler runs: a URL with control characters or malformed JSON
    # (400), no valid bearer token (401), a body over the size limit (413). Each route adds its own.
    api_problems = problem_responses(400, 401, 413)
    # The rails' routers first: a request is matched against the included routers one by one, and a payment (one
    # request each) matched at the tenth spent about 85 µs there, at the third about 40 µs (docs/benchmarks.md).
    # The OpenAPI document lists its tags in OPENAPI_TAGS' order whatever the order here.
    app.include_router(wallets_api, prefix="/api/v1/payments/wallets", tags=["wallets"], responses=api_problems)
    app.include_router(payments_api, prefix="/api/v1/payments", tags=["payments"], responses=api_problems)
    app.include_router(fx_router, prefix="/api/v1/fx", tags=["fx"], responses=api_problems)
    app.include_router(registry_api, prefix="/api/v1/registry", tags=["registry"], responses=api_problems)
    app.include_router(progress_api, prefix="/api/v1/progress", tags=["progress"], responses=api_problems)
    app.include_router(ledger_api, prefix="/api/v1/ledger", tags=["ledger"], responses=api_problems)
    app.include_router(iso20022_api, prefix="/api/v1/iso20022", tags=["iso20022"], responses=api_problems)
    app.include_router(sandbox_api, prefix="/api/v1/sandbox", tags=["sandbox"], responses=api_problems)
    # Public: auditors and visitors verify the log without an account (the leaves hold no party data in clear).
    app.include_router(journal_api, prefix="/api/v1/journal", tags=["journal"], responses=problem_responses(400, 413))
    # Public: the exhibition hall's figures, as its pages show them.
    app.include_router(
        showcase_api, prefix="/api/v1/showcase", tags=["showcase"], responses=problem_responses(400, 413)
    )
    # Public too: the sandbox's disclosed statements and the comment form (rate-limited per address).
    app.include_router(
        sandbox_public_api, prefix="/api/v1/sandbox", tags=["sandbox"], responses=problem_responses(400, 413)
    )
    # Pages are HTML for people, not part of the API the OpenAPI document describes.
    app.include_router(console_pages, include_in_schema=False)
    app.include_router(registry_pages, include_in_schema=False)
    app.include_router(progress_pages, include_in_schema=False)
    app.include_router(payments_pages, include_in_schema=False)
    app.include_router(journal_pages, include_in_schema=False)
    app.include_router(sandbox_pages, include_in_schema=False)
    app.include_router(showcase_pages, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(resources.files("fintech_zone.web") / "static")), name="static")
    app.add_middleware(CompressPaths, prefixes=("/static/", "/hall"))

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="fz_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    # Outermost, so an oversized body or a poisoned URL is refused before anything reads it.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        batch_paths=("/api/v1/ledger/accounts", "/api/v1/ledger/transfers"),
        batch_max_bytes=settings.max_batch_body_bytes,
    )
    app.add_middleware(RejectControlCharactersInUrl)
    return app
