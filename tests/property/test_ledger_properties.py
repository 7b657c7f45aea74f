"""Invariants of the ledger under random valid entries (SQLite, for speed)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.postings import SOURCES, EntryDraft, Posting, check_entry, imbalances
from models.ledger_store import Ledger

ACCOUNTS = ["cash", "contributed_capital", "grant_capital", "project_loans", "outcome_income", "management_fees"]
FUNDS = ["lcr", "north"]
RESTRICTIONS = [None, "ageing", "complex-needs"]


@st.composite
def balanced_entries(draw, key: str):
    """An entry made of balanced legs, each leg within one (fund, source, restriction) group."""
    legs = draw(st.integers(1, 3))
    postings = []
    for _ in range(legs):
        fund = draw(st.sampled_from(FUNDS))
        source = draw(st.sampled_from(SOURCES))
        restriction = draw(st.sampled_from(RESTRICTIONS))
        parts = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
        debit, credit = draw(st.sampled_from(ACCOUNTS)), draw(st.sampled_from(ACCOUNTS))
        for amount in parts:
            postings.append(Posting(debit, amount, fund=fund, source=source, restriction=restriction))
        postings.append(Posting(credit, -sum(parts), fund=fund, source=source, restriction=restriction))
    day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
    return EntryDraft(day, "random entry", key, tuple(postings))


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=10).flatmap(
    lambda seeds: st.tuples(*(balanced_entries(f"k{i}") for i in range(len(seeds))))
))
def test_random_valid_entries_balance(entries):
    for entry in entries:
        check_entry(entry, ACCOUNTS)
        assert imbalances(entry.postings) == {}


@settings(max_examples=25)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(*(balanced_entries(f"k{i}") for i in range(n)))))
def test_trial_balance_sums_to_zero_and_chain_verifies(sqlite_engine, entries):
    ledger = Ledger(sqlite_engine)
    offset = ledger.verify().entries_checked  # the engine is shared across examples
    entries = [EntryDraft(e.effective_date, e.description, f"{offset}-{e.idempotency_key}", e.postings) for e in entries]
    ledger.post(entries)
    for as_of in (date(2026, 3, 31), date(2026, 12, 31)):
        lines = ledger.trial_balance(as_of)
        assert sum(line.net_pence for line in lines) == 0
        assert sum(line.debit_pence for line in lines) == sum(line.credit_pence for line in lines)
    for row in ledger.balances(date(2026, 12, 31), by=("fund", "source", "restriction")):
        assert row.balance_pence == 0
    assert ledger.verify().ok
