"""Investor statements: waterfall distribution lines (per party, kind and category).

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "distribution_lines",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("fund", sa.String(length=64), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("is_investor", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("tranche", sa.String(length=64), nullable=True),
        sa.Column("restriction", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "line_no"),
    )
    op.create_index("ix_distribution_lines_fund", "distribution_lines", ["fund"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_distribution_lines_fund", table_name="distribution_lines")
    op.drop_table("distribution_lines")
