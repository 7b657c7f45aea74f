"""Postings keep only the indexes their reads use: by account and date, and by entry.

The six single-column dimension indexes (fund, source, tranche, restriction, project,
counterparty) served no query's plan (reads filter by account and date, then group by the
dimensions) but cost every insert six more B-tree updates: dropping them doubles SQLite's bulk
posting rate (bench/bench_ledger.py: about 14,700 to 27,500 postings/s).

The account-and-date index also carries currency and amount, so one account's balance as of a
date is read from the index alone (no table look-up per posting): on 200,000 postings with the
last quarter open, about 13 ms became a few ms.

Revision ID: 0009
Revises: 0008
"""

from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DIMENSION_INDEXES = ("fund", "source", "tranche", "restriction", "project", "counterparty")


def upgrade() -> None:
    for column in DIMENSION_INDEXES:
        op.drop_index(f"ix_postings_{column}", table_name="postings")
    op.drop_index("ix_postings_account_date", table_name="postings")
    op.create_index("ix_postings_account_date", "postings",
                    ["account_code", "effective_date", "currency", "amount_pence"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_postings_account_date", table_name="postings")
    op.create_index("ix_postings_account_date", "postings", ["account_code", "effective_date"], unique=False)
    for column in DIMENSION_INDEXES:
        op.create_index(f"ix_postings_{column}", "postings", [column], unique=False)
