"""Registry tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import chain
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
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

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
    Index("ix_registry_organisations_bic", "bic"),  # so that q= equal to a BIC is an index probe, as the others are
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


def org_from_row(row: Any) -> Organisation:
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
    return org_from_row(row) if row else None


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
    """Write new organisations and the first status-history row of each, in the caller's transaction.

    Bulk-sized (a CSV import writes 100,000 rows at once): the rows go to the driver as plain tuples, skipping
    SQLAlchemy's per-row parameter processing. The values that are the same on every row (the timestamps, the
    date) go through the columns' own SQLAlchemy bind processors once, so what is stored is exactly what
    SQLAlchemy would have stored (on SQLite, UTCDateTime's text form). SQLite gets multi-row ``INSERT``s and a
    larger page cache for the duration, PostgreSQL ``COPY``; any other database the plain Core insert.
    A constraint violation raises SQLAlchemy's ``IntegrityError`` on every path. Rows are written in id order
    (kinder to the indexes, all of which but the identifiers' start with or end in the id).
    """
    if not orgs:
        return
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        _insert_organisations_core(conn, orgs, changed_on, now)
        return
    ordered = sorted(orgs, key=_by_id)
    org_values, history_values = _driver_rows(conn, ordered, changed_on, now)
    if dialect == "sqlite":
        cache_before = _sqlite_grow_cache(conn) if len(ordered) >= _SQLITE_BULK_ROWS else None
        try:
            _sqlite_insert(conn, organisations, ORG_COLUMNS, org_values)
            _sqlite_insert(conn, status_history, HISTORY_COLUMNS, history_values)
        finally:
            if cache_before is not None:
                conn.exec_driver_sql(f"PRAGMA cache_size = {cache_before}")
    else:
        _pg_copy(conn, organisations, ORG_COLUMNS, org_values)
        _pg_copy(conn, status_history, HISTORY_COLUMNS, history_values)


ORG_COLUMNS = (
    "id",
    "kind",
    "jurisdiction",
    "name_en",
    "name_zh",
    "sector",
    "status",
    "uscc",
    "uen",
    "lei",
    "bic",
    "source",
    "created_at",
    "updated_at",
)
HISTORY_COLUMNS = ("org_id", "from_status", "to_status", "changed_on", "reason", "recorded_at")
_REGISTERED = "registered"  # the reason recorded on an organisation's first status-history row
# Past this many rows SQLite gets a page cache big enough for the indexes being written (the default, 2 MB, makes
# it read and write the same index pages over and over); the old size comes back afterwards.
_SQLITE_BULK_ROWS = 1_000
_SQLITE_BULK_CACHE_KIB = 256 * 1024
_SQLITE_ROWS_PER_INSERT = 5_000  # and at most 32,766 parameters (SQLite's default limit)


def _by_id(org: Organisation) -> str:
    return org.id


def _bind(conn: Connection, table: Table, column: str, value: Any) -> Any:
    """``value`` as SQLAlchemy would send it to this database for this column (its type's bind processor)."""
    processor = table.c[column].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor(value) if processor is not None else value


def _driver_rows(
    conn: Connection, orgs: Sequence[Organisation], changed_on: date, now: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of both tables as driver parameters, in the order of ``ORG_COLUMNS`` / ``HISTORY_COLUMNS``."""
    for table, columns in ((organisations, ORG_COLUMNS[:12]), (status_history, HISTORY_COLUMNS[:3])):
        # Only the per-row columns skip their bind processors: that is only right while they have none.
        typed = [c for c in columns if table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)]
        if typed:  # pragma: no cover - a guard for a future column type, not a path the schema has today
            raise TypeError(f"{table.name}: bulk insert does not process {typed}")
    created = _bind(conn, organisations, "created_at", now)
    updated = _bind(conn, organisations, "updated_at", now)
    recorded = _bind(conn, status_history, "recorded_at", now)
    changed = _bind(conn, status_history, "changed_on", changed_on)
    org_values = [
        (
            o.id,
            o.kind.value,
            o.jurisdiction,
            o.name_en,
            o.name_zh,
            o.sector.value,
            o.status.value if o.status else None,
            o.uscc,
            o.uen,
            o.lei,
            o.bic,
            o.source,
            created,
            updated,
        )
        for o in orgs
    ]
    history_values = [(o.id, None, o.status.value if o.status else None, changed, _REGISTERED, recorded) for o in orgs]
    return org_values, history_values


def _sqlite_grow_cache(conn: Connection) -> int:
    """Give this connection a bulk-sized page cache; returns the size to restore afterwards."""
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_BULK_CACHE_KIB}")
    return before


def _sqlite_insert(conn: Connection, table: Table, columns: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """Multi-row ``INSERT … VALUES (…), (…), …``: as many rows per statement as SQLite's parameter limit allows.

    Not one statement per row (``executemany``): FTS5 flushes its pending terms at the end of every statement, so
    where an insert trigger keeps a full-text index (registry search on SQLite), a statement per row costs
    several times the insert itself.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    per = max(1, min(driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns), _SQLITE_ROWS_PER_INSERT))
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    row = f"({', '.join('?' for _ in columns)})"
    for start in range(0, len(values), per):
        chunk = values[start : start + per]
        conn.exec_driver_sql(head + ", ".join([row] * len(chunk)), tuple(chain.from_iterable(chunk)))


def _pg_copy(conn: Connection, table: Table, columns: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """``COPY … FROM STDIN`` through psycopg 3, in the connection's transaction; errors as SQLAlchemy raises them."""
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect, ismulti=True
        ) from exc


def _insert_organisations_core(conn: Connection, orgs: Sequence[Organisation], changed_on: date, now: datetime) -> None:
    conn.execute(insert(organisations), [org_row(o, now) for o in orgs])
    conn.execute(
        insert(status_history),
        [
            {
                "org_id": o.id,
                "from_status": None,
                "to_status": o.status.value if o.status else None,
                "changed_on": changed_on,
                "reason": _REGISTERED,
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
    return org_from_row(row) if row else None


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
