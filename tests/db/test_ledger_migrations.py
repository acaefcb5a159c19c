"""Migrations 0004 (no foreign keys from transfers to accounts), 0005 (postings per batch instead of two account
indexes) and 0012 (transfers keyed by their timestamp) keep every ledger row, up and down, and the ledger works on
the result."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from fintech_zone.db import Database
from fintech_zone.db.migrate import alembic_config, current_revision, head_revision, upgrade
from fintech_zone.ledger import service
from fintech_zone.ledger.model import Transfer, TransferFlag

# Rows as revision 0003 holds them: two accounts, a posted and a pending transfer.
ROWS_0003 = [
    "INSERT INTO ledger_assets (code, kind, currency, exponent) VALUES ('SGD', 'fiat_reserve', 'SGD', 2)",
    "INSERT INTO ledger_accounts VALUES ('a', 'SGD', 1, NULL, 0, 50, 100, 0, 0, 1)",
    "INSERT INTO ledger_accounts VALUES ('b', 'SGD', 1, NULL, 0, 0, 0, 50, 100, 2)",
    "INSERT INTO ledger_transfers VALUES ('t1', 'a', 'b', 100, 100, 'SGD', 1, 0, NULL, 0, NULL, 0, 3)",
    "INSERT INTO ledger_transfers VALUES ('t2', 'a', 'b', 50, 50, 'SGD', 1, 2, NULL, 0, NULL, 0, 4)",
    "INSERT INTO ledger_pending VALUES ('t2', 'pending', NULL, 0)",
    "UPDATE ledger_clock SET last_timestamp = 4",
]


def _account_fks(db: Database) -> list[str]:
    fks = inspect(db.engine).get_foreign_keys("ledger_transfers")
    return sorted(c for fk in fks for c in fk["constrained_columns"])


def _rows(db: Database) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with db.read() as conn:
        transfers = conn.exec_driver_sql("SELECT * FROM ledger_transfers ORDER BY timestamp").all()
        pending = conn.exec_driver_sql("SELECT * FROM ledger_pending ORDER BY transfer_id").all()
    return [tuple(r) for r in transfers], [tuple(r) for r in pending]


def test_0004_and_0005_go_up_and_down_with_the_rows_intact(fresh_url: str) -> None:
    fresh = Database.from_url(fresh_url)
    try:
        upgrade(fresh.engine, "0003")
        with fresh.transaction() as conn:
            for sql in ROWS_0003:
                conn.exec_driver_sql(sql)
        assert _account_fks(fresh) == ["credit_account_id", "debit_account_id"]
        before = _rows(fresh)

        upgrade(fresh.engine, "0004")
        assert _account_fks(fresh) == [] and _rows(fresh) == before
        command.downgrade(alembic_config(fresh.engine), "0003")
        assert _account_fks(fresh) == ["credit_account_id", "debit_account_id"] and _rows(fresh) == before

        upgrade(fresh.engine, "0005")  # 0004 and 0005: the existing transfers become one segment of postings
        assert current_revision(fresh.engine) == "0005"
        assert _rows(fresh) == before
        assert [t.id for t in service.account_transfers(fresh, "b", None, 10).items] == ["t1", "t2"]
        upgrade(fresh.engine, "0008")  # today's ledger writes each batch's journal leaf: it needs the journal's tables
        # The pending transfer keeps its key to its transfer: it can still be posted, and the books still balance.
        post = Transfer("t3", "", "", 0, "", 0, frozenset({TransferFlag.POST_PENDING_TRANSFER}), "t2")
        assert [r.result for r in service.create_transfers(fresh, [post])] == ["created"]
        assert service.get_account(fresh, "b").credits_posted == 150
        assert [t.id for t in service.account_transfers(fresh, "a", None, 10).items] == ["t1", "t2", "t3"]
        assert service.totals(fresh)["SGD"] == (0, 150, 0, 150)

        command.downgrade(alembic_config(fresh.engine), "0004")  # through the journal's downgrades too
        with fresh.read() as conn:
            names = {i["name"] for i in inspect(conn).get_indexes("ledger_transfers")}
        assert {f"ix_ledger_transfers_{side}_account_id_timestamp" for side in ("debit", "credit")} <= names
        upgrade(fresh.engine)  # to head: later migrations leave the ledger's rows alone
        assert current_revision(fresh.engine) == head_revision(fresh.engine)
        assert [t.id for t in service.account_transfers(fresh, "b", None, 10).items] == ["t1", "t2", "t3"]
    finally:
        fresh.dispose()


def _keys(db: Database) -> tuple[list[str], list[list[str]]]:
    found = inspect(db.engine)
    primary = found.get_pk_constraint("ledger_transfers")["constrained_columns"]
    unique = sorted(c["column_names"] for c in found.get_unique_constraints("ledger_transfers"))
    return primary, unique


def test_0012_keys_transfers_by_timestamp_up_and_down_with_the_rows_intact(fresh_url: str) -> None:
    fresh = Database.from_url(fresh_url)
    try:
        upgrade(fresh.engine, "0011")
        with fresh.transaction() as conn:
            for sql in ROWS_0003:
                conn.exec_driver_sql(sql)
            conn.exec_driver_sql("INSERT INTO ledger_segments VALUES (3, 4, 4)")
            for sql in ("a', 3", "b', 3", "a', 4", "b', 4"):
                conn.exec_driver_sql(f"INSERT INTO ledger_postings (segment, account_id, timestamp) VALUES (3, '{sql})")
        before = _rows(fresh)
        assert _keys(fresh) == (["id"], [["timestamp"]])

        upgrade(fresh.engine, "0012")
        assert _rows(fresh) == before
        assert _keys(fresh) == (["timestamp"], [["id"]])
        if fresh.dialect == "sqlite":  # the key is the table's rowid: no index of its own
            with fresh.read() as conn:
                assert conn.exec_driver_sql("SELECT rowid, timestamp FROM ledger_transfers").all() == [(3, 3), (4, 4)]
                indexes = conn.exec_driver_sql("PRAGMA index_list(ledger_transfers)").all()
            assert [i[1] for i in indexes] == ["sqlite_autoindex_ledger_transfers_1"]  # the id's

        command.downgrade(alembic_config(fresh.engine), "0011")
        assert _rows(fresh) == before and _keys(fresh) == (["id"], [["timestamp"]])

        upgrade(fresh.engine)
        # The pending transfer keeps its key to its transfer: it can still be posted, and the books still balance.
        post = Transfer("t3", "", "", 0, "", 0, frozenset({TransferFlag.POST_PENDING_TRANSFER}), "t2")
        assert [r.result for r in service.create_transfers(fresh, [post])] == ["created"]
        assert [r.result for r in service.create_transfers(fresh, [post])] == ["exists"]
        assert [t.id for t in service.account_transfers(fresh, "a", None, 10).items] == ["t1", "t2", "t3"]
        assert service.totals(fresh)["SGD"] == (0, 150, 0, 150)
    finally:
        fresh.dispose()
