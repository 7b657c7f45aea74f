"""The demo fund's generated data is pure and seeded: same seed, identical data; another seed,
different data; the shape holds at any size."""

from __future__ import annotations

import pandas as pd
import pytest

from ledger import demo_data as data


def generate(seed: int, participants: int = 400, quarters: int = 8):
    registers = data.participants(seed, participants, quarters)
    events = data.outcome_events(seed, registers, quarters)
    setup = data.fund_setup(participants)
    flows = [data.flow_rows(setup, q) for q in range(1, quarters + 1)]
    figures = [data.mechanism_figures(seed, q) for q in data.quarters_of(quarters)]
    return registers, events, setup, flows, figures


def test_same_seed_gives_identical_data():
    a, b = generate(7), generate(7)
    for contract in data.CONTRACT_IDS:
        pd.testing.assert_frame_equal(a[0][contract], b[0][contract])
        pd.testing.assert_frame_equal(a[1][contract], b[1][contract])
    assert a[2:] == b[2:]


def test_another_seed_gives_different_data():
    a, b = generate(7), generate(8)
    assert any(not a[0][c].equals(b[0][c]) for c in data.CONTRACT_IDS)
    assert any(not a[1][c].equals(b[1][c]) for c in data.CONTRACT_IDS)
    assert a[4] != b[4]


def test_participants_are_split_over_the_contracts_exactly():
    registers = data.participants(1, 3001, 8)
    assert sum(len(r) for r in registers.values()) == 3001
    assert set(registers["lcr-complex-needs"]["partner"]) <= {"", "birkenhead-housing", "st-helens-mind",
                                                              "halton-recovery"}
    for register in registers.values():
        assert register["participant_id"].is_unique
        assert (register["start_date"] < "2025-07-01").all()  # inside the referral window


def test_milestones_follow_the_outcome_they_require():
    registers = data.participants(3, 600, 8)
    events = data.outcome_events(3, registers, 8)["lcr-complex-needs"]
    first = events.pivot_table(index="participant_id", columns="outcome_id", values="achieved_on", aggfunc="min")
    both = first.dropna(subset=["accommodation_3m", "accommodation_6m"])
    assert len(both) > 0 and (both["accommodation_3m"] < both["accommodation_6m"]).all()
    assert (events["achieved_on"] < "2026-01-01").all()  # only what happened by the end of the last quarter


def test_calls_and_disbursements_conserve_the_commitments():
    setup = data.fund_setup(3000)
    committed = sum(a for c in data.commitments_pence(setup).values() for _, a in c)
    rows = [r for q in range(1, 9) for r in data.flow_rows(setup, q)]
    def pence(kind):
        return sum(int(round(float(r["amount"]) * 100)) for r in rows if r["event"] == kind)
    assert pence("drawdown_notice") == pence("drawdown_received") == committed
    assert pence("disbursement") <= committed


@pytest.mark.parametrize("participants, quarters", [(3, 8), (100, 3), (100, 13)])
def test_sizes_outside_the_shape_are_refused(participants, quarters):
    with pytest.raises(ValueError):
        data.check_size(participants, quarters)
