"""The sandbox's tables and queries: pilots (the application as a JSON document), their institutions, dated
history, the space they have used per asset and day, their customers (as digests), events (rejections, alerts,
suspensions, complaints) and public comments."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.db.types import UTCDateTime
from fintech_zone.sandbox.model import (
    STATEMENT_FIELDS,
    Application,
    Boundaries,
    Cause,
    Institution,
    InstitutionRole,
    Outcome,
    Pilot,
    PilotType,
    Scenario,
    Status,
    Transition,
)

pilots = Table(
    "sandbox_pilots",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(24), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("cause", String(32), nullable=True),
    Column("suspended", Boolean, nullable=False),
    Column("cross_border", Boolean, nullable=False),
    Column("demo", Boolean, nullable=False),
    Column("application", Text, nullable=False),  # JSON (application_json)
    Column("boundaries", Text, nullable=True),  # JSON, set at admission
    Column("regulators", String(200), nullable=False),  # space-separated organisation ids
    Column("scores", Text, nullable=False),  # JSON: regulator -> criterion -> score
    Column("pending", String(200), nullable=False),  # regulators that made the pending joint move
    Column("assessment", Text, nullable=False),  # JSON: the final assessment, dimension -> {score, note}
    Column("customers", Integer, nullable=False),  # how many sandbox_customers rows it has (kept with them)
    Column("created_at", UTCDateTime, nullable=False),
    Column("stage_since", UTCDateTime, nullable=False),
    Index("ix_sandbox_pilots_status", "status"),
)

institutions = Table(
    "sandbox_institutions",
    metadata,
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), primary_key=True),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), primary_key=True),
    Column("role", String(32), nullable=False),
    Index("ix_sandbox_institutions_org_id", "org_id"),
)

history = Table(
    "sandbox_history",
    metadata,
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_status", String(24), nullable=True),
    Column("to_status", String(24), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("cause", String(32), nullable=True),
)

usage = Table(
    "sandbox_usage",
    metadata,
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("payments", Integer, nullable=False),
)

customers = Table(
    "sandbox_customers",
    metadata,
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), primary_key=True),
    Column("customer", String(64), primary_key=True),  # a digest: the pilot counts customers, never names them
)

events = Table(
    "sandbox_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),  # rejected | alert | suspended | resumed | complaint
    Column("boundary", String(40), nullable=True),
    Column("detail", String(500), nullable=False),
    Column("uetr", String(36), nullable=True),
    Index("ix_sandbox_events_pilot_id_id", "pilot_id", "id"),
)

comments = Table(
    "sandbox_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pilot_id", String(64), ForeignKey("sandbox_pilots.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("author", String(100), nullable=True),
    Column("body", String(2000), nullable=False),
    Index("ix_sandbox_comments_pilot_id_id", "pilot_id", "id"),
)


# -- the application as a document ---------------------------------------------------------------------------------


def boundaries_json(b: Boundaries) -> dict[str, Any]:
    return {
        "max_customers": b.max_customers,
        "per_payment": dict(b.per_payment),
        "daily": dict(b.daily),
        "total": dict(b.total),
        "corridors": list(b.corridors),
        "starts_on": b.starts_on.isoformat() if b.starts_on else None,
        "ends_on": b.ends_on.isoformat() if b.ends_on else None,
    }


def boundaries_from(d: dict[str, Any]) -> Boundaries:
    return Boundaries(
        max_customers=d.get("max_customers"),
        per_payment={k: int(v) for k, v in d.get("per_payment", {}).items()},
        daily={k: int(v) for k, v in d.get("daily", {}).items()},
        total={k: int(v) for k, v in d.get("total", {}).items()},
        corridors=tuple(d.get("corridors", ())),
        starts_on=date.fromisoformat(d["starts_on"]) if d.get("starts_on") else None,
        ends_on=date.fromisoformat(d["ends_on"]) if d.get("ends_on") else None,
    )


def application_json(a: Application) -> dict[str, Any]:
    return {
        "name": a.name,
        "type": a.type.value,
        "institutions": [{"org_id": i.org_id, "role": i.role.value, "licence": i.licence} for i in a.institutions],
        "planned_go_live": a.planned_go_live.isoformat() if a.planned_go_live else None,
        **{name: getattr(a, name) for name in STATEMENT_FIELDS},
        "scenarios": [{"name": s.name, "success_criteria": s.success_criteria} for s in a.scenarios],
        "requested": boundaries_json(a.requested),
        "cross_border": a.cross_border,
    }


def application_from(d: dict[str, Any]) -> Application:
    return Application(
        name=d["name"],
        type=PilotType(d["type"]),
        institutions=tuple(
            Institution(i["org_id"], InstitutionRole(i["role"]), i.get("licence")) for i in d["institutions"]
        ),
        planned_go_live=date.fromisoformat(d["planned_go_live"]) if d.get("planned_go_live") else None,
        scenarios=tuple(Scenario(s["name"], s["success_criteria"]) for s in d["scenarios"]),
        requested=boundaries_from(d["requested"]),
        cross_border=bool(d.get("cross_border", False)),
        **{name: d.get(name, "") for name in STATEMENT_FIELDS},
    )


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- pilots -------------------------------------------------------------------------------------------------------


def insert_pilot(conn: Connection, p: Pilot) -> None:
    conn.execute(insert(pilots).values(**_pilot_values(p), id=p.id, created_at=p.created_at, customers=0))
    _insert_institutions(conn, p)


def _insert_institutions(conn: Connection, p: Pilot) -> None:
    rows = [{"pilot_id": p.id, "org_id": i.org_id, "role": i.role.value} for i in p.application.institutions]
    if rows:  # a draft may name none yet
        conn.execute(insert(institutions), rows)


def _pilot_values(p: Pilot) -> dict[str, Any]:
    return {
        "name": p.application.name,
        "status": p.status.value,
        "outcome": p.outcome.value if p.outcome else None,
        "cause": p.cause.value if p.cause else None,
        "suspended": p.suspended,
        "cross_border": p.application.cross_border,
        "demo": p.demo,
        "application": _dump(application_json(p.application)),
        "boundaries": _dump(boundaries_json(p.boundaries)) if p.boundaries else None,
        "regulators": " ".join(p.regulators),
        "scores": _dump(p.scores),
        "pending": " ".join(p.pending),
        "assessment": _dump(p.assessment),
        "stage_since": p.stage_since,
    }


def update_pilot(conn: Connection, p: Pilot, institutions_changed: bool = False) -> None:
    conn.execute(update(pilots).where(pilots.c.id == p.id).values(**_pilot_values(p)))
    if institutions_changed:
        conn.execute(institutions.delete().where(institutions.c.pilot_id == p.id))
        _insert_institutions(conn, p)


def _pilot(row: Any, transitions: tuple[Transition, ...]) -> Pilot:
    return Pilot(
        id=row.id,
        application=application_from(json.loads(row.application)),
        status=Status(row.status),
        boundaries=boundaries_from(json.loads(row.boundaries)) if row.boundaries else None,
        regulators=tuple(row.regulators.split()),
        created_at=row.created_at,
        stage_since=row.stage_since,
        outcome=Outcome(row.outcome) if row.outcome else None,
        cause=Cause(row.cause) if row.cause else None,
        suspended=bool(row.suspended),
        history=transitions,
        scores=json.loads(row.scores),
        pending=tuple(row.pending.split()),
        assessment=json.loads(row.assessment),
        demo=bool(row.demo),
    )


def _transition(r: Any) -> Transition:
    return Transition(
        at=r.at,
        from_status=Status(r.from_status) if r.from_status else None,
        to_status=Status(r.to_status),
        actor=r.actor,
        reason=r.reason,
        outcome=Outcome(r.outcome) if r.outcome else None,
        cause=Cause(r.cause) if r.cause else None,
    )


def get_pilot(conn: Connection, pilot_id: str, lock: bool = False) -> Pilot | None:
    query = select(pilots).where(pilots.c.id == pilot_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite's writer already holds the database
    row = conn.execute(query).first()
    if row is None:
        return None
    rows = conn.execute(select(history).where(history.c.pilot_id == pilot_id).order_by(history.c.seq))
    return _pilot(row, tuple(_transition(r) for r in rows))


def status_counts(conn: Connection) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in conn.execute(select(pilots.c.status, func.count()).group_by(pilots.c.status))}


def list_pilots(conn: Connection, statuses: tuple[Status, ...] | None = None, org_id: str | None = None) -> list[Pilot]:
    query = select(pilots)
    if statuses is not None:
        query = query.where(pilots.c.status.in_([s.value for s in statuses]))
    if org_id is not None:
        query = query.where(pilots.c.id.in_(select(institutions.c.pilot_id).where(institutions.c.org_id == org_id)))
    rows = conn.execute(query.order_by(pilots.c.created_at, pilots.c.id)).all()
    if not rows:
        return []
    by_pilot: dict[str, list[Transition]] = {}
    for r in conn.execute(
        select(history).where(history.c.pilot_id.in_([row.id for row in rows])).order_by(history.c.seq)
    ):
        by_pilot.setdefault(r.pilot_id, []).append(_transition(r))
    return [_pilot(row, tuple(by_pilot.get(row.id, ()))) for row in rows]


def insert_transition(conn: Connection, pilot_id: str, seq: int, t: Transition) -> None:
    conn.execute(
        insert(history).values(
            pilot_id=pilot_id,
            seq=seq,
            at=t.at,
            from_status=t.from_status.value if t.from_status else None,
            to_status=t.to_status.value,
            actor=t.actor,
            reason=t.reason,
            outcome=t.outcome.value if t.outcome else None,
            cause=t.cause.value if t.cause else None,
        )
    )


def usage_by_asset(conn: Connection, pilot_id: str, on: date) -> dict[str, tuple[int, int, int]]:
    """asset -> (total settled, settled on ``on``, payments)."""
    rows = conn.execute(
        select(
            usage.c.asset,
            func.sum(usage.c.amount),
            func.coalesce(func.sum(usage.c.amount).filter(usage.c.day == on), 0),
            func.sum(usage.c.payments),
        )
        .where(usage.c.pilot_id == pilot_id)
        .group_by(usage.c.asset)
    )
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def customer_count(conn: Connection, pilot_id: str) -> int:
    return int(conn.execute(select(pilots.c.customers).where(pilots.c.id == pilot_id)).scalar() or 0)


# -- events and comments ------------------------------------------------------------------------------------------


def insert_event(
    conn: Connection,
    pilot_id: str,
    at: datetime,
    kind: str,
    detail: str,
    boundary: str | None = None,
    uetr: str | None = None,
) -> int:
    result = conn.execute(
        insert(events).values(pilot_id=pilot_id, at=at, kind=kind, boundary=boundary, detail=detail[:500], uetr=uetr)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_events(conn: Connection, pilot_id: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events).where(events.c.pilot_id == pilot_id).order_by(events.c.id.desc()).limit(limit)
    ).all()
    return [{"at": r.at, "kind": r.kind, "boundary": r.boundary, "detail": r.detail, "uetr": r.uetr} for r in rows]


def event_counts(conn: Connection, pilot_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(events.c.kind, func.count()).where(events.c.pilot_id == pilot_id).group_by(events.c.kind)
    )
    return {r[0]: int(r[1]) for r in rows}


def insert_comment(conn: Connection, pilot_id: str, at: datetime, author: str | None, body: str) -> None:
    conn.execute(insert(comments).values(pilot_id=pilot_id, at=at, author=author, body=body))


def list_comments(conn: Connection, pilot_id: str, limit: int = 500) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(comments).where(comments.c.pilot_id == pilot_id).order_by(comments.c.id).limit(limit)
    ).all()
    return [{"at": r.at, "author": r.author, "body": r.body} for r in rows]


# -- for the journal's auditor --------------------------------------------------------------------------------------


def all_transitions(conn: Connection) -> list[tuple[str, int, Transition]]:
    rows = conn.execute(select(history).order_by(history.c.pilot_id, history.c.seq))
    return [(r.pilot_id, int(r.seq), _transition(r)) for r in rows]


def all_events(conn: Connection) -> list[Any]:
    return list(conn.execute(select(events).order_by(events.c.id)))
