"""The sandbox's storage on the payment path: a pilot's space read in one statement under its lock, and the
space a settled payment used recorded. These run inside a payment's transaction, in the writers' turn: on the
driver's cursor with statements written once, because SQLAlchemy's cost per Core statement (about 0.3 ms) was most
of what a pilot's check cost (docs/benchmarks.md, "Pilot sandbox")."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection

from fintech_zone.db.driver import Driver
from fintech_zone.sandbox.boundaries import Space, Usage
from fintech_zone.sandbox.model import Boundaries, Outcome, Status
from fintech_zone.sandbox.store import boundaries_from

_SPACE = (
    "SELECT p.status, p.outcome, p.suspended, p.boundaries, p.customers,"
    " EXISTS (SELECT 1 FROM sandbox_institutions i WHERE i.pilot_id = p.id AND i.org_id = {m}),"
    " EXISTS (SELECT 1 FROM sandbox_customers c WHERE c.pilot_id = p.id AND c.customer = {m}),"
    " (SELECT coalesce(sum(u.amount), 0) FROM sandbox_usage u WHERE u.pilot_id = p.id AND u.asset = {m}),"
    " (SELECT coalesce(sum(u.amount), 0) FROM sandbox_usage u WHERE u.pilot_id = p.id AND u.asset = {m}"
    " AND u.day = {m})"
    " FROM sandbox_pilots p WHERE p.id = {m}"
)
_SPACE_SQLITE = _SPACE.format(m="?")
_SPACE_PG = _SPACE.format(m="%s") + " FOR UPDATE OF p"  # SQLite's writer already holds the whole database


def space_of(
    conn: Connection, pilot_id: str, agent: str, asset: str, customer: str, on: date
) -> tuple[Space, bool, Usage] | None:
    """The pilot's space (locked until the transaction ends), whether ``agent`` is one of its institutions, and
    the use so far of ``asset`` and by ``customer``: one statement."""
    with Driver(conn) as driver:
        day: Any = on.isoformat() if driver.sqlite else on  # SQLAlchemy's Date is ISO text on SQLite
        sql = _SPACE_SQLITE if driver.sqlite else _SPACE_PG
        driver.cursor.execute(sql, (agent, customer, asset, asset, day, pilot_id))
        row = driver.cursor.fetchone()
    if row is None:
        return None
    status, outcome, suspended, limits, count, member, known, total, today = row
    boundaries = _boundaries_cached(limits) if limits else None
    space = Space(pilot_id, Status(status), bool(suspended), boundaries, Outcome(outcome) if outcome else None)
    return space, bool(member), Usage(int(count), bool(known), int(today), int(total))


@cache
def _boundaries_cached(document: str) -> Boundaries:
    # The same few documents come back with every payment of a pilot: parse each once (Boundaries is frozen).
    return boundaries_from(json.loads(document))


_ADD_USAGE = (
    "INSERT INTO sandbox_usage (pilot_id, asset, day, amount, payments) VALUES ({m}, {m}, {m}, {m}, 1)"
    " ON CONFLICT (pilot_id, asset, day) DO UPDATE SET amount = sandbox_usage.amount + excluded.amount,"
    " payments = sandbox_usage.payments + 1"
)
_ADD_CUSTOMER = "INSERT INTO sandbox_customers (pilot_id, customer) VALUES ({m}, {m})"
_COUNT_CUSTOMER = "UPDATE sandbox_pilots SET customers = customers + 1 WHERE id = {m}"


def add_usage(conn: Connection, pilot_id: str, asset: str, on: date, amount: int, customer: str, new: bool) -> None:
    with Driver(conn) as driver:
        m = driver.mark
        day: Any = on.isoformat() if driver.sqlite else on
        driver.cursor.execute(_ADD_USAGE.format(m=m), (pilot_id, asset, day, amount))
        if new:
            driver.cursor.execute(_ADD_CUSTOMER.format(m=m), (pilot_id, customer))
            driver.cursor.execute(_COUNT_CUSTOMER.format(m=m), (pilot_id,))
