"""payments: the debtor-wallet index holds only wallet payments

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:45:00.000000

Most payments are between banks' settlement accounts and have no debtor wallet; each of them still put an entry
into this index, a page more for every group commit to write. Its one reader (a wallet's payments of the day,
``store.sent_since``) asks for one wallet, which implies the condition, so it keeps using it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_payments_debtor_wallet_created_at"
_HAS_WALLET = sa.text("debtor_wallet IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="payments")
    op.create_index(
        _NAME,
        "payments",
        ["debtor_wallet", "created_at"],
        unique=False,
        sqlite_where=_HAS_WALLET,
        postgresql_where=_HAS_WALLET,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="payments")
    op.create_index(_NAME, "payments", ["debtor_wallet", "created_at"], unique=False)
