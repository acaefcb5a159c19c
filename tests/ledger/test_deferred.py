"""Deferred ledger batches (``ledger.service.deferred``): many small batches in one transaction are applied to one
book and written once, with exactly the outcome they would have had one by one; a unit of work that fails takes
its transfers back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, select

from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.journal import service as journal
from fintech_zone.ledger import service, store
from fintech_zone.ledger.model import AccountFlag, Asset, AssetKind, NewAccount, Transfer, TransferFlag

F = TransferFlag
LIMITED = frozenset({AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS})


def _setup(db: Database) -> None:
    service.create_asset(db, Asset("SGD", AssetKind.FIAT_RESERVE, "SGD", 2))
    accounts = [NewAccount("issuer", "SGD", 1), NewAccount("a", "SGD", 1, LIMITED), NewAccount("b", "SGD", 1)]
    assert {r.result for r in service.create_accounts(db, accounts)} == {"created"}
    assert service.create_transfers(db, [Transfer("fund", "issuer", "a", 1000, "SGD", 1)])[0].result == "created"


def t(tid: str, dr: str, cr: str, amount: int, *flags: F, **more: Any) -> Transfer:
    return Transfer(tid, dr, cr, amount, "SGD", 1, frozenset(flags), **more)


# Batches as a payment group would send them: lone transfers, linked chains, a pending transfer posted and another
# voided by later batches, failures (over the limit, a re-sent id, a re-sent failed id, an unknown account).
BATCHES: list[list[Transfer]] = [
    [t("p1", "a", "b", 100)],
    [t("p2", "a", "b", 50, F.LINKED), t("p3", "b", "issuer", 20)],
    [t("hold", "a", "b", 300, F.PENDING, timeout=3600)],
    [t("p4", "a", "b", 600)],  # over the limit while "hold" holds 300: exceeds_credits
    [t("post", "", "", 200, F.POST_PENDING_TRANSFER, pending_id="hold")],
    [t("p1", "a", "b", 100)],  # exists
    [t("p4", "a", "b", 600)],  # id_already_failed
    [t("hold2", "a", "b", 10, F.PENDING, timeout=3600), t("p5", "a", "nobody", 1)],
    [t("void", "", "", 10, F.VOID_PENDING_TRANSFER, pending_id="hold2")],
    [t("p6", "b", "a", 5, F.LINKED), t("p7", "a", "b", 10_000)],  # the chain fails as a whole
]


def _state(db: Database) -> dict[str, Any]:
    """The ledger as stored, without the engine's timestamps (which depend on when each batch ran)."""
    with db.read() as conn:
        accounts = {
            r.id: (r.debits_pending, r.debits_posted, r.credits_pending, r.credits_posted)
            for r in conn.execute(select(store.accounts))
        }
        transfers = {
            r.id: (r.debit_account_id, r.credit_account_id, r.amount, r.flags, r.pending_id)
            for r in conn.execute(select(store.transfers))
        }
        pendings = {r.transfer_id: (r.state, r.posted_amount) for r in conn.execute(select(store.pendings))}
        failed = {(r.kind, r.id): r.result for r in conn.execute(select(store.failed))}
        postings = sorted((r.account_id, transfer_of(conn, r.timestamp)) for r in conn.execute(select(store.postings)))
    return {"accounts": accounts, "transfers": transfers, "pendings": pendings, "failed": failed, "postings": postings}


def transfer_of(conn: Connection, timestamp: int) -> str:
    return str(conn.execute(select(store.transfers.c.id).where(store.transfers.c.timestamp == timestamp)).scalar_one())


def _migrated(url: str) -> Database:
    other = Database.from_url(url)
    upgrade(other.engine)
    _setup(other)
    return other


def _one_by_one(db: Database, batches: Sequence[Sequence[Transfer]]) -> list[list[str]]:
    results = []
    for batch in batches:
        with db.transaction() as conn:
            results.append([r.result for r in service.create_transfers_in(conn, batch)])
    return results


