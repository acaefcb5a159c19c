"""journal: leaves, complete-subtree hashes, business references, signed tree heads; payments' journal salt

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's INTEGER PRIMARY KEY is the rowid itself (BIGINT would build a second B-tree for the key).
ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    state = op.create_table(
        "journal_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_state")),
    )
    op.bulk_insert(state, [{"id": 1, "tree_size": 0, "frontier": b""}])
    op.create_table(
        "journal_leaves",
        sa.Column("idx", ROWID, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("first_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("last_timestamp", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_journal_leaves")),
    )
    op.create_index(
        "ix_journal_leaves_last_timestamp",
        "journal_leaves",
        ["last_timestamp"],
        unique=False,
        sqlite_where=sa.text("last_timestamp IS NOT NULL"),
        postgresql_where=sa.text("last_timestamp IS NOT NULL"),
    )
    op.create_table(
        "journal_nodes",
        sa.Column("node", ROWID, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_journal_nodes")),
    )
    op.create_table(
        "journal_refs",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("leaf", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("ref", "leaf", name=op.f("pk_journal_refs")),
    )
    op.create_table(
        "journal_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("sig_cq", sa.LargeBinary(), nullable=True),
        sa.Column("sig_sg", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_journal_heads")),
    )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("journal_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("journal_salt")
    op.drop_table("journal_heads")
    op.drop_table("journal_refs")
    op.drop_table("journal_nodes")
    op.drop_index("ix_journal_leaves_last_timestamp", table_name="journal_leaves")
    op.drop_table("journal_leaves")
    op.drop_table("journal_state")
