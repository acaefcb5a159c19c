"""``fintech-zone progress …`` and ``fintech-zone report progress``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.progress import report, service
from fintech_zone.progress.model import Figure, FuzzyDate, Milestone, Source, TaskStatus

app = typer.Typer(help="Lines of work, milestones and tasks.", no_args_is_help=True)
report_app = typer.Typer(help="Generated reports.", no_args_is_help=True)


@app.command("load-seed")
def load_seed(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Load the seed document's facts and agencies. Safe to run again: nothing is duplicated."""
    result = service.load_seed(open_db())
    if json_out:
        print_json(result)
        return
    typer.echo(
        f"seed loaded: {result.organisations} organisation(s), {result.lines} line(s), "
        f"{result.milestones} milestone(s), {result.tasks} task(s), {result.overview} overview section(s) added"
    )


@app.command("lines")
def lines(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Lines of work."""
    found = service.list_lines(open_db())
    if json_out:
        print_json(found)
        return
    for li in found:
        typer.echo(f"{li.kind.value:<10} {li.number}  {li.id:<24} {li.title_zh} / {li.title_en}")


@app.command("milestones")
def milestones(
    before: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="On or before this date")] = None,
    line: Annotated[str | None, typer.Option()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Milestones in date order."""
    found = service.list_milestones(open_db(), before.date() if before else None, line)
    if json_out:
        print_json(found)
        return
    for m in found:
        typer.echo(f"{m.when.iso():<10} {m.line_id:<22} {m.title_en}")


@app.command("add-milestone")
def add_milestone(
    milestone_id: Annotated[str, typer.Option("--id")],
    line: Annotated[str, typer.Option()],
    date: Annotated[str, typer.Option(help="YYYY-MM or YYYY-MM-DD")],
    title_zh: Annotated[str, typer.Option()],
    title_en: Annotated[str, typer.Option()],
    source: Annotated[str, typer.Option(help="Where the fact comes from")],
    agency: Annotated[list[str] | None, typer.Option(help="Organisation id; repeat for several")] = None,
    figure: Annotated[
        list[str] | None,
        typer.Option(help="key=value:label_zh:label_en, e.g. firms_signed=3:家企业签约:firms signed"),
    ] = None,
) -> None:
    """Record a milestone; it appears in the next report."""
    figures = []
    for spec in figure or []:
        try:
            key_value, label_zh, label_en = spec.split(":", 2)
            key, value = key_value.split("=", 1)
            figures.append(Figure(key, int(value), label_zh, label_en))
        except ValueError:
            fail(f"--figure {spec!r}: expected key=value:label_zh:label_en with an integer value")
    m = service.add_milestone(
        open_db(),
        Milestone(
            milestone_id,
            line,
            FuzzyDate.parse(date),
            title_zh,
            title_en,
            Source(source),
            tuple(agency or []),
            tuple(figures),
        ),
    )
    typer.echo(f"recorded milestone {m.id} ({m.when.iso()})")


@app.command("tasks")
def tasks(
    line: Annotated[str | None, typer.Option()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tasks with their status."""
    found = service.list_tasks(open_db(), line)
    if json_out:
        print_json(found)
        return
    for t in found:
        typer.echo(f"{t.status.value:<12} {t.id:<30} lead {t.lead_id:<18} {t.title_en}")


@app.command("task-status")
def task_status(
    task_id: str,
    to: Annotated[TaskStatus, typer.Option("--to")],
    on: Annotated[datetime | None, typer.Option("--on", formats=["%Y-%m-%d"])] = None,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change a task's status (blocking, cancelling or reopening needs --reason)."""
    t = service.change_task_status(open_db(), task_id, to, on.date() if on else None, reason)
    typer.echo(f"{t.id} is now {t.status.value}")


@report_app.command("progress")
def progress_report(
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    fmt: Annotated[report.ReportFormat, typer.Option("--format", help="md, html or pdf")] = report.ReportFormat.MD,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"])] = None,
    output: Annotated[Path | None, typer.Option(help="File to write; stdout when omitted (md/html)")] = None,
) -> None:
    """Write the progress report with the seed document's structure, generated from the database."""
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}")
    if fmt is report.ReportFormat.PDF and output is None and sys.stdout.isatty():
        fail("a PDF needs --output FILE (or redirect stdout)")
    facts = service.report_facts(open_db(), as_of.date() if as_of else None)
    body = report.render(facts, lang, fmt)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    tmp = output.with_name(output.name + ".part")
    tmp.write_bytes(body)
    tmp.replace(output)  # never leave a half-written report behind
    typer.echo(f"wrote {output} ({len(body)} bytes)", err=True)
