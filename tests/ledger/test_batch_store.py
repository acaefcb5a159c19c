"""A batch's look-ups find the same rows whichever statement asks: on SQLite a few ids are named one by one and
more go as one JSON array joined to the table; on PostgreSQL always as one array."""

from __future__ import annotations

import threading
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


def _postings(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM ledger_postings").scalar_one())


def test_the_postings_copy_overlaps_the_work_given_meanwhile(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The copy waits until `meanwhile` is running: they can only both finish if they run at the same time.
    meanwhile_running = threading.Event()
    threads: dict[str, int] = {}
    real = batch_store._postings_copy

    def watched(driver: Any, new: list[Transfer]) -> Any:
        copy = real(driver, new)

        def run() -> None:
            threads["copy"] = threading.get_ident()
            assert meanwhile_running.wait(10)
            copy()

        return run

    def meanwhile() -> str:
        threads["meanwhile"] = threading.get_ident()
        meanwhile_running.set()
        return "the leaf"

    monkeypatch.setattr(batch_store, "_postings_copy", watched)
    before = _postings(ledger)
    with ledger.transaction() as conn:
        outcome, last = _outcome(conn, "x-1", "x-2")
        assert batch_store.write_outcome(conn, outcome, "transfer", last, meanwhile) == "the leaf"
    assert threads["copy"] != threads["meanwhile"] == threading.get_ident()
    assert _postings(ledger) == before + 4  # two sides of each of the two transfers


@pytest.mark.parametrize("failing", ["meanwhile", "copy"])
def test_a_failure_on_either_side_rolls_the_whole_batch_back(
    ledger: Database, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    real = batch_store._postings_copy
    copied: list[bool] = []

    def watched(driver: Any, new: list[Transfer]) -> Any:
        copy = real(driver, new)

        def run() -> None:
            if failing == "copy":
                raise RuntimeError("disk full")
            copy()
            copied.append(True)

        return run

    def meanwhile() -> None:
        if failing == "meanwhile":
            raise ValueError("no leaf")

    monkeypatch.setattr(batch_store, "_postings_copy", watched)
    before = _postings(ledger)
    with pytest.raises((RuntimeError, ValueError)), ledger.transaction() as conn:
        outcome, last = _outcome(conn, "y-1", "y-2")
        batch_store.write_outcome(conn, outcome, "transfer", last, meanwhile)
    # The copy had ended before the failure left write_outcome (the connection was still its own).
    assert copied == ([True] if failing == "meanwhile" else [])
    assert _postings(ledger) == before
    with ledger.read() as conn:
        assert batch_store.load_transfers(conn, ["y-1", "y-2"]) == {}


def _outcome(conn: Any, *ids: str) -> tuple[Any, int]:
    from fintech_zone.ledger import engine, store

    last = store.lock_clock(conn)
    events = [Transfer(i, "a", "b", 1, "SGD", 1) for i in ids]
    book = batch_store.load_book_for_transfers(conn, events, last)
    book.last_timestamp = last
    outcome = engine.create_transfers(book, events, last)
    assert outcome.results == ["created"] * len(ids)
    return outcome, book.last_timestamp
