"""Registry tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
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
    or_,
    select,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.db.types import UTCDateTime
from fintech_zone.registry.model import Agreement, Kind, Organisation, Sector, Status, StatusChange

organisations = Table(
    "registry_organisations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("name_zh", String(300), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("status", String(32), nullable=True),
    Column("uscc", String(18), nullable=True, unique=True),
    Column("uen", String(10), nullable=True, unique=True),
    Column("lei", String(20), nullable=True, unique=True),
    Column("bic", String(11), nullable=True),
    Column("source", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_registry_organisations_jurisdiction_id", "jurisdiction", "id"),
    Index("ix_registry_organisations_kind_id", "kind", "id"),
    Index("ix_registry_organisations_sector_id", "sector", "id"),
    Index("ix_registry_organisations_status_id", "status", "id"),
)

status_history = Table(
    "registry_status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), nullable=False, index=True),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=True),
    Column("changed_on", Date, nullable=False),
    Column("reason", Text, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

agreements = Table(
    "registry_agreements",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("title_en", String(500), nullable=False),
    Column("title_zh", String(500), nullable=False),
    Column("signed_on", Date, nullable=True),
    Column("source", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

agreement_parties = Table(
    "registry_agreement_parties",
    metadata,
    Column("agreement_id", String(64), ForeignKey("registry_agreements.id"), primary_key=True),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), primary_key=True, index=True),
)

IDENTIFIER_COLUMNS = ("uscc", "uen", "lei")  # the ones the schema keeps unique


def _org(row: Any) -> Organisation:
    return Organisation(
        id=row.id,
        kind=Kind(row.kind),
        jurisdiction=row.jurisdiction,
        name_en=row.name_en,
        name_zh=row.name_zh,
        sector=Sector(row.sector),
        status=Status(row.status) if row.status else None,
        uscc=row.uscc,
        uen=row.uen,
        lei=row.lei,
        bic=row.bic,
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def org_row(org: Organisation, now: datetime) -> dict[str, Any]:
    return {
        "id": org.id,
        "kind": org.kind.value,
        "jurisdiction": org.jurisdiction,
        "name_en": org.name_en,
        "name_zh": org.name_zh,
        "sector": org.sector.value,
        "status": org.status.value if org.status else None,
        "uscc": org.uscc,
        "uen": org.uen,
        "lei": org.lei,
        "bic": org.bic,
        "source": org.source,
        "created_at": now,
        "updated_at": now,
    }


def get_organisation(conn: Connection, org_id: str) -> Organisation | None:
    row = conn.execute(select(organisations).where(organisations.c.id == org_id)).first()
    return _org(row) if row else None


def existing_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists keep both engines within parameter limits
        chunk = wanted[start : start + 500]
        found.update(conn.scalars(select(organisations.c.id).where(organisations.c.id.in_(chunk))))
    return found


def identifier_holders(conn: Connection, column: str, values: Iterable[str]) -> dict[str, str]:
    """Map each identifier value already in use to the organisation holding it."""
    col = organisations.c[column]
    wanted = [v for v in values if v]
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for value, org_id in conn.execute(select(col, organisations.c.id).where(col.in_(chunk))):
            out[value] = org_id
    return out


def insert_organisations(conn: Connection, orgs: Sequence[Organisation], changed_on: date, now: datetime) -> None:
    if not orgs:
        return
    conn.execute(insert(organisations), [org_row(o, now) for o in orgs])
    conn.execute(
        insert(status_history),
        [
            {
                "org_id": o.id,
                "from_status": None,
                "to_status": o.status.value if o.status else None,
                "changed_on": changed_on,
                "reason": "registered",
                "recorded_at": now,
            }
            for o in orgs
        ],
    )


def update_organisation(conn: Connection, org_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(organisations).where(organisations.c.id == org_id).values(**values))


def lock_organisation(conn: Connection, org_id: str) -> Organisation | None:
    """Read an organisation for update (a row lock on PostgreSQL; SQLite's writer lock already serialises)."""
    row = conn.execute(select(organisations).where(organisations.c.id == org_id).with_for_update()).first()
    return _org(row) if row else None


def record_status_change(conn: Connection, change: StatusChange, now: datetime) -> None:
    conn.execute(
        insert(status_history).values(
            org_id=change.org_id,
            from_status=change.from_status.value if change.from_status else None,
            to_status=change.to_status.value if change.to_status else None,
            changed_on=change.changed_on,
            reason=change.reason,
            recorded_at=now,
        )
    )
    conn.execute(
        update(organisations)
        .where(organisations.c.id == change.org_id)
        .values(status=change.to_status.value if change.to_status else None, updated_at=now)
    )


def _change(r: Any) -> StatusChange:
    return StatusChange(
        org_id=r.org_id,
        from_status=Status(r.from_status) if r.from_status else None,
        to_status=Status(r.to_status) if r.to_status else None,
        changed_on=r.changed_on,
        reason=r.reason,
        recorded_at=r.recorded_at,
    )


def history(conn: Connection, org_id: str) -> list[StatusChange]:
    rows = conn.execute(
        select(status_history)
        .where(status_history.c.org_id == org_id)
        .order_by(status_history.c.changed_on, status_history.c.id)
    )
    return [_change(r) for r in rows]


@dataclass(frozen=True)
class OrgFilter:
    q: str | None = None
    kind: Kind | None = None
    jurisdiction: str | None = None
    sector: Sector | None = None
    status: Status | None = None


def _where(f: OrgFilter) -> list[Any]:
    clauses: list[Any] = []
    if f.kind:
        clauses.append(organisations.c.kind == f.kind.value)
    if f.jurisdiction:
        clauses.append(organisations.c.jurisdiction == f.jurisdiction)
    if f.sector:
        clauses.append(organisations.c.sector == f.sector.value)
    if f.status:
        clauses.append(organisations.c.status == f.status.value)
    if f.q:
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        clauses.append(
            or_(
                organisations.c.name_en.ilike(pattern, escape="\\"),
                organisations.c.name_zh.like(pattern, escape="\\"),
                organisations.c.id.ilike(pattern, escape="\\"),
                organisations.c.uscc == f.q.upper(),
                organisations.c.uen == f.q.upper(),
                organisations.c.lei == f.q.upper(),
                organisations.c.bic == f.q.upper(),
            )
        )
    return clauses


def search(conn: Connection, f: OrgFilter, after_id: str | None, limit: int) -> list[Organisation]:
    """Keyset pagination by id: stable under inserts and O(limit) per page at any depth."""
    stmt = select(organisations).where(*_where(f))
    if after_id is not None:
        stmt = stmt.where(organisations.c.id > after_id)
    rows = conn.execute(stmt.order_by(organisations.c.id).limit(limit))
    return [_org(r) for r in rows]


def count(conn: Connection, f: OrgFilter) -> int:
    return int(conn.scalar(select(func.count()).select_from(organisations).where(*_where(f))) or 0)


def counts_by(conn: Connection, column: str) -> dict[str, int]:
    col = organisations.c[column]
    return {(k or ""): int(v) for k, v in conn.execute(select(col, func.count()).group_by(col))}


def all_histories(conn: Connection) -> dict[str, list[StatusChange]]:
    out: dict[str, list[StatusChange]] = {}
    for r in conn.execute(select(status_history).order_by(status_history.c.changed_on, status_history.c.id)):
        out.setdefault(r.org_id, []).append(_change(r))
    return out


def get_agreement(conn: Connection, agreement_id: str) -> Agreement | None:
    row = conn.execute(select(agreements).where(agreements.c.id == agreement_id)).first()
    if row is None:
        return None
    parties = tuple(
        conn.scalars(
            select(agreement_parties.c.org_id)
            .where(agreement_parties.c.agreement_id == agreement_id)
            .order_by(agreement_parties.c.org_id)
        )
    )
    return Agreement(row.id, row.type, row.title_en, row.title_zh, row.signed_on, row.source, parties)


def insert_agreement(conn: Connection, agreement: Agreement, now: datetime) -> None:
    conn.execute(
        insert(agreements).values(
            id=agreement.id,
            type=agreement.type,
            title_en=agreement.title_en,
            title_zh=agreement.title_zh,
            signed_on=agreement.signed_on,
            source=agreement.source,
            created_at=now,
        )
    )
    if agreement.party_ids:
        conn.execute(
            insert(agreement_parties),
            [{"agreement_id": agreement.id, "org_id": p} for p in agreement.party_ids],
        )


def agreements_of(conn: Connection, org_id: str) -> list[Agreement]:
    ids = conn.scalars(select(agreement_parties.c.agreement_id).where(agreement_parties.c.org_id == org_id)).all()
    found = [get_agreement(conn, i) for i in ids]
    return sorted((a for a in found if a), key=lambda a: (a.signed_on or date.min, a.id))


def list_agreements(conn: Connection) -> list[Agreement]:
    ids = conn.scalars(select(agreements.c.id).order_by(agreements.c.signed_on, agreements.c.id)).all()
    return [a for a in (get_agreement(conn, i) for i in ids) if a]
