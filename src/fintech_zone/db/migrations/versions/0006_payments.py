"""payments: participants, issuance, FX rates and quotes, payments and their decisions, limits, wallets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 16:40:00.000000

The pilot rails' own records. Balances stay in the ledger's tables: joining, issuing, redeeming and settling write
ledger transfers in the same transaction as these rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("debtor_agent", sa.String(length=40), nullable=False),
        sa.Column("creditor_agent", sa.String(length=40), nullable=False),
        sa.Column("corridor", sa.String(length=5), nullable=False),
        sa.Column("debtor_name", sa.String(length=140), nullable=False),
        sa.Column("debtor_account", sa.String(length=34), nullable=False),
        sa.Column("creditor_name", sa.String(length=140), nullable=False),
        sa.Column("creditor_account", sa.String(length=34), nullable=False),
        sa.Column("source_asset", sa.String(length=16), nullable=False),
        sa.Column("source_amount", sa.BigInteger(), nullable=False),
        sa.Column("target_asset", sa.String(length=16), nullable=False),
        sa.Column("target_amount", sa.BigInteger(), nullable=False),
        sa.Column("quote_id", sa.String(length=36), nullable=True),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("fx_provider_id", sa.String(length=40), nullable=True),
        sa.Column("purpose", sa.String(length=4), nullable=True),
        sa.Column("remittance_info", sa.String(length=140), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("debtor_wallet", sa.String(length=40), nullable=True),
        sa.Column("creditor_wallet", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=True),
        sa.Column("reason_detail", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("uetr", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_creditor_agent_created_at", "payments", ["creditor_agent", "created_at"], unique=False)
    op.create_index("ix_payments_debtor_agent_created_at", "payments", ["debtor_agent", "created_at"], unique=False)
    op.create_index("ix_payments_status_settled_at", "payments", ["status", "settled_at"], unique=False)
    op.create_table(
        "payments_limits",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("per_payment", sa.BigInteger(), nullable=True),
        sa.Column("daily", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", "asset", name=op.f("pk_payments_limits")),
    )
    op.create_table(
        "payments_decisions",
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["uetr"], ["payments.uetr"], name=op.f("fk_payments_decisions_uetr_payments")),
        sa.PrimaryKeyConstraint("uetr", "seq", name=op.f("pk_payments_decisions")),
    )
    op.create_table(
        "payments_participants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("issuance_cap", sa.BigInteger(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["registry_organisations.id"], name=op.f("fk_payments_participants_id_registry_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_participants")),
        sa.UniqueConstraint("bic", name=op.f("uq_payments_participants_bic")),
    )
    op.create_table(
        "payments_fx_quotes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("source_asset", sa.String(length=16), nullable=False),
        sa.Column("target_asset", sa.String(length=16), nullable=False),
        sa.Column("source_amount", sa.BigInteger(), nullable=False),
        sa.Column("target_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["payments_participants.id"],
            name=op.f("fk_payments_fx_quotes_provider_id_payments_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_fx_quotes")),
        sa.UniqueConstraint("consumed_by", name=op.f("uq_payments_fx_quotes_consumed_by")),
    )
    op.create_table(
        "payments_fx_rates",
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("pair", sa.String(length=16), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("spread_bps", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["payments_participants.id"],
            name=op.f("fk_payments_fx_rates_provider_id_payments_participants"),
        ),
        sa.PrimaryKeyConstraint("provider_id", "pair", name=op.f("pk_payments_fx_rates")),
    )
    op.create_table(
        "payments_issuances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("central_bank_id", sa.String(length=40), nullable=False),
        sa.Column("bank_id", sa.String(length=40), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["payments_participants.id"], name=op.f("fk_payments_issuances_bank_id_payments_participants")
        ),
        sa.ForeignKeyConstraint(
            ["central_bank_id"],
            ["payments_participants.id"],
            name=op.f("fk_payments_issuances_central_bank_id_payments_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_issuances")),
    )
    op.create_index("ix_payments_issuances_bank_id_asset", "payments_issuances", ["bank_id", "asset"], unique=False)
    op.create_index("ix_payments_debtor_wallet_created_at", "payments", ["debtor_wallet", "created_at"], unique=False)
    op.create_table(
        "payments_wallets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bank_id", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["payments_participants.id"], name=op.f("fk_payments_wallets_bank_id_payments_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_wallets")),
    )


def downgrade() -> None:
    op.drop_table("payments_wallets")
    op.drop_index("ix_payments_debtor_wallet_created_at", table_name="payments")
    op.drop_index("ix_payments_issuances_bank_id_asset", table_name="payments_issuances")
    op.drop_table("payments_issuances")
    op.drop_table("payments_fx_rates")
    op.drop_table("payments_fx_quotes")
    op.drop_table("payments_decisions")
    op.drop_table("payments_limits")
    for name in ("creditor_agent_created_at", "debtor_agent_created_at", "status_settled_at"):
        op.drop_index(f"ix_payments_{name}", table_name="payments")
    op.drop_table("payments")
    op.drop_table("payments_participants")
