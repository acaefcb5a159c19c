"""Migration 0004 drops the transfers' foreign keys to the accounts, and keeps every transfer and pending row."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from fintech_zone.db import Database
from fintech_zone.db.migrate import alembic_config, current_revision, upgrade
from fintech_zone.ledger import service
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount, Transfer, TransferFlag


def _account_fks(db: Database) -> list[str]:
    fks = inspect(db.engine).get_foreign_keys("ledger_transfers")
    return sorted(c for fk in fks for c in fk["constrained_columns"])


def _rows(db: Database) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with db.read() as conn:
        transfers = conn.exec_driver_sql("SELECT * FROM ledger_transfers ORDER BY timestamp").all()
        pending = conn.exec_driver_sql("SELECT * FROM ledger_pending ORDER BY transfer_id").all()
    return [tuple(r) for r in transfers], [tuple(r) for r in pending]


def test_0004_goes_up_and_down_with_the_rows_intact(fresh_url: str) -> None:
    fresh = Database.from_url(fresh_url)
    try:
        upgrade(fresh.engine, "0003")
        assert _account_fks(fresh) == ["credit_account_id", "debit_account_id"]
        service.create_asset(fresh, Asset("SGD", AssetKind.FIAT_RESERVE, "SGD", 2))
        service.create_accounts(fresh, [NewAccount("a", "SGD", 1), NewAccount("b", "SGD", 1)])
        results = service.create_transfers(
            fresh,
            [
                Transfer("t1", "a", "b", 100, "SGD", 1),
                Transfer("t2", "a", "b", 50, "SGD", 1, frozenset({TransferFlag.PENDING})),
            ],
        )
        assert [r.result for r in results] == ["created", "created"]
        before = _rows(fresh)
        assert len(before[0]) == 2 and len(before[1]) == 1

        upgrade(fresh.engine)
        assert current_revision(fresh.engine) == "0004"
        assert _account_fks(fresh) == []
        assert _rows(fresh) == before
        # The pending transfer's key to its transfer stays: it can still be posted, and the books still balance.
        posted = service.create_transfers(
            fresh, [Transfer("t3", "", "", 0, "", 0, frozenset({TransferFlag.POST_PENDING_TRANSFER}), "t2")]
        )
        assert [r.result for r in posted] == ["created"]
        assert service.get_account(fresh, "b").credits_posted == 150

        command.downgrade(alembic_config(fresh.engine), "0003")
        assert _account_fks(fresh) == ["credit_account_id", "debit_account_id"]
        assert len(_rows(fresh)[0]) == 3
        upgrade(fresh.engine)
        assert _account_fks(fresh) == [] and len(_rows(fresh)[0]) == 3
    finally:
        fresh.dispose()
