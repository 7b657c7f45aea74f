"""Bank accounts, imported statements and lines, matches and the fund's reconciliation setting
(``models/bank_tables.py``, ``docs/bank.md``). Statements, lines and matches are immutable.

Revision ID: 0027
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0027"
down_revision = "0023"
branch_labels = None
depends_on = None

IMMUTABLE = ("bank_statements", "bank_lines", "bank_matches", "bank_match_members")


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bank_csv_mappings",
        sa.Column("bank", sa.String(length=64), primary_key=True),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        _when("saved_at"),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
    )
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("fund_id", sa.String(length=64), sa.ForeignKey("funds.id"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_code", sa.String(length=8), nullable=False),
        sa.Column("account_number", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("holds_json", sa.Text(), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=True),
        _when("created_at"),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.UniqueConstraint("fund_id", "sort_code", "account_number"),
    )
    op.create_index("ix_bank_accounts_fund_id", "bank_accounts", ["fund_id"])
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("bank_accounts.id"), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("opening_pence", sa.BigInteger(), nullable=True),
        sa.Column("opening_on", sa.Date(), nullable=True),
        sa.Column("closing_pence", sa.BigInteger(), nullable=True),
        sa.Column("closing_on", sa.Date(), nullable=False),
        sa.Column("lines_added", sa.Integer(), nullable=False),
        sa.Column("lines_skipped", sa.Integer(), nullable=False),
        _when("imported_at"),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
    )
    op.create_index("ix_bank_statements_account_id", "bank_statements", ["account_id"])
    op.create_table(
        "bank_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("bank_accounts.id"), nullable=False),
        sa.Column("statement_id", sa.Integer(), sa.ForeignKey("bank_statements.id"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("bank_txn_id", sa.String(length=500), nullable=True),
        sa.Column("balance_after_pence", sa.BigInteger(), nullable=True),
        sa.Column("identity", sa.String(length=700), nullable=False),
        sa.UniqueConstraint("account_id", "identity"),
    )
    op.create_index("ix_bank_lines_account_id", "bank_lines", ["account_id"])
    op.create_table(
        "bank_matches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("bank_accounts.id"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("unmatches_id", sa.Integer(), nullable=True, unique=True),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        _when("recorded_at"),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
    )
    op.create_index("ix_bank_matches_account_id", "bank_matches", ["account_id"])
    op.create_table(
        "bank_match_members",
        sa.Column("match_id", sa.Integer(), sa.ForeignKey("bank_matches.id"), primary_key=True),
        sa.Column("kind", sa.String(length=8), primary_key=True),
        sa.Column("ref_id", sa.Integer(), primary_key=True, autoincrement=False),
    )
    op.create_table(
        "bank_settings",
        sa.Column("fund_id", sa.String(length=64), sa.ForeignKey("funds.id"), primary_key=True),
        sa.Column("require_reconciled", sa.Boolean(), nullable=False),
        _when("updated_at"),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in IMMUTABLE:
        if postgres:
            op.execute(f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: unmatching is a new record'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    for table in ("bank_settings", "bank_match_members", "bank_matches", "bank_lines", "bank_statements",
                  "bank_accounts", "bank_csv_mappings"):
        op.drop_table(table)