def _deferred(
    db: Database, batches: Sequence[Sequence[Transfer]], failing: frozenset[int] = frozenset()
) -> list[list[str]]:
    """The batches in one deferring transaction, each its own unit of work; the units in ``failing`` raise after
    their transfers were applied."""
    results = []
    with db.transaction() as conn, journal.deferred(conn), service.deferred(conn):
        for i, batch in enumerate(batches):
            try:
                with conn.begin_nested(), journal.undone_with(conn), service.undone_with(conn):
                    results.append([r.result for r in service.create_transfers_in(conn, batch)])
                    if i in failing:
                        raise RuntimeError("this unit's other work failed")
            except RuntimeError:
                results[-1] = ["undone"]
    return results


def test_deferred_batches_end_as_they_would_one_by_one(db: Database, fresh_url: str) -> None:
    _setup(db)
    expected = _one_by_one(db, BATCHES)
    assert expected[3] == ["exceeds_credits"] and expected[6] == ["id_already_failed"]
    assert expected[9] == ["linked_event_failed", "exceeds_credits"]
    other = _migrated(fresh_url)
    try:
        assert _deferred(other, BATCHES) == expected
        assert _state(other) == _state(db)
        assert service.totals(other) == service.totals(db)
    finally:
        other.dispose()


def test_a_unit_that_fails_takes_its_transfers_back(db: Database, fresh_url: str) -> None:
    # Undone: the lone p1 (its accounts changed in place), the chain p2/p3, and the post of "hold"; the void of
    # hold2 stays. Compared with the same batches one by one, without the undone ones.
    _setup(db)
    failing = frozenset({0, 1, 4})
    results = _deferred(db, BATCHES, failing)
    assert [results[i] for i in sorted(failing)] == [["undone"]] * 3
    other = _migrated(fresh_url)
    try:
        kept = [b for i, b in enumerate(BATCHES) if i not in failing]
        assert [r for i, r in enumerate(results) if i not in failing] == _one_by_one(other, kept)
        assert _state(db) == _state(other)
    finally:
        other.dispose()
    state = _state(db)
    assert not {"p2", "p3", "post"} & set(state["transfers"]) and state["pendings"]["hold"] == ("pending", 0)
    # A retry of the undone work is a first attempt: nothing remembers it.
    with db.transaction() as conn:
        assert [r.result for r in service.create_transfers_in(conn, BATCHES[4])] == ["created"]


def test_the_block_writes_one_batch_and_one_leaf_at_its_end(db: Database) -> None:
    _setup(db)
    size = journal.tree_size(db)
    with db.transaction() as conn, journal.deferred(conn), service.deferred(conn):
        for batch in BATCHES[:3]:
            service.create_transfers_in(conn, batch)
        # Applied, not yet written; accounts_in answers from the book.
        assert conn.execute(select(store.transfers.c.id).where(store.transfers.c.id == "p1")).first() is None
        a = service.accounts_in(conn, ["a", "nobody"])
        assert list(a) == ["a"] and (a["a"].debits_pending, a["a"].debits_posted) == (300, 150)
    assert journal.tree_size(db) == size + 1
    kind, _, _ = journal.get_leaf(db, size)
    assert kind == "ledger.batch"
    assert service.get_transfer(db, "p3").amount == 20


def test_a_failing_deferring_transaction_writes_nothing(db: Database) -> None:
    _setup(db)
    before = _state(db)
    with pytest.raises(RuntimeError), db.transaction() as conn, service.deferred(conn):
        service.create_transfers_in(conn, BATCHES[0])
        raise RuntimeError("the group failed")
    assert _state(db) == before


def test_deferring_does_not_nest_and_refuses_new_accounts(db: Database) -> None:
    _setup(db)
    with db.transaction() as conn, service.deferred(conn):
        with pytest.raises(RuntimeError, match="already deferred"), service.deferred(conn):
            pass
        with pytest.raises(RuntimeError, match="cannot be created"):
            service.create_accounts_in(conn, [NewAccount("c", "SGD", 1)])
