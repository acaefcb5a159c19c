"""payments: a quote's consumer is no longer a unique key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:10:00.000000

The constraint kept a payment from consuming two quotes, which nothing could do anyway: a payment names one quote
(``payments.quote_id``), its UETR is the payments table's key, and a quote is consumed by an update that needs it
unconsumed (``fx_store.consume_quote``). Its index put an entry at a random place, a page of its own, into every
group commit for every cross-border payment (9.7 of 104 pages a group of eight, measured). SQLite rebuilds the table
to drop it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "uq_payments_fx_quotes_consumed_by"


def upgrade() -> None:
    with op.batch_alter_table("payments_fx_quotes") as batch:
        batch.drop_constraint(_NAME, type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("payments_fx_quotes") as batch:
        batch.create_unique_constraint(_NAME, ["consumed_by"])
