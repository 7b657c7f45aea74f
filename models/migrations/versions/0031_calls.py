"""Incubator calls (``models/calls_tables.py``, docs/calls.md): calls in versions, budget lines,
applications, conflicts, scores, decisions, awards, payments, and projects' contracts; every
table append-only (triggers).

Revision ID: 0031
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('call_version', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('org_name', sa.String(length=200), nullable=False),
    sa.Column('org_type', sa.String(length=64), nullable=False),
    sa.Column('org_size', sa.String(length=64), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'org_id', 'reference', name='uq_call_applications_ref')
    )
    op.create_index(op.f('ix_call_applications_call_id'), 'call_applications', ['call_id'], unique=False)
    op.create_index(op.f('ix_call_applications_org_id'), 'call_applications', ['org_id'], unique=False)
    op.create_table('call_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_call_events_call_id'), 'call_events', ['call_id'], unique=False)
    op.create_table('call_budget_lines',
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('tranche', sa.String(length=64), nullable=True),
    sa.Column('restriction', sa.String(length=64), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('call_id', 'version', 'line_no')
    )
    op.create_table('call_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('assessor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['call_applications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'assessor', name='uq_call_conflicts')
    )
    op.create_table('call_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reasons', sa.String(length=2000), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['call_applications.id'], ),
    sa.ForeignKeyConstraint(['corrects_id'], ['call_decisions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_call_decisions_application_id'), 'call_decisions', ['application_id'], unique=False)
    op.create_table('call_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('assessor', sa.String(length=100), nullable=False),
    sa.Column('scores_json', sa.Text(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['call_applications.id'], ),
    sa.ForeignKeyConstraint(['corrects_id'], ['call_scores.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_call_scores_application_id'), 'call_scores', ['application_id'], unique=False)
    op.create_table('calls',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('budget_pence', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rules_json', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id', 'version')
    )
    op.create_index(op.f('ix_calls_fund_id'), 'calls', ['fund_id'], unique=False)
    op.create_table('call_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('fund_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('tranche', sa.String(length=64), nullable=True),
    sa.Column('restriction', sa.String(length=64), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['call_applications.id'], ),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    op.create_index(op.f('ix_call_awards_call_id'), 'call_awards', ['call_id'], unique=False)
    op.create_index(op.f('ix_call_awards_project_id'), 'call_awards', ['project_id'], unique=False)
    op.create_table('project_contracts',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('project_id')
    )
    op.create_index(op.f('ix_project_contracts_contract_id'), 'project_contracts', ['contract_id'], unique=False)
    op.create_table('call_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('tranche_no', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.String(length=200), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['call_awards.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('award_id', 'tranche_no', name='uq_call_payments_tranche')
    )

    _append_only()


TABLES = ("calls", "call_budget_lines", "call_events", "call_applications", "call_conflicts",
          "call_scores", "call_decisions", "call_awards", "call_payments", "project_contracts")


def _append_only() -> None:
    # The same promise as the ledger's: what was recorded stays; a change is a new row.
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: record a new row (a correction names the row it corrects)'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.drop_table('call_payments')
    op.drop_index(op.f('ix_project_contracts_contract_id'), table_name='project_contracts')
    op.drop_table('project_contracts')
    op.drop_index(op.f('ix_call_awards_project_id'), table_name='call_awards')
    op.drop_index(op.f('ix_call_awards_call_id'), table_name='call_awards')
    op.drop_table('call_awards')
    op.drop_index(op.f('ix_calls_fund_id'), table_name='calls')
    op.drop_table('calls')
    op.drop_index(op.f('ix_call_scores_application_id'), table_name='call_scores')
    op.drop_table('call_scores')
    op.drop_index(op.f('ix_call_decisions_application_id'), table_name='call_decisions')
    op.drop_table('call_decisions')
    op.drop_table('call_conflicts')
    op.drop_table('call_budget_lines')
    op.drop_index(op.f('ix_call_events_call_id'), table_name='call_events')
    op.drop_table('call_events')
    op.drop_index(op.f('ix_call_applications_org_id'), table_name='call_applications')
    op.drop_index(op.f('ix_call_applications_call_id'), table_name='call_applications')
    op.drop_table('call_applications')
