"""What every CLI sub-app shares: opening the database, printing JSON, mapping domain errors to exit code 2."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, NoReturn

import typer

from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.errors import DomainError, InvalidInput
from fintech_zone.settings import Settings


def open_db() -> Database:
    """The configured database, migrated to the current schema (cheap when already there)."""
    db = Database.from_url(Settings().database_url)
    upgrade(db.engine)
    return db


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, default=_default, ensure_ascii=False, indent=2))


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def report_domain_error(exc: DomainError) -> NoReturn:
    if isinstance(exc, InvalidInput):
        typer.echo(f"error: {exc.title}", err=True)
        for e in exc.errors:
            where = f"row {e.row}, " if e.row is not None else ""
            typer.echo(f"  {where}{e.field} [{e.check}]: {e.message}", err=True)
        if exc.detail and not exc.detail.startswith(exc.errors[0].field if exc.errors else "\0"):
            typer.echo(exc.detail, err=True)
        sys.exit(2)
    # Not fail(): this runs after Typer has returned, where a typer.Exit is no longer caught and would surface
    # as a traceback with exit code 1.
    typer.echo(f"error: {exc.detail}", err=True)
    sys.exit(2)
