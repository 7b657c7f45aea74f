"""Fund flows: reference data (funds, parties, tranches, restrictions, projects) and
commitments (memo figures, append-only).

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("investor_type", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_parties_kind"), "parties", ["kind"], unique=False)
    op.create_table(
        "tranches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("return_kind", sa.String(length=16), nullable=False),
        sa.Column("return_rate", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_tranches_fund_id"), "tranches", ["fund_id"], unique=False)
    op.create_table(
        "restrictions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("projects", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_restrictions_fund_id"), "restrictions", ["fund_id"], unique=False)
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_projects_fund_id"), "projects", ["fund_id"], unique=False)
    op.create_table(
        "commitments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("tranche_id", sa.String(length=64), nullable=False),
        sa.Column("investor_id", sa.String(length=64), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("commitment_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.ForeignKeyConstraint(["tranche_id"], ["tranches.id"]),
        sa.ForeignKeyConstraint(["investor_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_commitments_fund_id"), "commitments", ["fund_id"], unique=False)
    op.create_index(op.f("ix_commitments_tranche_id"), "commitments", ["tranche_id"], unique=False)
    op.create_index(op.f("ix_commitments_investor_id"), "commitments", ["investor_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE TRIGGER commitments_immutable BEFORE UPDATE OR DELETE ON commitments
            FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()"""
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER commitments_no_{action.lower()} BEFORE {action} ON commitments
                BEGIN SELECT RAISE(ABORT, 'commitments rows are immutable: record a new commitment'); END"""
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS commitments_immutable ON commitments")
    for index, table in (
        ("ix_commitments_investor_id", "commitments"),
        ("ix_commitments_tranche_id", "commitments"),
        ("ix_commitments_fund_id", "commitments"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("commitments")
    op.drop_index(op.f("ix_projects_fund_id"), table_name="projects")
    op.drop_table("projects")
    op.drop_index(op.f("ix_restrictions_fund_id"), table_name="restrictions")
    op.drop_table("restrictions")
    op.drop_index(op.f("ix_tranches_fund_id"), table_name="tranches")
    op.drop_table("tranches")
    op.drop_index(op.f("ix_parties_kind"), table_name="parties")
    op.drop_table("parties")
    op.drop_table("funds")
