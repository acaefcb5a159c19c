"""The ``fintech-zone`` command: one Typer sub-app per context, plus ``serve``, ``db`` and ``token``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fintech_zone.auth.model import Role
from fintech_zone.bench_cli import app as bench_app
from fintech_zone.cli_support import open_db, print_json, report_domain_error
from fintech_zone.db import Database
from fintech_zone.errors import Conflict, DomainError
from fintech_zone.journal.cli import app as journal_app
from fintech_zone.ledger.cli import app as ledger_app
from fintech_zone.payments.cli import app as payments_app
from fintech_zone.payments.cli import fx_app, iso_app, simulate_app
from fintech_zone.progress.cli import app as progress_app
from fintech_zone.progress.cli import report_app
from fintech_zone.registry.cli import app as registry_app
from fintech_zone.sandbox.cli import app as sandbox_app

if TYPE_CHECKING:
    from fintech_zone.settings import Settings

app = typer.Typer(
    name="fintech-zone",
    help="The China–Singapore FinTech Cooperation Demonstration Zone platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (bearer) and the roles they carry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(registry_app, name="registry")
app.add_typer(progress_app, name="progress")
app.add_typer(report_app, name="report")
app.add_typer(ledger_app, name="ledger")
app.add_typer(journal_app, name="journal")
app.add_typer(payments_app, name="payments")
app.add_typer(fx_app, name="fx")
app.add_typer(iso_app, name="iso20022")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(simulate_app, name="simulate")
app.add_typer(bench_app, name="bench")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (one per core serves most)", min=1, max=64)] = 1,
) -> None:
    """Run the platform (migrates the database first). Uses FZ_DATABASE_URL when set, else a local SQLite file."""
    import uvicorn

    from fintech_zone.app import create_app
    from fintech_zone.settings import Settings

    settings = Settings()
    _ensure_validator_keys(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"fintech-zone: serving on http://{shown}:{port}  (database: {_safe_url(settings.database_url)})")
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
        )
        return
    # Several processes need the app by name: each worker builds it from the same settings (the environment).
    if settings.migrate_on_start:
        from fintech_zone.db.migrate import upgrade

        db = Database.from_url(settings.database_url)
        upgrade(db.engine)  # once, before the workers race to do it
        db.dispose()
    uvicorn.run(
        "fintech_zone.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )


# The hall's live-corridor streams never end by themselves within a shutdown: after this long they are cut (the
# screens reconnect to the next server on their own) instead of holding the shutdown for their five minutes.
SHUTDOWN_GRACE = 5  # seconds


def _ensure_validator_keys(settings: Settings) -> None:
    """With no validator key at all, make both here, so the journal's heads get signed on a fresh machine. Two keys
    on one machine suit a pilot on one server; in production each node keeps its own key (docs/operations.md)."""
    from fintech_zone.journal import keys
    from fintech_zone.journal.model import NODES

    directory = settings.journal_key_dir
    if any(keys.private_path(directory, n).exists() or keys.public_path(directory, n).exists() for n in NODES):
        return
    for node in NODES:
        try:
            keys.generate(directory, node)
        except Conflict:  # another process (serve --workers, a second server) made it first: use that one
            continue
    typer.echo(f"fintech-zone: created both validators' journal keys in {directory} (one machine: a pilot set-up)")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from fintech_zone.db.migrate import current_revision

    db = open_db()
    typer.echo(f"database at revision {current_revision(db.engine)}")


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="operator, regulator, participant or viewer")],
    org: Annotated[str | None, typer.Option(help="Organisation id (required for participant)")] = None,
    name: Annotated[str | None, typer.Option(help="Who or what the token is for")] = None,
) -> None:
    """Create a token and print it alone on stdout. Only its hash is stored: keep it now."""
    from fintech_zone.auth import service

    token, info = service.create_token(open_db(), role, org, name)
    typer.echo(token)
    typer.echo(f"created token {info.id} ({info.role.value})", err=True)


@token_app.command("list")
def token_list(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tokens (never their values)."""
    from fintech_zone.auth import service

    tokens = service.list_tokens(open_db())
    if json_out:
        print_json(tokens)
        return
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        typer.echo(f"{t.id:>5}  {t.role.value:<12} {t.org_id or '-':<20} {t.name or '':<30} {state}")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token at once (API calls and signed-in sessions using it stop working)."""
    from fintech_zone.auth import service

    service.revoke_token(open_db(), token_id)
    typer.echo(f"revoked token {token_id}")


def main() -> None:
    try:
        app()
    except DomainError as exc:
        report_domain_error(exc)
