"""Invariants of the open-data exports, for any amounts and entries: 360Giving amounts are the
pence written exactly; every Xero and Sage journal balances and the lines re-add to each
account's total to the penny; packing into Xero files never splits or loses a journal."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reports import giving360
from reports import journal_export as je
from tests.e2e.conftest import REPO

MAPPING = je.parse_account_map((REPO / "fixtures" / "journal" / "account_map.toml").read_text(), "map")
ACCOUNTS = sorted(MAPPING.codes)
PENCE = st.integers(min_value=-(10**13), max_value=10**13)


@given(st.lists(PENCE, min_size=1, max_size=20))
def test_amounts_are_written_exactly(amounts):
    text = giving360.dumps({"amounts": [giving360.pounds(p) for p in amounts]})
    import json

    back = json.loads(text, parse_float=Decimal, parse_int=Decimal)["amounts"]
    assert [int(v * 100) for v in back] == amounts


@st.composite
def entries(draw):
    postings = []
    for entry_id in range(1, draw(st.integers(1, 12)) + 1):
        amounts = draw(st.lists(st.integers(1, 10**11), min_size=1, max_size=4))
        lines = [(a, draw(st.sampled_from(ACCOUNTS))) for a in amounts]
        lines.append((-sum(amounts), draw(st.sampled_from(ACCOUNTS))))  # the entry balances
        day = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
        project = draw(st.sampled_from([None, "p1", "p2"]))
        for line_no, (amount, account) in enumerate(lines, start=1):
            postings.append({"entry_id": entry_id, "effective_date": day, "description": f"entry {entry_id}",
                             "line_no": line_no, "account_code": account, "amount_pence": amount, "currency": "GBP",
                             "fund": "f", "source": "public", "tranche": None, "restriction": None,
                             "project": project, "counterparty": None})  # fmt: skip
    return postings


def by_code(postings, target):
    totals = defaultdict(int)
    for p in postings:
        totals[MAPPING.codes[p["account_code"]][target]] += p["amount_pence"]
    return dict(totals)


@given(entries(), st.integers(5, 40))
def test_xero_journals_balance_re_add_and_pack_whole(postings, lines_max):
    journals = je.xero_rows(postings, MAPPING, "f", "GBP", {}, "map")
    assert len(journals) == len({p["entry_id"] for p in postings})
    totals = defaultdict(int)
    for journal in journals:
        assert sum(int(Decimal(r[5]) * 100) for r in journal) == 0
        for row in journal:
            totals[row[3]] += int(Decimal(row[5]) * 100)
    assert dict(totals) == by_code(postings, "xero")
    files = je.split_files(journals, lines_max)
    assert [r for f in files for r in f] == [r for j in journals for r in j]
    for f in files:
        assert len(f) <= lines_max
    owner = {}
    for index, f in enumerate(files):
        for row in f:
            assert owner.setdefault(row[0], index) == index


@given(entries())
def test_sage_journals_balance_and_re_add(postings):
    journals = je.sage_rows(postings, MAPPING, "f", "GBP", {}, "map")
    totals = defaultdict(int)
    for journal in journals:
        signed = [int(Decimal(r[7]) * 100) * (1 if r[0] == "JD" else -1) for r in journal]
        assert sum(signed) == 0 and all(int(Decimal(r[7]) * 100) > 0 for r in journal)
        for row, amount in zip(journal, signed):
            totals[row[2]] += amount
    assert dict(totals) == by_code(postings, "sage")
