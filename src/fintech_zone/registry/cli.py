"""``fintech-zone registry …``: import, add, list, show, status."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.registry import service
from fintech_zone.registry.model import Kind, NewOrganisation, Sector, Status
from fintech_zone.registry.service import OrgFilter

app = typer.Typer(help="The zone registry: firms and institutions.", no_args_is_help=True)


@app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV with a header row; columns in docs/registry.md")],
    skip_bad_rows: Annotated[bool, typer.Option(help="Write the good rows and report the bad ones")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import organisations. All-or-nothing by default: one bad row and nothing is written."""
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            result = service.import_csv(open_db(), fh, skip_bad_rows=skip_bad_rows)
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 (byte {exc.start}); nothing was imported")
    if json_out:
        print_json({"imported": result.imported, "skipped": result.skipped_rows})
        return
    typer.echo(f"imported {result.imported} organisation(s)")
    for e in result.skipped_rows:
        typer.echo(f"  skipped row {e.row}: {e.field} [{e.check}]: {e.message}", err=True)


@app.command("add")
def add(
    org_id: Annotated[str, typer.Option("--id")],
    kind: Annotated[Kind, typer.Option()],
    jurisdiction: Annotated[str, typer.Option()],
    name_en: Annotated[str, typer.Option()],
    name_zh: Annotated[str, typer.Option()],
    sector: Annotated[Sector, typer.Option()],
    status: Annotated[Status, typer.Option()] = Status.PROSPECT,
    uscc: Annotated[str | None, typer.Option()] = None,
    uen: Annotated[str | None, typer.Option()] = None,
    lei: Annotated[str | None, typer.Option()] = None,
    bic: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register one organisation."""
    org = service.create_organisation(
        open_db(),
        NewOrganisation(
            org_id,
            kind.value,
            jurisdiction,
            name_en,
            name_zh,
            sector.value,
            status.value,
            uscc,
            uen,
            lei,
            bic,
            source,
        ),
    )
    if json_out:
        print_json(org)
    else:
        typer.echo(f"registered {org.id}")


@app.command("list")
def list_orgs(
    q: Annotated[str | None, typer.Option(help="Text in a name or id, or an exact identifier")] = None,
    kind: Annotated[Kind | None, typer.Option()] = None,
    jurisdiction: Annotated[str | None, typer.Option()] = None,
    sector: Annotated[Sector | None, typer.Option()] = None,
    status: Annotated[Status | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search and filter organisations (one page; pass the printed cursor for the next)."""
    f = OrgFilter(q, kind, jurisdiction.upper() if jurisdiction else None, sector, status)
    page = service.search_organisations(open_db(), f, cursor, limit)
    if json_out:
        print_json({"items": page.items, "next_cursor": page.next_cursor})
        return
    table = Table("id", "kind", "jur.", "sector", "status", "name")
    for o in page.items:
        table.add_row(
            o.id,
            o.kind.value,
            o.jurisdiction,
            o.sector.value,
            o.status.value if o.status else "—",
            f"{o.name_zh} / {o.name_en}",
        )
    Console().print(table)
    if page.next_cursor:
        typer.echo(f"next page: --cursor {page.next_cursor}")


@app.command("show")
def show(org_id: str, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One organisation with its status history and agreements."""
    d = service.organisation_detail(open_db(), org_id)
    if json_out:
        print_json(d)
        return
    o = d.organisation
    typer.echo(f"{o.id}: {o.name_zh} / {o.name_en}")
    typer.echo(f"  {o.kind.value}, {o.jurisdiction}, {o.sector.value}, status {o.status.value if o.status else '—'}")
    for name in ("uscc", "uen", "lei", "bic"):
        if getattr(o, name):
            typer.echo(f"  {name.upper()}: {getattr(o, name)}")
    for c in d.history:
        typer.echo(f"  {c.changed_on}: {c.from_status or '—'} → {c.to_status or '—'}  {c.reason or ''}")
    for a in d.agreements:
        typer.echo(f"  agreement {a.id} ({a.type}) signed {a.signed_on or '?'}")


@app.command("status")
def status_cmd(
    org_id: str,
    to: Annotated[Status, typer.Option("--to")],
    on: Annotated[datetime | None, typer.Option("--on", formats=["%Y-%m-%d"])] = None,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Move an organisation along the pipeline (a backward move needs --reason)."""
    org = service.change_status(open_db(), org_id, to, on.date() if on else None, reason)
    typer.echo(f"{org.id} is now {org.status.value if org.status else '—'}")
