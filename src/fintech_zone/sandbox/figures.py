"""What the sandbox shows about its pilots: their institutions as the registry knows them, the space they have used,
live figures for their regulators, the counts the exhibition hall shows, and what an exit report needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.errors import Forbidden
from fintech_zone.registry import service as registry
from fintech_zone.sandbox import store
from fintech_zone.sandbox.model import InstitutionRole, Pilot, Status, service_level
from fintech_zone.sandbox.service import Actor, Timers, _get, _is_applicant, _now


@dataclass(frozen=True)
class InstitutionView:
    """An institution of a pilot as its statement shows it: its registry names and identifiers, and its licence."""

    org_id: str
    role: InstitutionRole
    licence: str | None
    name_en: str
    name_zh: str
    uscc: str | None
    uen: str | None
    lei: str | None


def institutions(db: Database, pilot: Pilot) -> list[InstitutionView]:
    with db.read() as conn:
        found = [(i, registry.organisation_in(conn, i.org_id)) for i in pilot.application.institutions]
    return [
        InstitutionView(
            i.org_id,
            i.role,
            i.licence,
            org.name_en if org else i.org_id,
            org.name_zh if org else i.org_id,
            org.uscc if org else None,
            org.uen if org else None,
            org.lei if org else None,
        )
        for i, org in found
    ]


def status_counts(db: Database) -> dict[str, int]:
    """Pilots by status, every status named (0 where none)."""
    with db.read() as conn:
        found = store.status_counts(conn)
    return {s.value: found.get(s.value, 0) for s in Status}


def usage(db: Database, pilot_id: str, today: date | None = None) -> dict[str, Any]:
    """The space a pilot has used: its customers, and per asset its settled volume (in all, today) and payments."""
    on = today or _now().date()
    with db.read() as conn:
        count = store.customer_count(conn, pilot_id)
        by_asset = store.usage_by_asset(conn, pilot_id, on)
    return {"customers": count, "by_asset": _by_asset(by_asset)}


def _by_asset(rows: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, int]]:
    return {a: {"settled_total": t, "settled_today": d, "payments": n} for a, (t, d, n) in rows.items()}


def _check_reader(pilot: Pilot, actor: Actor | None, what: str) -> None:
    if actor is None or not (actor.role in (Role.OPERATOR, Role.REGULATOR) or _is_applicant(pilot.application, actor)):
        raise Forbidden(f"a pilot's {what} are for its regulators, the operator and its applicants")


@dataclass(frozen=True)
class Monitor:
    """Live figures of a pilot for its regulators."""

    customers: int
    by_asset: dict[str, dict[str, int]]  # asset -> settled_total, settled_today, payments
    events: dict[str, int]  # rejected, alert, suspended, resumed, complaint -> count
    use: dict[str, float]  # boundary -> share of its limit used (0..1)
    recent: list[dict[str, Any]]
    due: dict[str, Any] | None


def monitor(
    db: Database, pilot_id: str, actor: Actor | None, timers: Timers = Timers(), today: date | None = None
) -> Monitor:
    if actor is None:
        raise Forbidden("a pilot's live figures are for its regulators, the operator and its applicants")
    on = today or _now().date()
    with db.read() as conn:
        pilot = _get(conn, pilot_id)
        _check_reader(pilot, actor, "live figures")
        count = store.customer_count(conn, pilot_id)
        by_asset = store.usage_by_asset(conn, pilot_id, on)
        counts = store.event_counts(conn, pilot_id)
        recent = store.list_events(conn, pilot_id, 50)
    b = pilot.boundaries
    use: dict[str, float] = {}
    if b is not None:
        if b.max_customers:
            use["max_customers"] = count / b.max_customers
        for asset, limit in b.daily.items():
            use[f"daily.{asset}"] = by_asset.get(asset, (0, 0, 0))[1] / limit
        for asset, limit in b.total.items():
            use[f"total.{asset}"] = by_asset.get(asset, (0, 0, 0))[0] / limit
    due = service_level(pilot, timers.review_days, timers.evaluation_days, on)
    return Monitor(
        count,
        _by_asset(by_asset),
        counts,
        use,
        recent,
        {"stage": due.stage.value, "due_on": due.due_on.isoformat(), "overdue": due.overdue} if due else None,
    )


def report_facts(db: Database, pilot_id: str, actor: Actor | None) -> tuple[Pilot, dict[str, Any], dict[str, int]]:
    """What the exit report shows: the pilot, the space it used and its events by kind (for the same readers as
    its live figures)."""
    if actor is None:
        raise Forbidden("a pilot's reports are for its regulators, the operator and its applicants")
    with db.read() as conn:
        pilot = _get(conn, pilot_id)
        _check_reader(pilot, actor, "reports")
        counts = store.event_counts(conn, pilot_id)
    return pilot, usage(db, pilot_id), counts
