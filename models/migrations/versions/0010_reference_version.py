"""A version stamp for fund reference data, changed by the database on every write to it.

Recording an event reads the fund's reference data (tranches, commitments, parties, ...); a
process keeps it in memory and re-reads it only when this stamp has changed. Triggers, not
application code, change the stamp, so no writer can forget. The stamp is random rather than
a counter so that a transaction which changed it and rolled back can never leave a process
holding data under a stamp that a later, different change reuses.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REFERENCE_TABLES = ("funds", "parties", "tranches", "restrictions", "projects", "commitments")


def upgrade() -> None:
    op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO reference_versions (id, stamp) VALUES (1, 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION fuel_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE reference_versions SET stamp = md5(random()::text || clock_timestamp()::text) WHERE id = 1;
            RETURN NULL;
        END $$""")
        for table in REFERENCE_TABLES:
            op.execute(f"""CREATE TRIGGER {table}_reference_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fuel_reference_changed()""")
        return
    for table in REFERENCE_TABLES:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER {table}_reference_changed_{action.lower()} AFTER {action} ON {table}
            BEGIN UPDATE reference_versions SET stamp = hex(randomblob(16)) WHERE id = 1; END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fuel_reference_changed() CASCADE")
    else:
        for table in REFERENCE_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_reference_changed_{action}")
    op.drop_table("reference_versions")
