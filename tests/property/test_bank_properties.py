"""Property tests for bank matching and reconciliation (ledger/bank.py): for any bank lines and
ledger cash, the proposed matches never use a line or a posting twice and each balances; and,
whatever is confirmed, the reconciling items plus the matched amounts equal both balances."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.bank import BankItem, CashItem, Match, propose_matches, reconcile

START = date(2026, 1, 1)
amounts = st.sampled_from([-50_000, -12_345, -1_500, -100, 100, 2_500, 12_345, 50_000, 99_999])


@st.composite
def sides(draw):
    n_lines = draw(st.integers(0, 14))
    n_items = draw(st.integers(0, 14))
    lines = [BankItem(i + 1, START + timedelta(days=draw(st.integers(0, 40))), draw(amounts),
                      draw(st.sampled_from(["", "FUEL-3", "INV-ABC-2026Q1", "misc"]))) for i in range(n_lines)]
    items = [CashItem(100 + i, START + timedelta(days=draw(st.integers(0, 40))), draw(amounts),
                      (f"FUEL-{100 + i}", draw(st.sampled_from(["INV-ABC-2026Q1", "k"]))), "") for i in range(n_items)]
    return lines, items


@settings(max_examples=300, deadline=None)
@given(sides())
def test_matching_never_uses_a_line_or_a_posting_twice_and_each_match_balances(data):
    lines, items = data
    proposals = propose_matches(lines, items)
    used_lines = [l for p in proposals for l in p.line_ids]
    used_items = [e for p in proposals for e in p.entry_ids]
    assert len(used_lines) == len(set(used_lines))
    assert len(used_items) == len(set(used_items))
    by_line = {l.line_id: l.amount_pence for l in lines}
    by_item = {i.entry_id: i.amount_pence for i in items}
    for p in proposals:
        assert sum(by_line[l] for l in p.line_ids) == sum(by_item[e] for e in p.entry_ids) == p.amount_pence


@settings(max_examples=300, deadline=None)
@given(sides(), st.integers(-10_000, 10_000), st.integers(0, 45), st.data())
def test_reconciling_items_and_matched_amounts_equal_both_balances(data, opening, as_of_day, pick):
    lines, items = data
    proposals = propose_matches(lines, items)
    confirmed = pick.draw(st.lists(st.sampled_from(proposals), unique=True) if proposals else st.just([]))
    matches = [Match(n, p.line_ids, p.entry_ids) for n, p in enumerate(confirmed, start=1)]
    as_of = START + timedelta(days=as_of_day)
    recon = reconcile(as_of, opening, lines, items, matches)
    ledger_items = sum(i.amount_pence for i in recon.items if i.kind != "bank_not_in_ledger")
    bank_items = sum(i.amount_pence for i in recon.items if i.kind == "bank_not_in_ledger")
    assert recon.ledger_cash_pence == sum(i.amount_pence for i in items if i.effective_date <= as_of)
    assert recon.matched_ledger_pence + ledger_items == recon.ledger_cash_pence
    assert recon.opening_pence + recon.matched_bank_pence + bank_items == recon.bank_balance_pence
    assert recon.matched_ledger_pence == recon.matched_bank_pence
    assert recon.unexplained_pence == opening
