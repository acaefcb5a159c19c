"""ledger transfers: keyed by the engine's timestamp, the caller's id a unique key

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:40:00.000000

The timestamp was a unique index beside a table keyed by id. Keyed by the timestamp, SQLite stores the rows in time
order as the table itself (an ``INTEGER PRIMARY KEY`` is the rowid): every transfer writes one index entry less,
and a batch's postings are copied from one range of the table (docs/benchmarks.md, "Ledger"). PostgreSQL keeps two
unique indexes as before, with the primary key on the other one. ``ledger_pending`` keeps its key to the id.

SQLite cannot change a primary key, so the table is rebuilt as migration 0004 did it: both tables copied aside,
dropped child first, created again, filled back, inside the migration's transaction. On a large ledger the first
start after the upgrade takes that long (docs/operations.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSFERS = "ledger_transfers"
PENDING = "ledger_pending"
PENDING_FK = "fk_ledger_pending_transfer_id_ledger_transfers"
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, requested_amount, ledger, code, flags, pending_id, timeout,"
    " reference, user_data, timestamp"
)
PENDING_COLUMNS = "transfer_id, state, expires_at, posted_amount"


def _create_transfers(by_timestamp: bool) -> None:
    keys = (
        [
            sa.PrimaryKeyConstraint("timestamp", name="pk_ledger_transfers"),
            sa.UniqueConstraint("id", name="uq_ledger_transfers_id"),
        ]
        if by_timestamp
        else [
            sa.PrimaryKeyConstraint("id", name="pk_ledger_transfers"),
            sa.UniqueConstraint("timestamp", name="uq_ledger_transfers_timestamp"),
        ]
    )
    op.create_table(
        TRANSFERS,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("debit_account_id", sa.String(length=64), nullable=False),
        sa.Column("credit_account_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("requested_amount", sa.BigInteger(), nullable=False),
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("pending_id", sa.String(length=64), nullable=True),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=True),
        sa.Column("user_data", sa.BigInteger(), nullable=False),
        # Exactly INTEGER on SQLite, or the key would not be the rowid.
        sa.Column("timestamp", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *keys,
    )


def _create_pending() -> None:
    op.create_table(
        PENDING,
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("posted_amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["ledger_transfers.id"], name=PENDING_FK),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_ledger_pending"),
    )
    op.create_index("ix_ledger_pending_state_expires_at", PENDING, ["state", "expires_at"])


def _sqlite_rebuild(by_timestamp: bool) -> None:
    op.execute(f"CREATE TEMP TABLE fz_transfers_copy AS SELECT {TRANSFER_COLUMNS} FROM {TRANSFERS}")
    op.execute(f"CREATE TEMP TABLE fz_pending_copy AS SELECT {PENDING_COLUMNS} FROM {PENDING}")
    op.drop_table(PENDING)  # the child first: dropping the parent then breaks no foreign key
    op.drop_table(TRANSFERS)
    _create_transfers(by_timestamp)
    _create_pending()
    op.execute(
        f"INSERT INTO {TRANSFERS} ({TRANSFER_COLUMNS}) SELECT {TRANSFER_COLUMNS} FROM fz_transfers_copy"
        " ORDER BY timestamp"
    )
    op.execute(f"INSERT INTO {PENDING} ({PENDING_COLUMNS}) SELECT {PENDING_COLUMNS} FROM fz_pending_copy")
    op.execute("DROP TABLE fz_transfers_copy")
    op.execute("DROP TABLE fz_pending_copy")


def _postgres_swap(key: str, other: str) -> None:
    """Primary key on ``key``, unique constraint on ``other`` (they were the other way round)."""
    # The pending transfers' key refers to the id's unique index: it goes first and comes back last.
    op.drop_constraint(PENDING_FK, PENDING, type_="foreignkey")
    op.drop_constraint("pk_ledger_transfers", TRANSFERS, type_="primary")
    op.drop_constraint(f"uq_{TRANSFERS}_{key}", TRANSFERS, type_="unique")
    op.create_primary_key("pk_ledger_transfers", TRANSFERS, [key])
    op.create_unique_constraint(f"uq_{TRANSFERS}_{other}", TRANSFERS, [other])
    op.create_foreign_key(PENDING_FK, PENDING, TRANSFERS, ["transfer_id"], ["id"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(by_timestamp=True)
        return
    _postgres_swap("timestamp", "id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(by_timestamp=False)
        return
    _postgres_swap("id", "timestamp")
