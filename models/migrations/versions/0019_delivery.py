"""Issued documents and their delivery: contacts (erasable personal data, outside the ledger),
frozen document versions, deliveries and their append-only events (``models/delivery_tables.py``).
Documents, deliveries and delivery events are immutable (triggers, like the ledger's).

Revision ID: 0019
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0011"
branch_labels = None
depends_on = None

IMMUTABLE = ("issued_documents", "deliveries", "delivery_events")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=130), nullable=False),
        sa.Column("contact_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=False), nullable=True),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fund_id", "party_id", "contact_key", name="uq_contacts_party_key"),
    )
    op.create_index("ix_contacts_fund_id", "contacts", ["fund_id"])
    op.create_index("ix_contacts_party_id", "contacts", ["party_id"])
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=130), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.ForeignKeyConstraint(["supersedes_id"], ["issued_documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fund_id", "kind", "subject", "party_id", "version", name="uq_issued_documents_version"),
    )
    op.create_index("ix_issued_documents_fund_id", "issued_documents", ["fund_id"])
    op.create_index("ix_issued_documents_quarter", "issued_documents", ["quarter"])
    op.create_index("ix_issued_documents_party_id", "issued_documents", ["party_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["issued_documents.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "contact_id", name="uq_deliveries_document_contact"),
    )
    op.create_index("ix_deliveries_document_id", "deliveries", ["document_id"])
    op.create_index("ix_deliveries_contact_id", "deliveries", ["contact_id"])
    op.create_table(
        "delivery_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("smtp_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("link_token_sha256", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_events_delivery_id", "delivery_events", ["delivery_id"])
    op.create_index("ix_delivery_events_link_token_sha256", "delivery_events", ["link_token_sha256"])
    for table in IMMUTABLE:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION fuel_refuse_change()""")
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fuel_refuse_change()""")
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: issue a new version or record a new event'); END""")


def downgrade() -> None:
    for table in IMMUTABLE:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    for table in ("delivery_events", "deliveries", "issued_documents", "contacts"):
        op.drop_table(table)
