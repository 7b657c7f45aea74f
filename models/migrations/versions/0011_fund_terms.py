"""Fund statement terms in the database: the terms and waterfall files, versioned and dated,
immutable (``models/terms_tables.py``).

Revision ID: 0011
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fund_terms",
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("terms_name", sa.String(length=500), nullable=False),
        sa.Column("terms_text", sa.Text(), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("waterfall_name", sa.String(length=500), nullable=False),
        sa.Column("waterfall_text", sa.Text(), nullable=False),
        sa.Column("waterfall_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("fund_id", "version"),
        sa.UniqueConstraint("fund_id", "effective_from", name="uq_fund_terms_effective_from"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE TRIGGER fund_terms_immutable BEFORE UPDATE OR DELETE ON fund_terms
        FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
        op.execute("""CREATE TRIGGER fund_terms_no_truncate BEFORE TRUNCATE ON fund_terms
        FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER fund_terms_no_{action.lower()} BEFORE {action} ON fund_terms
            BEGIN SELECT RAISE(ABORT, 'fund_terms rows are immutable: load a new version of the terms'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS fund_terms_immutable ON fund_terms")
        op.execute("DROP TRIGGER IF EXISTS fund_terms_no_truncate ON fund_terms")
    op.drop_table("fund_terms")
