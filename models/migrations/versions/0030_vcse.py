"""Local VCSE capacity (``models/vcse_tables.py``): organisations' type, size band and local
authority area, and each fund's local areas.

Revision ID: 0030
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0030"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vcse_organisations",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("org_type", sa.String(length=16), nullable=False),
        sa.Column("size_band", sa.String(length=16), nullable=False),
        sa.Column("la_code", sa.String(length=9), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("party_id"),
    )
    op.create_table(
        "vcse_fund_areas",
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("la_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("fund_id", "la_code"),
    )


def downgrade() -> None:
    op.drop_table("vcse_fund_areas")
    op.drop_table("vcse_organisations")
