"""Rows written straight on the driver's cursor (db.driver.Driver.insert_typed) are stored exactly as a Core
insert stores them, on SQLite and PostgreSQL: aware datetimes, booleans, NULLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from fintech_zone.db import Database
from fintech_zone.db.driver import Driver
from fintech_zone.payments.store import decisions, payments

COLUMNS = ("uetr", "seq", "status", "reason", "detail", "at", "actor")


def _payment(conn: object, uetr: str) -> None:
    values = dict(
        uetr=uetr, debtor_agent="a", creditor_agent="b", corridor="CN-SG", debtor_name="D", debtor_account="1",
        creditor_name="C", creditor_account="2", source_asset="CNY", source_amount=1, target_asset="SGD",
        target_amount=1, fees=0, demo=True, status="settled", created_at=datetime(2026, 11, 28, tzinfo=UTC),
    )  # fmt: skip
    conn.execute(insert(payments).values(**values))  # type: ignore[attr-defined]


def test_driver_inserts_store_what_core_stores(db: Database) -> None:
    # An offset that is not UTC and microseconds: both must come out as Core writes them.
    at = datetime(2026, 11, 28, 11, 5, 7, 123456, tzinfo=timezone(timedelta(hours=8)))
    row = ("core", 0, "settled", None, "detail", at, "rails")
    with db.transaction() as conn:
        _payment(conn, "core")
        _payment(conn, "driver")
        conn.execute(insert(decisions).values(dict(zip(COLUMNS, row, strict=True))))
        with Driver(conn) as driver:
            driver.insert_typed(decisions, COLUMNS, [("driver", *row[1:])])
    with db.read() as conn:
        # The raw stored values, not read back through the column types (which would hide a different format).
        raw = conn.execute(
            text("SELECT uetr, seq, status, reason, detail, at, actor FROM payments_decisions ORDER BY uetr")
        ).all()
        typed = conn.execute(select(decisions.c.at).order_by(decisions.c.uetr)).scalars().all()
    assert tuple(raw[0])[1:] == tuple(raw[1])[1:]  # every stored value but the key
    assert typed == [at.astimezone(UTC), at.astimezone(UTC)]
