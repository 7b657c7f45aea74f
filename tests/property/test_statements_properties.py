"""Capital account allocation: every penny conserved; losses hit first-loss capital first."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, strategies as st

from ledger.capital_accounts import LINES, Movement, build_capital_accounts, load_fund_terms
from ledger.periods import Period

TERMS = load_fund_terms(Path(__file__).resolve().parents[2] / "fixtures" / "funds" / "example_fund_terms.toml")
START = date(2026, 1, 1)
THROUGH = Period.parse("2026Q4")
GROUPS = [("social_investment", "senior"), ("public", "junior"), ("charitable", "first-loss")]

contribution = st.tuples(st.integers(0, 360), st.sampled_from(["i1", "i2", "i3"]), st.integers(0, 2),
                         st.integers(1, 10_000_000))
pnl = st.tuples(st.integers(0, 360), st.sampled_from(["interest_income", "outcome_income", "management_fees",
                                                      "write_downs", "realised_losses", "valuation_gains"]),
                st.integers(0, 2), st.integers(1, 2_000_000))


def movements(contribs, pnls):
    out = [Movement(START + timedelta(days=d), "grant_capital" if g == 2 else "contributed_capital",
                    GROUPS[g][0], GROUPS[g][1], None, who, -amount) for d, who, g, amount in contribs]
    first = min(d for d, *_ in contribs)
    for d, account, g, amount in pnls:
        sign = -1 if account in ("interest_income", "outcome_income", "valuation_gains") else 1
        out.append(Movement(START + timedelta(days=max(d, first)), account, GROUPS[g][0], GROUPS[g][1], None, None,
                            sign * amount))
    return out


@given(st.lists(contribution, min_size=1, max_size=8), st.lists(pnl, max_size=10))
def test_allocation_conserves_every_line_every_quarter(contribs, pnls):
    moves = movements(contribs, pnls)
    accounts = build_capital_accounts(moves, TERMS, THROUGH)  # raises InvariantBroken if not conserved
    total = sum(accounts.ending(p, THROUGH) for p in accounts.positions)
    assert total == -sum(m.amount_pence for m in moves)
    for quarter, moved in accounts.moves.items():
        for line in LINES:
            assert sum(lines.get(line, 0) for lines in moved.values()) == accounts.fund_totals[quarter].get(line, 0)


@given(st.lists(contribution, min_size=1, max_size=8), st.integers(1, 50_000_000))
def test_first_loss_absorbs_losses_before_others(contribs, loss):
    moves = movements(contribs, [])
    last = max(m.day for m in moves)
    moves.append(Movement(last, "write_downs", "social_investment", "senior", None, None, loss))
    accounts = build_capital_accounts(moves, TERMS, THROUGH)
    quarter = Period.containing(last).name
    absorbed = {p: -accounts.moves[quarter].get(p, {}).get("unrealised_gains_losses", 0) for p in accounts.positions}
    first_loss_capital = sum(accounts.ending(p, THROUGH) + absorbed[p] for p in accounts.positions if p[2] == "first-loss")
    by_first_loss = sum(v for p, v in absorbed.items() if p[2] == "first-loss")
    others = sum(v for p, v in absorbed.items() if p[2] != "first-loss")
    assert by_first_loss + others == loss
    if others > 0:  # others only lose once the first-loss capital is used up
        assert by_first_loss == first_loss_capital
    junior = sum(v for p, v in absorbed.items() if p[2] == "junior")
    senior = sum(v for p, v in absorbed.items() if p[2] == "senior")
    junior_capital = sum(accounts.ending(p, THROUGH) + absorbed[p] for p in accounts.positions if p[2] == "junior")
    if senior > 0 and junior_capital > 0:
        assert junior == junior_capital
