"""Ledger core: accounts, journal entries, postings, period closes, and the triggers
that make posted rows immutable, entries balanced and closed periods closed.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 12:01:34.318876
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('journal_entries',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('event_kind', sa.String(length=64), nullable=False),
    sa.Column('event_data', sa.Text(), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('reverses_id')
    )
    op.create_index(op.f('ix_journal_entries_effective_date'), 'journal_entries', ['effective_date'], unique=False)
    op.create_index(op.f('ix_journal_entries_event_kind'), 'journal_entries', ['event_kind'], unique=False)
    op.create_table('period_closes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=False),
    sa.Column('last_entry_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period')
    )
    op.create_index(op.f('ix_period_closes_period_end'), 'period_closes', ['period_end'], unique=False)
    op.create_table('period_balances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fund', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('tranche', sa.String(length=64), nullable=True),
    sa.Column('restriction', sa.String(length=64), nullable=True),
    sa.Column('project', sa.String(length=64), nullable=True),
    sa.Column('counterparty', sa.String(length=64), nullable=True),
    sa.Column('debit_pence', sa.BigInteger(), nullable=False),
    sa.Column('credit_pence', sa.BigInteger(), nullable=False),
    sa.Column('balance_pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['period_closes.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_period_balances_close_account', 'period_balances', ['close_id', 'account_code'], unique=False)
    op.create_table('postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('account_code', sa.String(length=64), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fund', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('tranche', sa.String(length=64), nullable=True),
    sa.Column('restriction', sa.String(length=64), nullable=True),
    sa.Column('project', sa.String(length=64), nullable=True),
    sa.Column('counterparty', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_postings_account_date', 'postings', ['account_code', 'effective_date'], unique=False)
    op.create_index(op.f('ix_postings_counterparty'), 'postings', ['counterparty'], unique=False)
    op.create_index(op.f('ix_postings_entry_id'), 'postings', ['entry_id'], unique=False)
    op.create_index(op.f('ix_postings_fund'), 'postings', ['fund'], unique=False)
    op.create_index(op.f('ix_postings_project'), 'postings', ['project'], unique=False)
    op.create_index(op.f('ix_postings_restriction'), 'postings', ['restriction'], unique=False)
    op.create_index(op.f('ix_postings_source'), 'postings', ['source'], unique=False)
    op.create_index(op.f('ix_postings_tranche'), 'postings', ['tranche'], unique=False)
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(op.f('ix_postings_tranche'), table_name='postings')
    op.drop_index(op.f('ix_postings_source'), table_name='postings')
    op.drop_index(op.f('ix_postings_restriction'), table_name='postings')
    op.drop_index(op.f('ix_postings_project'), table_name='postings')
    op.drop_index(op.f('ix_postings_fund'), table_name='postings')
    op.drop_index(op.f('ix_postings_entry_id'), table_name='postings')
    op.drop_index(op.f('ix_postings_counterparty'), table_name='postings')
    op.drop_index('ix_postings_account_date', table_name='postings')
    op.drop_table('postings')
    op.drop_index('ix_period_balances_close_account', table_name='period_balances')
    op.drop_table('period_balances')
    op.drop_index(op.f('ix_period_closes_period_end'), table_name='period_closes')
    op.drop_table('period_closes')
    op.drop_index(op.f('ix_journal_entries_event_kind'), table_name='journal_entries')
    op.drop_index(op.f('ix_journal_entries_effective_date'), table_name='journal_entries')
    op.drop_table('journal_entries')
    op.drop_table('accounts')


IMMUTABLE = ("journal_entries", "postings", "period_closes", "period_balances")

# The entry row seals its postings: postings are inserted first (they have no foreign key to it),
# then the entry, whose insert trigger refuses it unless its postings balance per currency and
# per (fund, source, restriction), carry the entry's date, and the date is not in a closed period.
SQLITE_TRIGGERS = [
    *(
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: post a reversal instead'); END"""
        for table in IMMUTABLE
    ),
    *(
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: post a reversal instead'); END"""
        for table in IMMUTABLE
    ),
    """CREATE TRIGGER postings_sealed BEFORE INSERT ON postings
    WHEN EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'entry is already posted: postings cannot be added to it'); END""",
    """CREATE TRIGGER journal_entries_balanced BEFORE INSERT ON journal_entries
    WHEN (SELECT COUNT(*) FROM postings WHERE entry_id = NEW.id) < 2
      OR EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id
                 GROUP BY currency, fund, source, restriction HAVING SUM(amount_pence) <> 0)
      OR EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id AND effective_date <> NEW.effective_date)
    BEGIN SELECT RAISE(ABORT, 'unbalanced entry: postings must sum to zero per currency, fund, source and restriction'); END""",
    """CREATE TRIGGER journal_entries_known_accounts BEFORE INSERT ON journal_entries
    WHEN EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id
                 AND NOT EXISTS (SELECT 1 FROM accounts WHERE code = postings.account_code))
    BEGIN SELECT RAISE(ABORT, 'unknown account: every posting must use an account in the chart'); END""",
    """CREATE TRIGGER journal_entries_open_period BEFORE INSERT ON journal_entries
    WHEN NEW.effective_date < (SELECT MAX(period_end) FROM period_closes)
    BEGIN SELECT RAISE(ABORT, 'effective date is in a closed period'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION fuel_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% rows are immutable: post a reversal instead', TG_TABLE_NAME;
    END $$""",
    *(
        f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()"""
        for table in IMMUTABLE
    ),
    *(
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()"""
        for table in IMMUTABLE
    ),
    # Statement-level triggers over transition tables: one check per bulk insert (Fuel writes a
    # batch with COPY), not one per row, with the same rules as SQLite's row triggers.
    # Transition tables have no statistics, so each query is bounded to the batch's id range
    # (ids are assigned in order) to keep the planner on the indexes as the ledger grows, and
    # nested loops over the unindexed batch are switched off inside the check.
    """CREATE FUNCTION fuel_postings_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE lo integer; hi integer;
    BEGIN
        SELECT MIN(entry_id), MAX(entry_id) INTO lo, hi FROM inserted;
        IF EXISTS (SELECT 1 FROM journal_entries e
                   WHERE e.id BETWEEN lo AND hi AND e.id IN (SELECT entry_id FROM inserted)) THEN
            RAISE EXCEPTION 'entry is already posted: postings cannot be added to it';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER postings_sealed AFTER INSERT ON postings
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION fuel_postings_sealed()""",
    """CREATE FUNCTION fuel_entry_checks() RETURNS trigger LANGUAGE plpgsql
    SET enable_nestloop = off AS $$
    DECLARE lo integer; hi integer;
    BEGIN
        SELECT MIN(id), MAX(id) INTO lo, hi FROM inserted;
        IF EXISTS (SELECT 1 FROM inserted i
                   LEFT JOIN (SELECT entry_id, COUNT(*) AS n FROM postings
                              WHERE entry_id BETWEEN lo AND hi GROUP BY entry_id) c ON c.entry_id = i.id
                   WHERE COALESCE(c.n, 0) < 2)
           OR EXISTS (SELECT 1 FROM postings p WHERE p.entry_id BETWEEN lo AND hi
                      GROUP BY p.entry_id, p.currency, p.fund, p.source, p.restriction
                      HAVING SUM(p.amount_pence) <> 0)
           OR EXISTS (SELECT 1 FROM postings p JOIN inserted i ON p.entry_id = i.id
                      WHERE p.entry_id BETWEEN lo AND hi AND p.effective_date <> i.effective_date)
        THEN
            RAISE EXCEPTION 'unbalanced entry: postings must sum to zero per currency, fund, source and restriction';
        END IF;
        IF EXISTS (SELECT 1 FROM postings p WHERE p.entry_id BETWEEN lo AND hi
                   AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.code = p.account_code)) THEN
            RAISE EXCEPTION 'unknown account: every posting must use an account in the chart';
        END IF;
        IF EXISTS (SELECT 1 FROM inserted i
                   WHERE i.effective_date < (SELECT MAX(period_end) FROM period_closes)) THEN
            RAISE EXCEPTION 'effective date is in a closed period';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER journal_entries_checks AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION fuel_entry_checks()""",
]


def _create_triggers() -> None:
    statements = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("fuel_refuse_change", "fuel_postings_sealed", "fuel_entry_checks"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
