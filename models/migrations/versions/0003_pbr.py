"""Payment by results: outcomes contracts, the participant register, outcome events, claim
runs, lines, payer shares, disputes, lifecycle transitions, validation samples, clawbacks and
mechanism results.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pbr_contracts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('project', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('fund', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('toml_text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pbr_claim_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('gross_pence', sa.BigInteger(), nullable=False),
    sa.Column('net_pence', sa.BigInteger(), nullable=False),
    sa.Column('clawback_pence', sa.BigInteger(), nullable=False),
    sa.Column('invoice_ref', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'period', name='uq_pbr_claim_runs_period')
    )
    op.create_index(op.f('ix_pbr_claim_runs_contract_id'), 'pbr_claim_runs', ['contract_id'], unique=False)
    op.create_table('pbr_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'kind', 'file_hash', name='uq_pbr_imports_file')
    )
    op.create_index(op.f('ix_pbr_imports_contract_id'), 'pbr_imports', ['contract_id'], unique=False)
    op.create_table('pbr_mechanism_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('mechanism_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('payment_pence', sa.BigInteger(), nullable=False),
    sa.Column('result_json', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('computed_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_id', 'period', 'mechanism_index', name='uq_pbr_mechanism_period')
    )
    op.create_table('pbr_line_disputes',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('disputed_by', sa.String(length=100), nullable=False),
    sa.Column('disputed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'line_no')
    )
    op.create_table('pbr_line_shares',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.String(length=64), nullable=False),
    sa.Column('share_pence', sa.BigInteger(), nullable=False),
    sa.Column('cap_reduction_pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'line_no', 'payer_id')
    )
    op.create_table('pbr_outcome_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.String(length=64), nullable=False),
    sa.Column('outcome_id', sa.String(length=64), nullable=False),
    sa.Column('achieved_on', sa.Date(), nullable=False),
    sa.Column('evidence_ref', sa.String(length=200), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('import_reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.ForeignKeyConstraint(['import_id'], ['pbr_imports.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pbr_outcome_events_contract_day', 'pbr_outcome_events', ['contract_id', 'achieved_on'], unique=False)
    op.create_index(op.f('ix_pbr_outcome_events_import_id'), 'pbr_outcome_events', ['import_id'], unique=False)
    op.create_table('pbr_participants',
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.String(length=64), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('cohort', sa.String(length=64), nullable=True),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['pbr_contracts.id'], ),
    sa.ForeignKeyConstraint(['import_id'], ['pbr_imports.id'], ),
    sa.PrimaryKeyConstraint('contract_id', 'participant_id')
    )
    op.create_table('pbr_run_payers',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.String(length=64), nullable=False),
    sa.Column('share_pence', sa.BigInteger(), nullable=False),
    sa.Column('clawback_pence', sa.BigInteger(), nullable=False),
    sa.Column('approved_pence', sa.BigInteger(), nullable=True),
    sa.Column('approval_entry_id', sa.Integer(), nullable=True),
    sa.Column('paid_pence', sa.BigInteger(), nullable=True),
    sa.Column('payment_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'payer_id')
    )
    op.create_table('pbr_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=100), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('sampled_lines', sa.Text(), nullable=False),
    sa.Column('invalid_lines', sa.Text(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('error_rate', sa.String(length=100), nullable=True),
    sa.Column('sampled_value_pence', sa.BigInteger(), nullable=True),
    sa.Column('invalid_value_pence', sa.BigInteger(), nullable=True),
    sa.Column('recovery_pence', sa.BigInteger(), nullable=True),
    sa.Column('selected_at', sa.DateTime(), nullable=False),
    sa.Column('selected_by', sa.String(length=100), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('checked_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id')
    )
    op.create_table('pbr_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payer_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_pbr_transitions_run_id'), 'pbr_transitions', ['run_id'], unique=False)
    op.create_table('pbr_claim_lines',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.String(length=64), nullable=False),
    sa.Column('outcome_id', sa.String(length=64), nullable=False),
    sa.Column('achieved_on', sa.Date(), nullable=False),
    sa.Column('evidence_ref', sa.String(length=200), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('rate_card_version', sa.String(length=64), nullable=True),
    sa.Column('price_pence', sa.BigInteger(), nullable=False),
    sa.Column('gross_pence', sa.BigInteger(), nullable=False),
    sa.Column('reduction_participant_cap_pence', sa.BigInteger(), nullable=False),
    sa.Column('reduction_outcome_count_cap_pence', sa.BigInteger(), nullable=False),
    sa.Column('reduction_outcome_value_cap_pence', sa.BigInteger(), nullable=False),
    sa.Column('reduction_contract_cap_pence', sa.BigInteger(), nullable=False),
    sa.Column('reduction_payer_cap_pence', sa.BigInteger(), nullable=False),
    sa.Column('net_pence', sa.BigInteger(), nullable=False),
    sa.Column('cap_reason', sa.String(length=16), nullable=False),
    sa.Column('cap_applied', sa.String(length=200), nullable=False),
    sa.Column('participant_paid_cum_pence', sa.BigInteger(), nullable=False),
    sa.Column('participant_headroom_pence', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['pbr_outcome_events.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'line_no'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index(op.f('ix_pbr_claim_lines_participant_id'), 'pbr_claim_lines', ['participant_id'], unique=False)
    op.create_table('pbr_clawbacks',
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['pbr_claim_runs.id'], ),
    sa.ForeignKeyConstraint(['sample_id'], ['pbr_samples.id'], ),
    sa.PrimaryKeyConstraint('sample_id', 'run_id')
    )


def downgrade() -> None:
    op.drop_table('pbr_clawbacks')
    op.drop_index(op.f('ix_pbr_claim_lines_participant_id'), table_name='pbr_claim_lines')
    op.drop_table('pbr_claim_lines')
    op.drop_index(op.f('ix_pbr_transitions_run_id'), table_name='pbr_transitions')
    op.drop_table('pbr_transitions')
    op.drop_table('pbr_samples')
    op.drop_table('pbr_run_payers')
    op.drop_table('pbr_participants')
    op.drop_index(op.f('ix_pbr_outcome_events_import_id'), table_name='pbr_outcome_events')
    op.drop_index('ix_pbr_outcome_events_contract_day', table_name='pbr_outcome_events')
    op.drop_table('pbr_outcome_events')
    op.drop_table('pbr_line_shares')
    op.drop_table('pbr_line_disputes')
    op.drop_table('pbr_mechanism_results')
    op.drop_index(op.f('ix_pbr_imports_contract_id'), table_name='pbr_imports')
    op.drop_table('pbr_imports')
    op.drop_index(op.f('ix_pbr_claim_runs_contract_id'), table_name='pbr_claim_runs')
    op.drop_table('pbr_claim_runs')
    op.drop_table('pbr_contracts')
