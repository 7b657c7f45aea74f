"""Restrictions say whether fees may be charged to their money.

A fee or fund expense charged to restricted money is refused unless the restriction permits it
(docs/fund-flows.md). Existing restrictions permit nothing, as before this column they were
never checked and the safe reading of a donor's restriction is that it does not.

Revision ID: 0017
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restrictions") as batch:
        batch.add_column(sa.Column("fees_permitted", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("restrictions") as batch:
        batch.drop_column("fees_permitted")
