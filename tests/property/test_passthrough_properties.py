"""Pass-through invariants over random claim lines and terms: no partner is ever paid more
than the prime received for its participants plus its agreed fees, to the penny; caps hold;
the shares and the prime's retained part add up to what was received; the result repeats."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import ROUNDING_MODES
from ledger.pbr.passthrough import PartnerPrior, PartnerTerms, pass_through

PARTNERS = ("A", "B", "C")
pence = st.integers(0, 2_000_000)
optional_pence = st.one_of(st.none(), st.integers(0, 500_000))


@st.composite
def terms(draw, partner_id):
    share = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=4)))
    fee_period, fee_participant = draw(optional_pence), draw(st.one_of(st.none(), st.integers(0, 50_000)))
    return PartnerTerms(partner_id, partner_id, share=Decimal(share) if share is not None else None,
                        fee_per_period_pence=fee_period, fee_per_participant_pence=fee_participant,
                        cap_pence=draw(optional_pence), cap_per_period_pence=draw(optional_pence),
                        rounding=draw(st.sampled_from(tuple(ROUNDING_MODES))))  # fmt: skip


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, len(PARTNERS)))
    contract_terms = tuple(draw(terms(p)) for p in PARTNERS[:n])
    rows = draw(st.lists(st.tuples(st.sampled_from(("", *PARTNERS[:n])), st.integers(1, 8), pence, st.booleans()),
                         max_size=40))  # fmt: skip
    frame = pd.DataFrame({
        "participant_id": [f"{partner}-p{who}" for partner, who, _, _ in rows],
        "partner_id": [partner for partner, _, _, _ in rows],
        "net_pence": pd.Series([net for _, _, net, _ in rows], dtype="int64"),
        "accepted": pd.Series([ok for *_, ok in rows], dtype=bool),
    })  # fmt: skip
    net_total = int(frame[frame["accepted"]]["net_pence"].sum())
    clawback = draw(st.integers(0, net_total))
    prior = {t.partner_id: PartnerPrior(draw(st.integers(0, 600_000)),
                                        frozenset(f"{t.partner_id}-p{i}" for i in draw(st.sets(st.integers(1, 8)))))
             for t in contract_terms}  # fmt: skip
    return frame, contract_terms, clawback, prior


@given(scenarios())
def test_pass_through_never_pays_more_than_received_plus_agreed_fees(scenario):
    frame, contract_terms, clawback, prior = scenario
    result = pass_through(frame, contract_terms, period="2026Q3", clawback_pence=clawback, prior=prior)
    accepted = frame[frame["accepted"]]
    assert result.received_pence == int(accepted["net_pence"].sum()) - clawback
    for t, amount in zip(contract_terms, result.partners):
        mine = accepted[accepted["partner_id"] == t.partner_id]
        # What the prime received for this partner's participants: their net less their clawback part.
        assert amount.net_pence == int(mine["net_pence"].sum())
        assert 0 <= amount.clawback_pence <= amount.net_pence
        new = set(mine["participant_id"]) - prior[t.partner_id].participants
        agreed_fees = (t.fee_per_period_pence or 0) + (t.fee_per_participant_pence or 0) * len(new)
        assert amount.fees_pence <= agreed_fees
        assert amount.share_pence <= amount.received_pence
        assert amount.total_pence <= amount.received_pence + agreed_fees
        assert amount.share_pence >= 0 and amount.fees_pence >= 0
        if t.share is None:
            assert amount.share_pence == 0
        if t.cap_per_period_pence is not None:
            assert amount.total_pence <= t.cap_per_period_pence
        if t.cap_pence is not None:
            assert amount.total_pence <= max(t.cap_pence - prior[t.partner_id].earned_pence, 0)
        if not amount.cap_applied:
            assert amount.cap_reduction_pence == 0 and amount.fees_pence == agreed_fees
    # Conservation to the penny: every group's received adds up, and the prime keeps the rest.
    assert sum(p.received_pence for p in result.partners) + result.prime_own_received_pence == result.received_pence
    assert result.shares_pence + result.prime_retained_share_pence == result.received_pence
    assert result.prime_retained_share_pence >= result.prime_own_received_pence
    assert sum(p.clawback_pence for p in result.partners) <= clawback
    # Deterministic: the same input gives the same result.
    assert pass_through(frame, contract_terms, period="2026Q3", clawback_pence=clawback, prior=prior) == result
