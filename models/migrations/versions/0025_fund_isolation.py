"""Fund isolation (issue 16, items 1-6): the fund that owns a party.

Revision ID: 0025
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("owner_fund", sa.String(length=64), nullable=True))
        batch.create_index("ix_parties_owner_fund", ["owner_fund"])


def downgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.drop_index("ix_parties_owner_fund")
        batch.drop_column("owner_fund")
