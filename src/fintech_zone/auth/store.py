"""API token storage: only the SHA-256 of each token is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    insert,
    select,
    update,
)

from fintech_zone.auth.model import Role, TokenInfo
from fintech_zone.db import metadata
from fintech_zone.db.driver import Driver
from fintech_zone.db.types import UTCDateTime

api_tokens = Table(
    "auth_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("org_id", String(64), ForeignKey("registry_organisations.id"), nullable=True),
    Column("name", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(row.id, Role(row.role), row.org_id, row.name, row.created_at, row.revoked_at)


def insert_token(
    conn: Connection, token_hash: str, role: Role, org_id: str | None, name: str | None, now: datetime
) -> int:
    result = conn.execute(
        insert(api_tokens)
        .values(token_hash=token_hash, role=role.value, org_id=org_id, name=name, created_at=now)
        .returning(api_tokens.c.id)
    )
    return int(result.scalar_one())


# Every API request looks its token up, every signed-in page its session's: on the driver's cursor (db/driver.py).
def find_by_hash(conn: Connection, token_hash: str) -> TokenInfo | None:
    with Driver(conn) as driver:
        rows = driver.select_typed(api_tokens, "token_hash = {m}", (token_hash,))
    return _info(rows[0]) if rows else None


def get(conn: Connection, token_id: int) -> TokenInfo | None:
    with Driver(conn) as driver:
        rows = driver.select_typed(api_tokens, "id = {m}", (token_id,))
    return _info(rows[0]) if rows else None


def list_tokens(conn: Connection) -> list[TokenInfo]:
    return [_info(r) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.id))]


def revoke(conn: Connection, token_id: int, now: datetime) -> bool:
    result = conn.execute(
        update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount == 1
