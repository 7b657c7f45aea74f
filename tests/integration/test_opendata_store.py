"""What the open-data exports read, on SQLite and PostgreSQL: the fund's grants (a reversed one
publishes nothing), and its postings entry by entry, each entry balancing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

from models.ledger_store import entries_t, reverse_entry
from models.opendata_store import fund_postings, fund_reference, fund_row, grant_records, indigo_figures
from reports import giving360
from tests.integration.test_flows_store import FUND, flowed, fund  # noqa: F401  (fixtures)


def test_grants_are_the_project_grant_disbursements_and_a_reversal_removes_one(flowed):
    with flowed.connect() as conn:
        grants = grant_records(conn, FUND)
        assert [(g.kind, g.amount_pence, g.project_id, g.recipient_id, g.source) for g in grants] == [
            ("project_grant", 3000000, "aw-homecare", "ageing-well", "charitable"),
            ("project_grant", 2000000, "hf-tenancy", "homes-first", "public"),
        ]
        assert grant_records(conn, FUND, date(2026, 3, 3), date(2026, 3, 31))[0].amount_pence == 2000000
        assert grant_records(conn, "another-fund") == []
        package = giving360.build_package(grants, fund_reference(conn, FUND), fund_row(conn, FUND),
                                          giving360.default_publisher(FUND, "x"), issued=date(2026, 4, 1))  # fmt: skip
        assert giving360.validate_package(package) == []
        assert indigo_figures(conn, FUND) == []  # the example fund has no outcomes contracts
    with flowed.begin() as conn:
        reverse_entry(conn, grants[0].entry_id, date(2026, 4, 1), "entered twice", "tester")
    with flowed.connect() as conn:
        assert [g.amount_pence for g in grant_records(conn, FUND)] == [2000000]


def test_fund_postings_come_entry_by_entry_and_each_entry_balances(flowed):
    with flowed.connect() as conn:
        rows = list(fund_postings(conn, FUND))
        entries = conn.execute(select(entries_t.c.id)).scalars().all()
        assert [r["entry_id"] for r in rows] == sorted(r["entry_id"] for r in rows)
        totals: dict[int, int] = defaultdict(int)
        for row in rows:
            assert row["fund"] == FUND and isinstance(row["effective_date"], date)
            totals[row["entry_id"]] += row["amount_pence"]
        assert set(totals) == set(entries) and all(v == 0 for v in totals.values())
        march = list(fund_postings(conn, FUND, date(2026, 3, 1), date(2026, 3, 31)))
        assert march and all(date(2026, 3, 1) <= r["effective_date"] <= date(2026, 3, 31) for r in march)
