"""Fund isolation (issue 16, items 1-6): the fund that owns a party, and triggers refusing a
posting whose fund does not exist or whose tranche, restriction or project is not its fund's.

The posting check applies once the database has a fund (a PbR-only database, with none, books
contracts under their fund's label), like ``models/pbr_store.py::load_contract``.

Revision ID: 0025
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0023"
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


def upgrade() -> None:
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
