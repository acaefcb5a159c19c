"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect

from fintech_zone.db import Database
from fintech_zone.db.migrate import current_revision, head_revision, upgrade
from fintech_zone.payments.fx_store import quotes
from fintech_zone.payments.store import participants
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from fintech_zone.registry.search_store import is_search_structure
from fintech_zone.registry.store import organisations
from fintech_zone.tables import metadata


def test_migrated_schema_matches_the_tables(db: Database) -> None:
    assert current_revision(db.engine) == head_revision(db.engine)
    with db.engine.connect() as conn:
        # The search structures (FTS5 tables, a GIN index) are backend-specific and made by migration 0003 alone.
        opts = {"compare_type": True, "include_name": lambda name, type_, parent: not is_search_structure(name or "")}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    assert diff == []


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db.engine)
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision(db.engine)


def test_timestamps_come_back_in_utc_on_every_backend(db: Database) -> None:
    before = datetime.now(UTC)
    org = registry.create_organisation(
        db, NewOrganisation("sg-a", "enterprise", "SG", "A Pte Ltd", "甲公司", "payments")
    )
    assert org.created_at is not None
    assert org.created_at.tzinfo is not None and org.created_at.utcoffset() == UTC.utcoffset(None)
    assert abs((org.created_at - before).total_seconds()) < 60


def test_the_debtor_wallet_index_holds_only_wallet_payments(db: Database) -> None:
    # Migration 0010: payments without a wallet (most of them) put no entry, and no page, into it.
    with db.engine.connect() as conn:
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("payments")}
        if db.dialect == "sqlite":
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_payments_debtor_wallet_created_at'"
            ).scalar_one()
        else:
            sql = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND indexname = 'ix_payments_debtor_wallet_created_at'"
            ).scalar_one()
    assert indexes["ix_payments_debtor_wallet_created_at"]["column_names"] == ["debtor_wallet", "created_at"]
    assert "debtor_wallet IS NOT NULL" in sql.replace("(", "").replace(")", "")


def test_a_quotes_consumer_is_not_a_unique_key_and_0011_keeps_the_quotes(fresh_url: str) -> None:
    # Migration 0011: one payment consumes one quote by construction; the unique index only cost a page a payment.
    fresh = Database.from_url(fresh_url)
    try:
        upgrade(fresh.engine, "0010")
        at = datetime(2026, 12, 7, tzinfo=UTC)
        with fresh.transaction() as conn:
            conn.execute(
                insert(organisations).values(
                    id="fx", kind="fintech", jurisdiction="SG", name_en="FX", name_zh="FX", sector="payments",
                    created_at=at, updated_at=at,
                )
            )  # fmt: skip
            conn.execute(
                insert(participants).values(
                    id="fx", bic="LIONSGSGXXX", role="fx_provider", jurisdiction="SG", joined_at=at, demo=True
                )
            )
            for k, consumer in enumerate(["u-1", None, "u-2"]):
                conn.execute(
                    insert(quotes).values(
                        id=f"q-{k}", provider_id="fx", source_asset="CNY", target_asset="SGD", source_amount=100,
                        target_amount=19, rate="0.19", fees=0, created_at=at, expires_at=at, consumed_by=consumer,
                    )
                )  # fmt: skip
        before = _quotes(fresh)
        upgrade(fresh.engine)
        assert _quotes(fresh) == before and len(before) == 3
        with fresh.engine.connect() as conn:
            assert inspect(conn).get_unique_constraints("payments_fx_quotes") == []
            assert not any(i["unique"] for i in inspect(conn).get_indexes("payments_fx_quotes"))
    finally:
        fresh.dispose()


def _quotes(db: Database) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM payments_fx_quotes ORDER BY id").all()]
