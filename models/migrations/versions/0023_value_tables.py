"""Value tables of outcomes (``models/values_tables.py``): each contract's value table and its
deflator, as loaded, versioned, immutable.

Revision ID: 0023
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "value_tables",
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("table_id", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(length=500), nullable=False),
        sa.Column("table_text", sa.Text(), nullable=False),
        sa.Column("deflator_name", sa.String(length=500), nullable=False),
        sa.Column("deflator_text", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["pbr_contracts.id"]),
        sa.PrimaryKeyConstraint("contract_id", "version"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE TRIGGER value_tables_immutable BEFORE UPDATE OR DELETE ON value_tables
        FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
        op.execute("""CREATE TRIGGER value_tables_no_truncate BEFORE TRUNCATE ON value_tables
        FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER value_tables_no_{action.lower()} BEFORE {action} ON value_tables
            BEGIN SELECT RAISE(ABORT, 'value_tables rows are immutable: load a new version of the table'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS value_tables_immutable ON value_tables")
        op.execute("DROP TRIGGER IF EXISTS value_tables_no_truncate ON value_tables")
    op.drop_table("value_tables")
