"""``fintech-zone ledger …``: assets, account and transfer batches (JSON arrays, as over HTTP), look-ups."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError

from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.ledger import service
from fintech_zone.ledger.model import Asset, AssetKind
from fintech_zone.ledger.schemas import AccountIn, AccountOut, TransferIn, TransferOut

app = typer.Typer(help="The ledger: assets, accounts, transfers.", no_args_is_help=True)


def _read_batch(source: str, adapter: TypeAdapter[Any]) -> Any:
    """A JSON array of events from a file, or from stdin with ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{source}: {exc}")
    try:
        return adapter.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{source}: {where or 'body'}: {first['msg']} ({exc.error_count()} problem(s))")


@app.command("add-asset")
def add_asset(
    code: Annotated[str, typer.Option()],
    kind: Annotated[AssetKind, typer.Option()],
    currency: Annotated[str, typer.Option(help="ISO 4217 code")],
    exponent: Annotated[int, typer.Option(help="minor-unit exponent, e.g. 2 for fen and cents")] = 2,
    issuer: Annotated[str | None, typer.Option(help="issuing organisation id")] = None,
) -> None:
    """Add an asset (a currency or a tokenised digital currency) the ledger can hold."""
    asset = service.create_asset(open_db(), Asset(code, kind, currency, exponent, issuer))
    typer.echo(f"added asset {asset.code}")


@app.command("create-accounts")
def create_accounts(source: Annotated[str, typer.Argument(help="JSON file with an array of accounts, or -")]) -> None:
    """Create accounts; prints one {id, result} per event, in order."""
    events = _read_batch(source, TypeAdapter(list[AccountIn]))
    results = service.create_accounts(open_db(), [e.to_model() for e in events])
    print_json([{"id": r.id, "result": r.result} for r in results])


@app.command("create-transfers")
def create_transfers(source: Annotated[str, typer.Argument(help="JSON file with an array of transfers, or -")]) -> None:
    """Create transfers; prints one {id, result} per event, in order."""
    events = _read_batch(source, TypeAdapter(list[TransferIn]))
    results = service.create_transfers(open_db(), [e.to_model() for e in events])
    print_json([{"id": r.id, "result": r.result} for r in results])


@app.command("account")
def account(account_id: str) -> None:
    """An account with its balances."""
    print_json(AccountOut.of(service.get_account(open_db(), account_id)).model_dump(mode="json"))


@app.command("transfer")
def transfer(transfer_id: str) -> None:
    """A transfer."""
    print_json(TransferOut.of(service.get_transfer(open_db(), transfer_id)).model_dump(mode="json"))


@app.command("totals")
def totals() -> None:
    """Per asset, the sums of debits and credits, pending and posted; they must be equal."""
    out = {}
    for ledger, (dp, dpo, cp, cpo) in service.totals(open_db()).items():
        out[ledger] = {
            "debits_pending": dp,
            "debits_posted": dpo,
            "credits_pending": cp,
            "credits_posted": cpo,
            "balanced": dp == cp and dpo == cpo,
        }
    typer.echo(json.dumps(out, indent=2))
