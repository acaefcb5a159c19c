"""``fintech-zone bench …``: the benchmarks of a source checkout (``benchmarks/``), as commands."""

from __future__ import annotations

import importlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from fintech_zone.cli_support import fail, print_json


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class Skew(StrEnum):
    UNIFORM = "uniform"
    ZIPF = "zipf"


app = typer.Typer(help="Benchmarks (they ship with a source checkout, in benchmarks/).", no_args_is_help=True)


@app.command("ledger")
def bench_ledger(
    backend: Annotated[Backend, typer.Option(help="the database")] = Backend.SQLITE,
    transfers: Annotated[int, typer.Option(help="transfers to create")] = 1_000_000,
    accounts: Annotated[int, typer.Option(help="accounts they move between")] = 10_000,
    skew: Annotated[Skew, typer.Option(help="zipf: a few hot accounts in most transfers")] = Skew.UNIFORM,
    http: Annotated[bool, typer.Option("--http", help="also measure over HTTP")] = False,
    peer_transfers: Annotated[int, typer.Option(help="transfers django-hordak records (postgres; 0: none)")] = 20_000,
    postgres: Annotated[str | None, typer.Option(help="PostgreSQL URL (default FZ_TEST_POSTGRES_URL)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the whole result as one JSON object")] = False,
) -> None:
    """Ledger throughput against the raw write limit (and django-hordak on PostgreSQL): see benchmarks/ledger.py."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "ledger.py").is_file():
        fail("the benchmarks are not installed with the package: run this from a source checkout")
    sys.path.insert(0, str(root))
    ledger = importlib.import_module("benchmarks.ledger")

    argv = ["--backend", backend.value, "--transfers", str(transfers), "--accounts", str(accounts)]
    argv += ["--skew", skew.value]
    argv += ["--peer-transfers", str(peer_transfers), *(["--http"] if http else [])]
    argv += ["--postgres", postgres] if postgres else []
    if transfers < 1 or accounts < 2 or peer_transfers < 0:
        fail("need --transfers ≥ 1, --accounts ≥ 2 and --peer-transfers ≥ 0")
    args = ledger.parser().parse_args(argv)
    try:
        result = ledger.run(args, argv)
    except (RuntimeError, OSError, SQLAlchemyError) as exc:  # a part failed, or the database is unreachable
        fail(f"the benchmark did not complete: {exc}")
    if json_out:
        print_json(result)
        return
    for name, t in result["targets"].items():
        typer.echo(f"{name:<24} {t['figure']:>12}  target {t['target']:<8} {'met' if t['met'] else 'MISSED'}")
