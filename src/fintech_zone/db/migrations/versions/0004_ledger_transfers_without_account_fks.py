"""ledger transfers: no foreign keys from the debit and credit account to ledger_accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:20:00.000000

The engine checks that both accounts of a transfer exist, in the same transaction that writes it (with the accounts
locked on PostgreSQL; SQLite has one writer), and accounts are never deleted: the two foreign keys only repeated
that check, row by row. On PostgreSQL each is a trigger running a query per row, and together they cost more than
writing the transfer itself (docs/benchmarks.md, "Ledger"). ``ledger_pending`` keeps its key to the transfer.

SQLite cannot drop a constraint, so the table is rebuilt: both tables are copied aside, dropped child first, created
again as the Table definitions say, and filled back, inside the migration's transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSFERS = "ledger_transfers"
PENDING = "ledger_pending"
ACCOUNT_FKS = {
    "debit_account_id": "fk_ledger_transfers_debit_account_id_ledger_accounts",
    "credit_account_id": "fk_ledger_transfers_credit_account_id_ledger_accounts",
}
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, requested_amount, ledger, code, flags, pending_id, timeout,"
    " reference, user_data, timestamp"
)
PENDING_COLUMNS = "transfer_id, state, expires_at, posted_amount"


def _create_transfers(with_account_fks: bool) -> None:
    fks = [
        sa.ForeignKeyConstraint([column], ["ledger_accounts.id"], name=name)
        for column, name in ACCOUNT_FKS.items()
        if with_account_fks
    ]
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
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        *fks,
        sa.PrimaryKeyConstraint("id", name="pk_ledger_transfers"),
        sa.UniqueConstraint("timestamp", name="uq_ledger_transfers_timestamp"),
    )
    op.create_index("ix_ledger_transfers_credit_account_id_timestamp", TRANSFERS, ["credit_account_id", "timestamp"])
    op.create_index("ix_ledger_transfers_debit_account_id_timestamp", TRANSFERS, ["debit_account_id", "timestamp"])


def _create_pending() -> None:
    op.create_table(
        PENDING,
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("posted_amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["ledger_transfers.id"], name="fk_ledger_pending_transfer_id_ledger_transfers"
        ),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_ledger_pending"),
    )
    op.create_index("ix_ledger_pending_state_expires_at", PENDING, ["state", "expires_at"])


def _sqlite_rebuild(with_account_fks: bool) -> None:
    op.execute(f"CREATE TEMP TABLE fz_transfers_copy AS SELECT {TRANSFER_COLUMNS} FROM {TRANSFERS}")
    op.execute(f"CREATE TEMP TABLE fz_pending_copy AS SELECT {PENDING_COLUMNS} FROM {PENDING}")
    op.drop_table(PENDING)  # the child first: dropping the parent then breaks no foreign key
    op.drop_table(TRANSFERS)
    _create_transfers(with_account_fks)
    _create_pending()
    op.execute(f"INSERT INTO {TRANSFERS} ({TRANSFER_COLUMNS}) SELECT {TRANSFER_COLUMNS} FROM fz_transfers_copy")
    op.execute(f"INSERT INTO {PENDING} ({PENDING_COLUMNS}) SELECT {PENDING_COLUMNS} FROM fz_pending_copy")
    op.execute("DROP TABLE fz_transfers_copy")
    op.execute("DROP TABLE fz_pending_copy")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_account_fks=False)
        return
    for name in ACCOUNT_FKS.values():
        op.drop_constraint(name, TRANSFERS, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_account_fks=True)
        return
    for column, name in ACCOUNT_FKS.items():
        op.create_foreign_key(name, TRANSFERS, "ledger_accounts", [column], ["id"])
