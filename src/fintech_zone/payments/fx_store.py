"""FX tables of the rails and their queries: providers' posted rates, and the quotes payers take."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    and_,
    insert,
    select,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.db.driver import Driver
from fintech_zone.db.types import UTCDateTime
from fintech_zone.payments.model import Pair, Quote, Rate

rates = Table(
    "payments_fx_rates",
    metadata,
    Column("provider_id", String(40), ForeignKey("payments_participants.id"), primary_key=True),
    Column("pair", String(16), primary_key=True),
    Column("rate", String(40), nullable=False),  # a Decimal's exact text: never a float
    Column("spread_bps", Integer, nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=False),
)

quotes = Table(
    "payments_fx_quotes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("provider_id", String(40), ForeignKey("payments_participants.id"), nullable=False),
    Column("source_asset", String(16), nullable=False),
    Column("target_asset", String(16), nullable=False),
    Column("source_amount", BigInteger, nullable=False),
    Column("target_amount", BigInteger, nullable=False),
    Column("rate", String(40), nullable=False),
    Column("fees", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("consumed_by", String(36), nullable=True),  # not unique: migration 0011
)


def _rate(r: Any) -> Rate:
    return Rate(r.provider_id, Pair.parse(r.pair), Decimal(r.rate), r.spread_bps, r.posted_at, r.valid_until)


def upsert_rate(conn: Connection, rate: Rate) -> None:
    """A provider's new rate for a pair replaces its previous one (quotes already given keep theirs)."""
    key = and_(rates.c.provider_id == rate.provider_id, rates.c.pair == str(rate.pair))
    values = {
        "rate": str(rate.rate),
        "spread_bps": rate.spread_bps,
        "posted_at": rate.posted_at,
        "valid_until": rate.valid_until,
    }
    if conn.execute(update(rates).where(key).values(**values)).rowcount == 0:
        conn.execute(insert(rates).values(provider_id=rate.provider_id, pair=str(rate.pair), **values))


def valid_rates(conn: Connection, pairs: Iterable[str], now: datetime) -> list[Rate]:
    rows = conn.execute(
        select(rates).where(rates.c.pair.in_(list(pairs)), rates.c.valid_until > now).order_by(rates.c.provider_id)
    )
    return [_rate(r) for r in rows]


def list_rates(conn: Connection) -> list[Rate]:
    return [_rate(r) for r in conn.execute(select(rates).order_by(rates.c.pair, rates.c.provider_id))]


def _quote(r: Any) -> Quote:
    return Quote(
        r.id,
        r.provider_id,
        r.source_asset,
        r.target_asset,
        r.source_amount,
        r.target_amount,
        Decimal(r.rate),
        r.fees,
        r.created_at,
        r.expires_at,
        r.consumed_by,
    )


def insert_quote(conn: Connection, q: Quote) -> None:
    conn.execute(
        insert(quotes).values(
            id=q.id,
            provider_id=q.provider_id,
            source_asset=q.source_asset,
            target_asset=q.target_asset,
            source_amount=q.source_amount,
            target_amount=q.target_amount,
            rate=str(q.rate),
            fees=q.fees,
            created_at=q.created_at,
            expires_at=q.expires_at,
        )
    )


# A payment reads and consumes its quote inside the writers' turn: on the driver's cursor (db/driver.py).
def get_quote(conn: Connection, quote_id: str) -> Quote | None:
    with Driver(conn) as driver:
        rows = driver.select_typed(quotes, "id = {m}", (quote_id,))
    return _quote(rows[0]) if rows else None


def consume_quote(conn: Connection, quote_id: str, uetr: str) -> bool:
    """Mark a quote used by ``uetr``; False when another payment already used it (a concurrent one included: the
    condition is checked by the UPDATE itself, under the row's lock)."""
    with Driver(conn) as driver:
        m = driver.mark
        driver.cursor.execute(
            f"UPDATE {quotes.name} SET consumed_by = {m} WHERE id = {m} AND consumed_by IS NULL", (uetr, quote_id)
        )
        return bool(driver.cursor.rowcount == 1)


def release_quote(conn: Connection, quote_id: str, uetr: str) -> None:
    conn.execute(update(quotes).where(quotes.c.id == quote_id, quotes.c.consumed_by == uetr).values(consumed_by=None))
