"""Rows written straight on the driver's cursor (db.driver.Driver.insert_typed) are stored exactly as a Core
insert stores them, on SQLite and PostgreSQL: aware datetimes, booleans, NULLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.db.driver import FEW, Driver, savepoint
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


def _uetrs(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(payments.c.uetr).order_by(payments.c.uetr)).scalars())


def test_a_driver_savepoint_keeps_its_work_when_released_and_loses_only_its_own_when_it_raises(db: Database) -> None:
    with db.transaction() as conn:
        _payment(conn, "before")
        with savepoint(conn):
            _payment(conn, "kept")
        with pytest.raises(ValueError, match="refused"), savepoint(conn):
            _payment(conn, "lost")
            raise ValueError("refused")
        _payment(conn, "after")  # the transaction goes on after a rolled-back unit, on PostgreSQL too
    assert _uetrs(db) == ["after", "before", "kept"]


def test_a_failed_statement_inside_a_driver_savepoint_rolls_back_to_it(db: Database) -> None:
    # On PostgreSQL a failed statement aborts the whole transaction until the savepoint is rolled back to.
    with db.transaction() as conn:
        _payment(conn, "first")
        with pytest.raises(IntegrityError), savepoint(conn):
            _payment(conn, "second")
            _payment(conn, "first")  # the same primary key
        _payment(conn, "third")
    assert _uetrs(db) == ["first", "third"]


def test_core_savepoints_nest_inside_a_driver_savepoint(db: Database) -> None:
    with db.transaction() as conn:
        with savepoint(conn):
            with conn.begin_nested():
                _payment(conn, "inner kept")
            with pytest.raises(ValueError), conn.begin_nested():
                _payment(conn, "inner lost")
                raise ValueError
        with pytest.raises(ValueError), savepoint(conn):
            with conn.begin_nested():
                _payment(conn, "outer lost")
            raise ValueError
    assert _uetrs(db) == ["inner kept"]


@pytest.mark.parametrize("n", [1, 2, FEW, FEW + 1, 3 * FEW])
def test_any_of_matches_the_same_rows_named_one_by_one_or_as_one_array(db: Database, n: int) -> None:
    # Up to FEW values, SQLite names each (IN (?, ?)); more go as one JSON array, PostgreSQL's always as one array.
    uetrs = [f"00000000-0000-4000-8000-{k:012d}" for k in range(3 * FEW + 2)]
    with db.transaction() as conn:
        for uetr in uetrs:
            _payment(conn, uetr)
        with Driver(conn) as driver:
            where, params = driver.any_of(uetrs[:n])
            driver.cursor.execute(f"SELECT uetr FROM payments WHERE uetr {where}", params)
            found = sorted(u for (u,) in driver.cursor.fetchall())
        conn.rollback()
    assert found == uetrs[:n]
    assert ("json_each" in where) == (db.dialect == "sqlite" and n > FEW)


def test_any_of_takes_values_orjson_refuses_on_sqlite(db: Database) -> None:
    # A lone surrogate and an integer beyond 64 bits: orjson refuses both, the standard library's JSON writes them.
    odd = ["\ud800", 2**70, *(f"v{k}" for k in range(FEW))]
    with db.transaction() as conn, Driver(conn) as driver:
        where, params = driver.any_of(odd)
        if db.dialect == "sqlite":
            driver.cursor.execute(f"SELECT count(*) FROM json_each(?) WHERE value {where}", (*params, *params))
            assert driver.cursor.fetchone() == (len(odd),)
        conn.rollback()
    assert ("json_each" in where) == (db.dialect == "sqlite")
