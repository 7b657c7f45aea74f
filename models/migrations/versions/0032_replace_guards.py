"""Guard INSERT OR REPLACE on every immutable SQLite table added since 0024 (bank, calls, VCSE...).

0024 guarded the immutable tables it knew. Any table that has a no-delete trigger and no
no-replace trigger gets one here, found from sqlite_master so no table is missed by a list.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def _unguarded(bind) -> list[str]:
    names = set(bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
    tables = sorted(n.removesuffix("_no_delete") for n in names if n.endswith("_no_delete"))
    return [t for t in tables if f"{t}_no_replace" not in names]


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


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":  # PostgreSQL has no REPLACE: its update/delete triggers hold
        return
    for table in _unguarded(bind):
        conditions = " OR ".join(
            "EXISTS (SELECT 1 FROM {t} WHERE {match})".format(t=table, match=" AND ".join(f"{c} = NEW.{c}" for c in key))
            for key in _unique_keys(bind, table))  # fmt: skip
        op.execute(f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {conditions}
            BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: a row with this key exists (no REPLACE)'); END""")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    known = set(bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
    for name in sorted(known):
        table = name.removesuffix("_no_replace")
        if name.endswith("_no_replace") and table not in _GUARDED_BY_0024:
            op.execute(f"DROP TRIGGER {name}")


#: 0024's own guards stay when this revision is undone
_GUARDED_BY_0024 = frozenset({
    "journal_entries", "postings", "period_closes", "period_balances", "commitments", "fund_terms", "project_stages",
    "deliveries", "delivery_events", "issued_documents", "value_tables", "pbr_claim_runs", "pbr_claim_lines",
    "pbr_run_revisions", "distribution_lines", "evidence_seals", "pbr_contracts",
})
