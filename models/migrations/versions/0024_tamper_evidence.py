"""Tamper evidence beyond the journal (issue 16, items 7-10): period closes record the entry
chain's tip and are chained (``ledger/anchors.py``); existing closes are sealed here. SQLite
refuses INSERT OR REPLACE on every immutable table. Claim runs, claim lines, their revisions and
distribution lines become immutable, contracts once a claim run uses them, and all of them are
sealed in the evidence chain (``models/evidence_store.py``).

Revision ID: 0024
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0024"
down_revision = "0025"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _without_close_triggers(change) -> None:
    """Run ``change`` with period_closes' no-update triggers lifted (this migration only)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE period_closes DISABLE TRIGGER period_closes_immutable")
        change()
        op.execute("ALTER TABLE period_closes ENABLE TRIGGER period_closes_immutable")
        return
    op.execute("DROP TRIGGER period_closes_no_update")
    change()
    op.execute("""CREATE TRIGGER period_closes_no_update BEFORE UPDATE ON period_closes
        BEGIN SELECT RAISE(ABORT, 'period_closes rows are immutable: post a reversal instead'); END""")


def _seal_existing_closes() -> None:
    from ledger.anchors import close_hash

    bind = op.get_bind()
    closes = sa.table("period_closes", sa.column("id", sa.Integer), sa.column("period", sa.String),
                      sa.column("period_start", sa.Date), sa.column("period_end", sa.Date),
                      sa.column("closed_at", sa.DateTime), sa.column("closed_by", sa.String),
                      sa.column("last_entry_id", sa.Integer), sa.column("tip_hash", sa.String),
                      sa.column("prev_hash", sa.String), sa.column("close_hash", sa.String))  # fmt: skip
    entries = sa.table("journal_entries", sa.column("id", sa.Integer), sa.column("entry_hash", sa.String))
    rows = bind.execute(sa.select(closes).order_by(closes.c.id)).all()
    prev = GENESIS
    for row in rows:
        tip = bind.execute(sa.select(entries.c.entry_hash).where(entries.c.id == row.last_entry_id)).scalar()
        tip = tip or GENESIS
        sealed = close_hash(prev, row.period, row.period_start, row.period_end, row.closed_at, row.closed_by,
                            row.last_entry_id, tip)  # fmt: skip
        bind.execute(closes.update().where(closes.c.id == row.id).values(tip_hash=tip, prev_hash=prev,
                                                                           close_hash=sealed))
        prev = sealed


#: Made immutable by this migration.
NEW_IMMUTABLE = ("pbr_claim_runs", "pbr_claim_lines", "pbr_run_revisions", "distribution_lines", "evidence_seals")
#: Every table whose rows are never updated or deleted (no-update/no-delete triggers).
IMMUTABLE_TABLES = (
    "journal_entries", "postings", "period_closes", "period_balances", "commitments", "fund_terms",
    "project_stages", "deliveries", "delivery_events", "issued_documents", "value_tables", *NEW_IMMUTABLE,
    "pbr_contracts",  # updatable only while no claim run uses it, never deleted or replaced
)


def _unique_keys(bind, table: str) -> list[list[str]]:
    """The primary key and every unique index of a SQLite table, as column lists."""
    keys = []
    info = bind.exec_driver_sql(f"PRAGMA table_info({table})").all()
    pk = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
    if pk:
        keys.append(pk)
    for index in bind.exec_driver_sql(f"PRAGMA index_list({table})").all():
        if index[2]:  # unique
            columns = [row[2] for row in bind.exec_driver_sql(f"PRAGMA index_info('{index[1]}')").all()]
            if columns not in keys:
                keys.append(columns)
    return keys


