"""The accounts kept between batches (``ledger.account_cache``) never show a state the database does not hold."""

from __future__ import annotations

from typing import Any

import pytest

from fintech_zone.db import Database
from fintech_zone.ledger import batch_store, service
from fintech_zone.ledger.model import AccountFlag, Asset, AssetKind, NewAccount, Transfer


def _setup(db: Database) -> None:
    service.create_asset(db, Asset("SGD", AssetKind.FIAT_RESERVE, "SGD", 2))
    results = service.create_accounts(db, [NewAccount("a", "SGD", 1), NewAccount("b", "SGD", 1)])
    assert {r.result for r in results} == {"created"}


def _move(db: Database, tid: str, amount: int) -> str:
    return service.create_transfers(db, [Transfer(tid, "a", "b", amount, "SGD", 1)])[0].result


def test_a_batch_that_fails_to_commit_leaves_nothing_behind(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(db)
    assert _move(db, "t1", 100) == "created"  # the accounts are now cached

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(batch_store, "write_outcome", broken)
        with pytest.raises(RuntimeError):
            _move(db, "t2", 5)  # the engine changed the accounts in memory, then the write failed
    assert service.get_account(db, "a").debits_posted == 100
    assert _move(db, "t3", 1) == "created"
    assert service.get_account(db, "a").debits_posted == 101  # not 106: the failed batch's change is gone
    assert service.totals(db)["SGD"] == (0, 101, 0, 101)


def test_a_batch_from_another_process_is_seen(db: Database, db_url: str) -> None:
    _setup(db)
    assert _move(db, "t1", 100) == "created"
    other = Database.from_url(db_url)  # another process's engine and cache, on the same database
    try:
        assert _move(other, "t2", 10) == "created"
        assert _move(db, "t3", 1) == "created"  # must start from 110, not from its own 100
        assert _move(other, "t4", 1000) == "created"
    finally:
        other.dispose()
    for name, (dpo, cpo) in {"a": (1111, 0), "b": (0, 1111)}.items():
        account = service.get_account(db, name)
        assert (account.debits_posted, account.credits_posted) == (dpo, cpo)
    assert service.totals(db)["SGD"] == (0, 1111, 0, 1111)


def test_new_accounts_and_limits_are_seen_after_caching(db: Database) -> None:
    _setup(db)
    assert _move(db, "t1", 100) == "created"
    flags = frozenset({AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS})
    results = service.create_accounts(db, [NewAccount("c", "SGD", 1, flags)])
    assert results[0].result == "created"
    out = service.create_transfers(db, [Transfer("t2", "c", "a", 1, "SGD", 1), Transfer("t3", "b", "c", 5, "SGD", 1)])
    assert [r.result for r in out] == ["exceeds_credits", "created"]
    assert service.get_account(db, "c").credits_posted == 5
