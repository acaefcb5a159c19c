"""A batch's look-ups find the same rows whichever statement asks: on SQLite a few ids are named one by one and
more go as one JSON array joined to the table; on PostgreSQL always as one array."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fintech_zone.db import Database
from fintech_zone.db.driver import FEW
from fintech_zone.db.migrate import upgrade
from fintech_zone.ledger import batch_store, service
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount, Transfer

STORED = [f"t-{k:03d}" for k in range(0, 60, 2)]  # the even ones exist
FAILED = ["t-001", "t-003"]  # two odd ones failed


def _fill(db: Database) -> Database:
    service.create_asset(db, Asset("SGD", AssetKind.FIAT_RESERVE, "SGD", 2))
    service.create_accounts(db, [NewAccount("a", "SGD", 1), NewAccount("b", "SGD", 1)])
    results = service.create_transfers(db, [Transfer(i, "a", "b", 5, "SGD", 1) for i in STORED])
    assert {r.result for r in results} == {"created"}
    failing = service.create_transfers(db, [Transfer(i, "a", "b", 0, "SGD", 1) for i in FAILED])
    assert {r.result for r in failing} == {"amount_must_not_be_zero"}
    return db


@pytest.fixture
def ledger(db: Database) -> Database:
    return _fill(db)


@pytest.mark.parametrize("n", [1, FEW, FEW + 1, 60])
def test_transfers_and_failed_ids_are_found_among_n_asked(ledger: Database, n: int) -> None:
    asked = [f"t-{k:03d}" for k in range(n)] + ["unknown", "bad id!", None]
    with ledger.read() as conn:
        transfers = batch_store.load_transfers(conn, asked)
        failed = batch_store.load_failed(conn, "transfer", asked)
        also_accounts = batch_store.load_failed(conn, "account", asked)
    assert sorted(transfers) == [i for i in STORED if i in asked]
    assert all(t.id == i and t.amount == 5 and t.debit_account_id == "a" for i, t in transfers.items())
    assert failed == {i: "amount_must_not_be_zero" for i in FAILED if i in asked}
    assert also_accounts == {}  # another kind's id space


def test_many_ids_on_sqlite_are_a_join_driven_by_the_array(tmp_path: Path) -> None:
    # SQLite's statement shape (PostgreSQL takes one array, = ANY).
    ledger = Database.from_url(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(ledger.engine)
    _fill(ledger)
    statements: list[str] = []
    with ledger.read() as conn:
        raw: Any = conn.connection.dbapi_connection
        raw.set_trace_callback(statements.append)
        batch_store.load_transfers(conn, STORED)
        raw.set_trace_callback(None)
        [sql] = [s for s in statements if "ledger_transfers" in s]
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()]
    assert plan[0].startswith("SCAN j")  # the array first, then one look-up per id
    assert plan[1].startswith("SEARCH ledger_transfers USING INDEX sqlite_autoindex_ledger_transfers")
    assert len(plan) == 2  # no temporary index of the ids
    ledger.dispose()