def sqlite_replace_guard(table: str) -> None:
    """On SQLite, INSERT OR REPLACE deletes the row it conflicts with without firing the delete
    trigger (recursive triggers are off): refuse an insert whose key is already there."""
    bind = op.get_bind()
    conditions = " OR ".join(
        "EXISTS (SELECT 1 FROM {t} WHERE {match})".format(
            t=table, match=" AND ".join(f"{c} = NEW.{c}" for c in key))
        for key in _unique_keys(bind, table)
    )  # fmt: skip
    op.execute(f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {conditions}
        BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: a row with this key exists (no REPLACE)'); END""")


def upgrade() -> None:
    # Plain ADD COLUMN (not a batch table copy, which would drop the table's triggers).
    for name in ("tip_hash", "prev_hash", "close_hash"):
        op.add_column("period_closes", sa.Column(name, sa.String(length=64), nullable=True))
    _without_close_triggers(_seal_existing_closes)
    op.create_table(
        "pbr_run_revisions",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("clawback_pence", sa.BigInteger(), nullable=False),
        sa.Column("invoice_ref", sa.String(length=100), nullable=True),
        sa.Column("revised_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("revised_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["pbr_claim_runs.id"]),
        sa.PrimaryKeyConstraint("run_id", "revision"),
    )
    op.create_table(
        "evidence_seals",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("seal_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # When Fuel received each outcome event: for rows already stored, their import's time.
    op.add_column("pbr_outcome_events", sa.Column("received_at", sa.DateTime(timezone=False), nullable=True))
    op.execute("""UPDATE pbr_outcome_events SET received_at =
        (SELECT imported_at FROM pbr_imports WHERE pbr_imports.id = pbr_outcome_events.import_id)""")
    from models.evidence_store import seal_everything

    seal_everything(op.get_bind())
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in NEW_IMMUTABLE:
            op.execute(f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
        op.execute("""CREATE FUNCTION fuel_contract_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR EXISTS (SELECT 1 FROM pbr_claim_runs WHERE contract_id = OLD.id) THEN
                RAISE EXCEPTION 'pbr_contracts rows are immutable once a claim run uses them: load new terms under a new id';
            END IF;
            RETURN NEW;
        END $$""")
        op.execute("""CREATE TRIGGER pbr_contracts_immutable BEFORE UPDATE OR DELETE ON pbr_contracts
            FOR EACH ROW EXECUTE FUNCTION fuel_contract_in_use()""")
        op.execute("""CREATE TRIGGER pbr_contracts_no_truncate BEFORE TRUNCATE ON pbr_contracts
            FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
        return
    for table in NEW_IMMUTABLE:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: corrections are new rows'); END""")
    op.execute("""CREATE TRIGGER pbr_contracts_no_update BEFORE UPDATE ON pbr_contracts
        WHEN EXISTS (SELECT 1 FROM pbr_claim_runs WHERE contract_id = OLD.id)
        BEGIN SELECT RAISE(ABORT, 'pbr_contracts rows are immutable once a claim run uses them: load new terms under a new id'); END""")
    op.execute("""CREATE TRIGGER pbr_contracts_no_delete BEFORE DELETE ON pbr_contracts
        BEGIN SELECT RAISE(ABORT, 'pbr_contracts rows are immutable: contracts are never deleted'); END""")
    for table in IMMUTABLE_TABLES:
        sqlite_replace_guard(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
        for table in (*NEW_IMMUTABLE, "pbr_contracts"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        for table in (*NEW_IMMUTABLE, "pbr_contracts"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS fuel_contract_in_use()")
    # Before 0024 a claim run's row held its current state: write the latest revision back.
    latest = ("(SELECT {c} FROM pbr_run_revisions r WHERE r.run_id = pbr_claim_runs.id "
              "ORDER BY r.revision DESC LIMIT 1)")
    op.execute("UPDATE pbr_claim_runs SET " + ", ".join(
        f"{c} = {latest.format(c=c)}" for c in ("status", "net_pence", "clawback_pence", "invoice_ref"))
        + " WHERE EXISTS (SELECT 1 FROM pbr_run_revisions r WHERE r.run_id = pbr_claim_runs.id)")
    op.drop_table("evidence_seals")
    op.drop_table("pbr_run_revisions")
    op.drop_column("pbr_outcome_events", "received_at")
    for name in ("close_hash", "prev_hash", "tip_hash"):
        op.drop_column("period_closes", name)
