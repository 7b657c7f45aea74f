"""Fund isolation (issue 16, items 1-6): the fund that owns a party; tranche and restriction
ids scoped by fund (primary key ``(fund_id, id)``, commitments referencing their fund's
tranche); and triggers refusing a posting whose fund does not exist or whose tranche,
restriction or project is not its fund's.

The posting check applies once the database has a fund (a PbR-only database, with none, books
contracts under their fund's label), like ``models/pbr_store.py::load_contract``.

Revision ID: 0025
Revises: 0023
"""

import re

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0026"
branch_labels = None
depends_on = None


#: A posting's dimension that breaks the rule (``p`` is the posting).
BAD_DIMENSION = """EXISTS (SELECT 1 FROM funds) AND (
    (p.fund IS NOT NULL AND NOT EXISTS (SELECT 1 FROM funds f WHERE f.id = p.fund))
    OR (p.tranche IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tranches t WHERE t.id = p.tranche AND t.fund_id = p.fund))
    OR (p.restriction IS NOT NULL AND NOT EXISTS (SELECT 1 FROM restrictions r
                                                  WHERE r.id = p.restriction AND r.fund_id = p.fund))
    OR (p.project IS NOT NULL AND NOT EXISTS (SELECT 1 FROM projects j WHERE j.id = p.project AND j.fund_id = p.fund)))"""
MESSAGE = ("posting dimension refused: its fund must exist and its tranche, restriction and project must "
           "belong to that fund")


def _sqlite_copy(table: str, edits: list[tuple[str, str]]) -> list[str]:
    """SQLite cannot change a primary key or foreign key in place: create ``<table>__new`` from
    the table's own CREATE statement with ``edits`` and copy the rows. Returns the table's index
    and trigger statements, to run again once the new table has the old one's name."""
    conn = op.get_bind()
    create = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (table,)).scalar_one()
    extras = [row[0] for row in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,))]
    for old, new in edits:
        assert old in create, (table, old)
        create = create.replace(old, new)
    create = re.sub(r'^CREATE TABLE (IF NOT EXISTS )?"?' + table + '"?', f"CREATE TABLE {table}__new", create)
    op.execute(create)
    op.execute(f"INSERT INTO {table}__new SELECT * FROM {table}")
    return extras


def _scope_ids_by_fund() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE commitments DROP CONSTRAINT commitments_tranche_id_fkey")
        for table in ("tranches", "restrictions"):
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (fund_id, id)")
        op.execute("""ALTER TABLE commitments ADD CONSTRAINT commitments_fund_id_tranche_id_fkey
                   FOREIGN KEY (fund_id, tranche_id) REFERENCES tranches (fund_id, id)""")
        return
    # Children are copied against the new parents and dropped first, so no foreign key is ever
    # broken; renaming a parent rewrites the new children's references to its final name.
    extras = _sqlite_copy("tranches", [("PRIMARY KEY (id)", "PRIMARY KEY (fund_id, id)")])
    extras += _sqlite_copy("commitments", [("FOREIGN KEY(tranche_id) REFERENCES tranches (id)",
                                            "FOREIGN KEY(fund_id, tranche_id) REFERENCES tranches__new (fund_id, id)")])
    extras += _sqlite_copy("restrictions", [("PRIMARY KEY (id)", "PRIMARY KEY (fund_id, id)")])
    for table in ("commitments", "tranches", "restrictions"):
        op.execute(f"DROP TABLE {table}")
    for table in ("tranches", "commitments", "restrictions"):
        op.execute(f"ALTER TABLE {table}__new RENAME TO {table}")
    for statement in extras:
        op.execute(statement)


def upgrade() -> None:
    _scope_ids_by_fund()
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("owner_fund", sa.String(length=64), nullable=True))
        batch.create_index("ix_parties_owner_fund", ["owner_fund"])
    if op.get_bind().dialect.name == "postgresql":
        # Statement level over the transition table, like the ledger's other checks (COPY batches).
        op.execute(f"""CREATE FUNCTION fuel_postings_dimensions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM inserted p WHERE {BAD_DIMENSION}) THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
            RETURN NULL;
        END $$""")
        op.execute("""CREATE TRIGGER postings_dimensions AFTER INSERT ON postings
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION fuel_postings_dimensions()""")
    else:
        condition = BAD_DIMENSION.replace("p.", "NEW.")
        op.execute(f"""CREATE TRIGGER postings_dimensions BEFORE INSERT ON postings
        WHEN {condition}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fuel_postings_dimensions() CASCADE")
    else:
        op.execute("DROP TRIGGER IF EXISTS postings_dimensions")
    with op.batch_alter_table("parties") as batch:
        batch.drop_index("ix_parties_owner_fund")
        batch.drop_column("owner_fund")
