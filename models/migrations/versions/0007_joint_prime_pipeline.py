"""Joint-prime contracts and the project pipeline: participants' delivery partner, pass-throughs
and partner amounts, and the append-only history of project stages.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pbr_participants", sa.Column("partner_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_pbr_participants_partner_id"), "pbr_participants", ["partner_id"], unique=False)
    op.create_table(
        "pbr_passthroughs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("received_pence", sa.BigInteger(), nullable=False),
        sa.Column("prime_own_received_pence", sa.BigInteger(), nullable=False),
        sa.Column("shares_pence", sa.BigInteger(), nullable=False),
        sa.Column("fees_pence", sa.BigInteger(), nullable=False),
        sa.Column("prime_retained_share_pence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["pbr_contracts.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["pbr_claim_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "period", name="uq_pbr_passthroughs_period"),
        sa.UniqueConstraint("run_id"),
    )
    op.create_index(op.f("ix_pbr_passthroughs_contract_id"), "pbr_passthroughs", ["contract_id"], unique=False)
    op.create_table(
        "pbr_partner_amounts",
        sa.Column("passthrough_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("new_participants", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            "net_pence", "clawback_pence", "received_pence", "share_before_cap_pence", "fee_period_pence",
            "fee_participants_pence", "cap_reduction_pence")),
        sa.Column("cap_applied", sa.String(length=16), nullable=False),
        sa.Column("share_pence", sa.BigInteger(), nullable=False),
        sa.Column("fees_pence", sa.BigInteger(), nullable=False),
        sa.Column("payable_entry_id", sa.Integer(), nullable=True),
        sa.Column("paid_pence", sa.BigInteger(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["passthrough_id"], ["pbr_passthroughs.id"]),
        sa.PrimaryKeyConstraint("passthrough_id", "partner_id"),
    )
    op.create_table(
        "project_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("committed_pence", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_project_stages_project_day", "project_stages", ["project_id", "effective_date"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE TRIGGER project_stages_immutable BEFORE UPDATE OR DELETE ON project_stages
            FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()"""
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER project_stages_no_{action.lower()} BEFORE {action} ON project_stages
                BEGIN SELECT RAISE(ABORT, 'project_stages rows are immutable: record a new stage change'); END"""
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS project_stages_immutable ON project_stages")
    op.drop_index("ix_project_stages_project_day", table_name="project_stages")
    op.drop_table("project_stages")
    op.drop_table("pbr_partner_amounts")
    op.drop_index(op.f("ix_pbr_passthroughs_contract_id"), table_name="pbr_passthroughs")
    op.drop_table("pbr_passthroughs")
    op.drop_index(op.f("ix_pbr_participants_partner_id"), table_name="pbr_participants")
    with op.batch_alter_table("pbr_participants") as batch:
        batch.drop_column("partner_id")
