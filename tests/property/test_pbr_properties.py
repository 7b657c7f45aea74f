"""Claim run invariants: no cap is ever exceeded, payer shares add up, runs repeat exactly."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ledger.pbr.claims import PriorPaid, run_claim, share_column
from ledger.pbr.contracts import contract_from_mapping

OUTCOMES = ("a", "b", "c", "d")
START = date(2024, 1, 1)


@st.composite
def contracts(draw):
    n_outcomes = draw(st.integers(1, len(OUTCOMES)))
    optional_pence = st.one_of(st.none(), st.integers(0, 50_000))
    outcomes = []
    for outcome_id in OUTCOMES[:n_outcomes]:
        outcome = {"id": outcome_id, "definition": outcome_id, "allow_zero": True}  # zero caps are drawn on purpose
        count_cap = draw(st.one_of(st.none(), st.integers(0, 6)))
        value_cap = draw(optional_pence)
        if count_cap is not None:
            outcome["count_cap"] = count_cap
        if value_cap is not None:
            outcome["value_cap_pence"] = value_cap
        outcomes.append(outcome)
    payers = [{"id": "council", "name": "Council"}]
    shares_left = 100
    for index in range(draw(st.integers(0, 2))):
        percent = draw(st.integers(1, max(shares_left, 1)))
        if shares_left - percent < 0:
            break
        shares_left -= percent
        payers.append({"id": f"fund{index}", "name": f"Fund {index}", "share": f"{percent / 100:.2f}"})
    for payer in payers:
        payer["allow_zero"] = True
        cap = draw(optional_pence)
        if cap is not None:
            payer["cap_pence"] = cap
    caps = {"allow_zero": True}
    for key in ("per_participant_pence", "contract_pence"):
        cap = draw(st.one_of(st.none(), st.integers(0, 100_000)))
        if cap is not None:
            caps[key] = cap
    data = {
        "id": "prop",
        "name": "Property contract",
        "project": "P",
        "provider": "Provider",
        "start": START,
        "end": START + timedelta(days=400),
        "rounding": draw(st.sampled_from(["half_up", "half_even", "down"])),
        "caps": caps,
        "payers": payers,
        "outcomes": outcomes,
        "rate_cards": [
            {
                "version": "v1",
                "effective_from": START,
                "indexation": {"annual_rate": "0.035", "base_date": START - timedelta(days=200)},
                "outcomes": [{"id": o["id"], "price_pence": draw(st.integers(0, 20_000)), "allow_zero": True}
                             for o in outcomes],
            }
        ],
    }
    return contract_from_mapping(data, "property.toml")


@st.composite
def claim_inputs(draw):
    contract = draw(contracts())
    n = draw(st.integers(0, 40))
    participants = st.sampled_from([f"P{i}" for i in range(6)])
    rows = draw(
        st.lists(
            st.tuples(participants, st.sampled_from(contract.outcome_ids), st.integers(0, 399), st.booleans()),
            min_size=n,
            max_size=n,
        )
    )
    frame = pd.DataFrame(
        {
            "participant_id": pd.Series([r[0] for r in rows], dtype=object),
            "outcome_id": pd.Series([r[1] for r in rows], dtype=object),
            "achieved_on": pd.to_datetime([START + timedelta(days=r[2]) for r in rows]),
            "evidence_ref": "doc",
            "row_number": np.arange(2, n + 2),
            "accepted": [r[3] for r in rows],
            "reason": ["" if r[3] else "evidence_missing" for r in rows],
        }
    )
    prior = PriorPaid(
        by_participant={p: draw(st.integers(0, 30_000)) for p in draw(st.sets(participants, max_size=3))},
        by_outcome_count={o: draw(st.integers(0, 4)) for o in draw(st.sets(st.sampled_from(contract.outcome_ids)))},
        by_outcome_pence={o: draw(st.integers(0, 30_000)) for o in draw(st.sets(st.sampled_from(contract.outcome_ids)))},
        contract_pence=draw(st.integers(0, 50_000)),
        by_payer={p: draw(st.integers(0, 20_000)) for p in contract.payer_ids if draw(st.booleans())},
    )
    return contract, frame, prior


@given(claim_inputs())
def test_no_cap_is_ever_exceeded(inputs):
    contract, frame, prior = inputs
    lines = run_claim(frame, contract, prior)
    net = lines["net_pence"]
    assert (net >= 0).all() and (net <= lines["gross_pence"]).all()

    if contract.participant_cap_pence is not None:
        paid = net.groupby(lines["participant_id"]).sum()
        for participant_id, amount in paid.items():
            before = prior.by_participant.get(participant_id, 0)
            # A cap already exceeded before the run means nothing more, never a negative line.
            assert amount <= max(contract.participant_cap_pence - before, 0)

    for outcome in contract.outcomes:
        mine = lines[(lines["outcome_id"] == outcome.outcome_id) & (net > 0)]
        if outcome.count_cap is not None:
            assert len(mine) <= max(outcome.count_cap - prior.by_outcome_count.get(outcome.outcome_id, 0), 0)
        if outcome.value_cap_pence is not None:
            assert mine["net_pence"].sum() <= max(
                outcome.value_cap_pence - prior.by_outcome_pence.get(outcome.outcome_id, 0), 0
            )

    if contract.contract_cap_pence is not None:
        assert net.sum() <= max(contract.contract_cap_pence - prior.contract_pence, 0)

    for payer in contract.payers:
        if payer.cap_pence is not None:
            assert lines[share_column(payer.payer_id)].sum() <= max(payer.cap_pence - prior.by_payer.get(payer.payer_id, 0), 0)


@given(claim_inputs())
def test_payer_shares_add_up_to_each_line_net(inputs):
    contract, frame, prior = inputs
    lines = run_claim(frame, contract, prior)
    shares = sum(lines[share_column(p)] for p in contract.payer_ids)
    assert (shares == lines["net_pence"]).all()
    for payer_id in contract.payer_ids:
        assert (lines[share_column(payer_id)] >= 0).all()
        assert lines[share_column(payer_id)].dtype == np.int64


@given(claim_inputs())
def test_running_twice_or_from_shuffled_rows_gives_identical_results(inputs):
    contract, frame, prior = inputs
    first = run_claim(frame, contract, prior)
    again = run_claim(frame, contract, prior)
    pd.testing.assert_frame_equal(first, again)
    shuffled = frame.sample(frac=1.0, random_state=7) if len(frame) else frame
    from_shuffled = run_claim(shuffled.reset_index(drop=True), contract, prior)
    pd.testing.assert_frame_equal(first, from_shuffled)


@given(claim_inputs())
def test_gross_less_every_reduction_is_net(inputs):
    contract, frame, prior = inputs
    lines = run_claim(frame, contract, prior)
    reductions = lines.filter(regex=r"^reduction_.*_pence$").sum(axis=1)
    assert (lines["gross_pence"] - reductions == lines["net_pence"]).all()
    assert ((reductions > 0) == (lines["cap_reason"] == "cap")).all()
