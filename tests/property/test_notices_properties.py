"""A distribution notice's split (``ledger.notices.distribution_split``) conserves every penny
the waterfall pays, and gives each investor exactly what the run pays it, for any cash and
history; a split that does not add up is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvariantBroken
from ledger.notices import distribution_split
from ledger.waterfall import WaterfallState, run_waterfall
from tests.property.test_waterfall_properties import BLENDED, CAPPED_NO_POOL, DAY, positions


def _lines(result) -> list[dict]:
    return [{"party": line.party, "is_investor": line.is_investor, "tranche": line.tranche, "kind": line.kind,
             "category": line.category, "amount_pence": line.amount_pence}
            for tier in result.tiers for line in tier.lines]


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from([BLENDED, CAPPED_NO_POOL]), st.integers(1, 5 * 10**9))
def test_split_conserves_and_pays_each_investor_what_the_waterfall_pays(data, terms, cash_pence):
    tranches = tuple(t.id for t in terms.tranches)
    state = WaterfallState(data.draw(positions(tranches, ("return_of_capital", "preferred_return"))))
    result = run_waterfall(terms, cash_pence, DAY, state)
    split = distribution_split(result.tiers, _lines(result), result.cash_pence, result.undistributed_pence)
    assert split["distributed_pence"] + split["undistributed_pence"] == cash_pence
    assert sum(t["paid_pence"] for t in split["tiers"]) == split["distributed_pence"]
    assert sum(t["paid_pence"] for t in split["tranches"]) + sum(r["paid_pence"] for r in split["recipients"]) \
        == split["distributed_pence"]
    for party in result.parties:
        if party.tranche is None:
            assert {r["party"]: r["paid_pence"] for r in split["recipients"]}[party.party] == party.total_pence
            continue
        [row] = [r for r in split["investor_shares"][party.party] if r["tranche"] == party.tranche]
        assert (row["return_of_capital"], row["income"], row["gains"]) == (
            party.return_of_capital_pence, party.income_pence, party.gains_pence)


def test_a_split_that_loses_a_penny_is_refused():
    from datetime import timedelta

    from ledger.waterfall import Contribution, Position

    state = WaterfallState((Position("a", "senior", 0, (Contribution(DAY - timedelta(days=400), 50_000),)),))
    result = run_waterfall(CAPPED_NO_POOL, 10_000, DAY, state)
    lines = _lines(result)
    assert sum(line["amount_pence"] for line in lines) == 10_000
    lines[0] = {**lines[0], "amount_pence": lines[0]["amount_pence"] - 1}
    with pytest.raises(InvariantBroken, match="does not conserve"):
        distribution_split(result.tiers, lines, result.cash_pence, result.undistributed_pence)
