"""``fintech-zone sandbox …``: pilots from the command line.

Like the rest of the CLI it works on the database directly; ``--as`` names who acts, as the API's token would:
``operator`` (the default), ``participant:ORG`` or ``regulator:ORG`` (``regulator`` alone: unbound). Output is
JSON, as over HTTP.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from fintech_zone.auth.model import Role
from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.sandbox import figures, report, service
from fintech_zone.sandbox.model import Cause, Outcome, Status
from fintech_zone.sandbox.schemas import ApplicationIO, BoundariesIO, MonitorOut, PilotIn, PilotOut
from fintech_zone.settings import Settings

app = typer.Typer(help="The pilot sandbox: applications, the lifecycle, boundaries.", no_args_is_help=True)

As = Annotated[
    str, typer.Option("--as", help="who acts: operator, participant:ORG, regulator:ORG or regulator (unbound)")
]


def _actor(spec: str) -> service.Actor:
    role_name, _, org = spec.partition(":")
    try:
        role = Role(role_name)
    except ValueError:
        fail(f"--as {spec!r}: the role is one of operator, participant, regulator, viewer")
    if role is Role.PARTICIPANT and not org:
        fail("--as participant:ORG names the organisation the participant acts for")
    return service.Actor(role, org or None)


M = TypeVar("M", bound=BaseModel)


def _load(source: str, model: type[M]) -> M:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        return model.model_validate_json(text)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{source}: {exc}")
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{source}: {'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")


def _timers() -> service.Timers:
    s = Settings()
    return service.Timers(s.sandbox_review_days, s.sandbox_evaluation_days, s.sandbox_comment_days)


def _dump(pilot: Any, with_usage: bool = True) -> None:
    usage = figures.usage(open_db(), pilot.id) if with_usage else None
    print_json(PilotOut.of(pilot, usage).model_dump(mode="json"))


@app.command("apply")
def apply(
    source: Annotated[
        str, typer.Argument(help="JSON file with the application (as POST /api/v1/sandbox/pilots), or -")
    ],
    as_: As = "operator",
) -> None:
    """Apply for a pilot: a draft, until its applicants submit it."""
    body = _load(source, PilotIn)
    application = ApplicationIO.model_validate(body.model_dump(exclude={"id"})).to_model()
    _dump(service.create_pilot(open_db(), body.id, application, _actor(as_)), with_usage=False)


@app.command("list")
def list_pilots(
    status: Annotated[Status | None, typer.Option(help="only pilots in this state")] = None, as_: As = "operator"
) -> None:
    """The pilots the actor may see."""
    pilots = service.list_pilots(open_db(), _actor(as_), status)
    print_json([PilotOut.of(p).model_dump(mode="json") for p in pilots])


@app.command("show")
def show(pilot_id: str, as_: As = "operator") -> None:
    """A pilot with its history, boundaries and the space it has used."""
    _dump(service.get_pilot(open_db(), pilot_id, _actor(as_)))


@app.command("move")
def move(
    pilot_id: str,
    to: Annotated[Status, typer.Argument(help="the state to move to")],
    reason: Annotated[str, typer.Option(help="why (every decision gives its reason)")],
    as_: As = "operator",
    outcome: Annotated[Outcome | None, typer.Option(help="graduated, extended or discontinued")] = None,
    cause: Annotated[Cause | None, typer.Option(help="why a pilot is discontinued")] = None,
    scores: Annotated[
        str | None, typer.Option(help='a regulator\'s scores as JSON, e.g. {"inclusive_benefit": 4, …}')
    ] = None,
    boundaries: Annotated[str | None, typer.Option(help="JSON file with boundaries (admission, extension)")] = None,
) -> None:
    """Move a pilot (a regulator's move needs --as regulator:ORG; the applicants' --as participant:ORG)."""
    parsed_scores = None
    if scores is not None:
        try:
            parsed_scores = json.loads(scores)
        except json.JSONDecodeError as exc:
            fail(f"--scores: not JSON ({exc.msg})")
        if not isinstance(parsed_scores, dict) or not all(isinstance(v, int) for v in parsed_scores.values()):
            fail("--scores: an object of criterion -> whole score")
    limits = _load(boundaries, BoundariesIO).to_model() if boundaries else None
    pilot = service.transition(
        open_db(), pilot_id, to, reason, _actor(as_), outcome, cause, parsed_scores, limits, _timers()
    )
    _dump(pilot)


@app.command("suspend")
def suspend(pilot_id: str, reason: Annotated[str, typer.Option()], as_: As = "regulator") -> None:
    """A regulator suspends a pilot: its payments are refused until it is resumed."""
    _dump(service.set_suspended(open_db(), pilot_id, True, reason, _actor(as_)))


@app.command("resume")
def resume(pilot_id: str, reason: Annotated[str, typer.Option()], as_: As = "regulator") -> None:
    """A regulator resumes a suspended pilot."""
    _dump(service.set_suspended(open_db(), pilot_id, False, reason, _actor(as_)))


@app.command("report")
def exit_report(
    pilot_id: str,
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    format: Annotated[report.ReportFormat, typer.Option(help="html or pdf")] = report.ReportFormat.PDF,
    as_: As = "operator",
) -> None:
    """Write the pilot's exit report (HTML or PDF, Chinese or English)."""
    if lang not in ("zh", "en"):
        fail("--lang is zh or en")
    pilot, used, events = figures.report_facts(open_db(), pilot_id, _actor(as_))
    try:
        out.write_bytes(report.render(pilot, used, events, lang, format))
    except OSError as exc:
        fail(f"{out}: {exc.strerror}")
    print_json({"pilot": pilot_id, "written": str(out), "format": format.value, "lang": lang})


@app.command("monitor")
def monitor(pilot_id: str, as_: As = "operator") -> None:
    """Live figures: customers, volumes, rejections, alerts, complaints, boundary use, service level."""
    print_json(MonitorOut.of(figures.monitor(open_db(), pilot_id, _actor(as_), _timers())).model_dump(mode="json"))
