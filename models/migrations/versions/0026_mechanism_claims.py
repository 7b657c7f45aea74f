"""Mechanism results become claims: the period's figures file is kept, unchanged, with its
result (``pbr_mechanism_results.input_text`` and ``file_name``), so the council statement can
show the inputs and ``fuel claims verify`` can recompute the payment.

Revision ID: 0026
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0026"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: results recorded before this revision kept only the figures' hash.
    with op.batch_alter_table("pbr_mechanism_results") as batch:
        batch.add_column(sa.Column("input_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("file_name", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pbr_mechanism_results") as batch:
        batch.drop_column("file_name")
        batch.drop_column("input_text")
