"""sandbox: pilots, their institutions, history, usage per asset and day, customers, events, public comments;
payments' pilot

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PILOT_FK = "sandbox_pilots.id"


def upgrade() -> None:
    op.create_table(
        "sandbox_pilots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("cross_border", sa.Boolean(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("application", sa.Text(), nullable=False),
        sa.Column("boundaries", sa.Text(), nullable=True),
        sa.Column("regulators", sa.String(length=200), nullable=False),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.Column("pending", sa.String(length=200), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_pilots")),
    )
    op.create_index("ix_sandbox_pilots_status", "sandbox_pilots", ["status"], unique=False)
    op.create_table(
        "sandbox_institutions",
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["registry_organisations.id"],
            name=op.f("fk_sandbox_institutions_org_id_registry_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_institutions_pilot_id_sandbox_pilots")
        ),
        sa.PrimaryKeyConstraint("pilot_id", "org_id", name=op.f("pk_sandbox_institutions")),
    )
    op.create_index("ix_sandbox_institutions_org_id", "sandbox_institutions", ["org_id"], unique=False)
    op.create_table(
        "sandbox_history",
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_history_pilot_id_sandbox_pilots")),
        sa.PrimaryKeyConstraint("pilot_id", "seq", name=op.f("pk_sandbox_history")),
    )
    op.create_table(
        "sandbox_usage",
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_usage_pilot_id_sandbox_pilots")),
        sa.PrimaryKeyConstraint("pilot_id", "asset", "day", name=op.f("pk_sandbox_usage")),
    )
    op.create_table(
        "sandbox_customers",
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_customers_pilot_id_sandbox_pilots")),
        sa.PrimaryKeyConstraint("pilot_id", "customer", name=op.f("pk_sandbox_customers")),
    )
    op.create_table(
        "sandbox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("boundary", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("uetr", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_events_pilot_id_sandbox_pilots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_events")),
    )
    op.create_index("ix_sandbox_events_pilot_id_id", "sandbox_events", ["pilot_id", "id"], unique=False)
    op.create_table(
        "sandbox_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pilot_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["pilot_id"], [_PILOT_FK], name=op.f("fk_sandbox_comments_pilot_id_sandbox_pilots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_comments")),
    )
    op.create_index("ix_sandbox_comments_pilot_id_id", "sandbox_comments", ["pilot_id", "id"], unique=False)
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("pilot_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("pilot_id")
    op.drop_index("ix_sandbox_comments_pilot_id_id", table_name="sandbox_comments")
    op.drop_table("sandbox_comments")
    op.drop_index("ix_sandbox_events_pilot_id_id", table_name="sandbox_events")
    op.drop_table("sandbox_events")
    op.drop_table("sandbox_customers")
    op.drop_table("sandbox_usage")
    op.drop_table("sandbox_history")
    op.drop_index("ix_sandbox_institutions_org_id", table_name="sandbox_institutions")
    op.drop_table("sandbox_institutions")
    op.drop_index("ix_sandbox_pilots_status", table_name="sandbox_pilots")
    op.drop_table("sandbox_pilots")
