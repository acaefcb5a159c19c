"""Storage of the payment limits (``limits.py`` sets and lists them; ``payment_service`` applies them)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, insert, select, update

from fintech_zone.db.driver import Driver
from fintech_zone.payments.model import Limit
from fintech_zone.payments.store import limits


def upsert_limit(conn: Connection, limit: Limit) -> None:
    key = and_(limits.c.scope == limit.scope, limits.c.key == limit.key, limits.c.asset == limit.asset)
    values = {"per_payment": limit.per_payment, "daily": limit.daily}
    if conn.execute(update(limits).where(key).values(**values)).rowcount == 0:
        conn.execute(insert(limits).values(scope=limit.scope, key=limit.key, asset=limit.asset, **values))


def limits_for(conn: Connection, keys: Iterable[tuple[str, str]], asset: str) -> list[Limit]:
    # Every payment reads its limits inside the writers' turn: on the driver's cursor (db/driver.py).
    wanted = list(keys)
    with Driver(conn) as driver:
        rows = driver.select_typed(limits, "asset = {m}", (asset,))
    return [Limit(r.scope, r.key, r.asset, r.per_payment, r.daily) for r in rows if (r.scope, r.key) in wanted]


def list_limits(conn: Connection) -> list[Limit]:
    rows = conn.execute(select(limits).order_by(limits.c.scope, limits.c.key, limits.c.asset))
    return [Limit(r.scope, r.key, r.asset, r.per_payment, r.daily) for r in rows]
