"""ledger: an account's transfers come from postings kept in segments, not from two indexes over all transfers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 14:40:00.000000

The two indexes on (debit_account_id, timestamp) and (credit_account_id, timestamp) put each batch's entries into a
page of every account's range: with 10,000 accounts, a batch of 8,190 transfers wrote some 20,000 index pages, and
on SQLite that write was most of a batch's time (docs/benchmarks.md). ``ledger_postings`` holds one row per side of
a transfer keyed by (segment, account, timestamp), where a segment is a span of time holding up to 65,536 postings
(``store.SEGMENT_POSTINGS``), listed in ``ledger_segments`` with its last timestamp and its count: a batch's
postings land together at the end of the index. Existing transfers become one segment (it may hold more than the
limit, which does no harm: the limit only decides when a new segment starts).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_ledger_transfers_debit_account_id_timestamp": ["debit_account_id", "timestamp"],
    "ix_ledger_transfers_credit_account_id_timestamp": ["credit_account_id", "timestamp"],
}


def upgrade() -> None:
    op.create_table(
        "ledger_segments",
        sa.Column("segment", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("segment", name="pk_ledger_segments"),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("segment", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("segment", "account_id", "timestamp", name="pk_ledger_postings"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO ledger_segments (segment, last_timestamp, postings)"
        " SELECT MIN(timestamp), MAX(timestamp), 2 * COUNT(*) FROM ledger_transfers HAVING COUNT(*) > 0"
    )
    for side in ("debit", "credit"):
        op.execute(
            f"INSERT INTO ledger_postings (segment, account_id, timestamp)"
            f" SELECT (SELECT MIN(timestamp) FROM ledger_transfers), {side}_account_id, timestamp FROM ledger_transfers"
        )
    for name in INDEXES:
        op.drop_index(name, table_name="ledger_transfers")


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "ledger_transfers", columns)
    op.drop_table("ledger_postings")
    op.drop_table("ledger_segments")
