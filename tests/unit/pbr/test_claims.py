"""The claim run: pricing, caps and payer split, with figures worked by hand."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ledger.money import round_minor
from ledger.pbr.claims import (
    CAP_KINDS,
    PriorPaid,
    apply_caps,
    price_events,
    reduction_column,
    round_ratio_pence,
    run_claim,
    share_column,
    split_payers,
    summarise,
)
from ledger.pbr.contracts import contract_from_mapping, load_contract_toml
from ledger.pbr.eligibility import validate_events

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def make_contract(prices: dict[str, str], **changes):
    """A small contract: each outcome in ``prices`` priced in one version from 2024-01-01."""
    data = {
        "id": "c1",
        "name": "Test contract",
        "project": "PRJ-1",
        "provider": "Provider Ltd",
        "start": date(2024, 1, 1),
        "end": date(2028, 1, 1),
        "payers": [{"id": "council", "name": "Council"}],
        "outcomes": [{"id": o, "definition": o} for o in prices],
        "rate_cards": [
            {"version": "v1", "effective_from": date(2024, 1, 1), "outcomes": [{"id": o, "price": p} for o, p in prices.items()]}
        ],
    }
    data.update(changes)
    return contract_from_mapping(data, "test.toml")


def events(*rows):
    """rows: (participant, outcome, achieved_on)."""
    return pd.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "outcome_id": [r[1] for r in rows],
            "achieved_on": pd.to_datetime([r[2] for r in rows]),
            "evidence_ref": "doc",
            "row_number": np.arange(2, len(rows) + 2),
        }
    )


def by_row(lines: pd.DataFrame, column: str) -> list:
    return list(lines.sort_values("row_number")[column])


# --- rate card versions and indexation ---------------------------------------------------------


def versioned_contract(rounding="half_up", base="1200.00", rate="0.025"):
    return make_contract(
        {"x": "1000.00"},
        rounding=rounding,
        rate_cards=[
            {"version": "v1", "effective_from": date(2024, 1, 1), "effective_to": date(2025, 1, 1),
             "outcomes": [{"id": "x", "price": "1000.00"}]},
            {"version": "v2", "effective_from": date(2025, 1, 1),
             "indexation": {"annual_rate": rate, "base_date": date(2025, 1, 1)},
             "outcomes": [{"id": "x", "price": base}]},
        ],
    )  # fmt: skip


def test_price_from_the_version_in_force_with_indexation():
    contract = versioned_contract()
    lines = price_events(
        events(
            ("P1", "x", "2024-12-31"),  # v1
            ("P1", "x", "2025-01-01"),  # v2, no whole year yet
            ("P1", "x", "2025-12-31"),  # still 0 years
            ("P1", "x", "2026-01-01"),  # 1 year: 1200.00 x 1.025 = 1230.00
            ("P1", "x", "2027-01-01"),  # 2 years: 1200.00 x 1.050625 = 1260.75
        ),
        contract,
    )
    assert list(lines["rate_card_version"]) == ["v1", "v2", "v2", "v2", "v2"]
    assert list(lines["price_pence"]) == [100_000, 120_000, 120_000, 123_000, 126_075]
    assert lines["price_pence"].dtype == np.int64


@pytest.mark.parametrize("rounding, expected", [("half_up", [152, 155]), ("half_even", [152, 154]), ("down", [151, 154])])
def test_indexation_rounds_with_the_contract_mode(rounding, expected):
    # 1.01 x 1.5 = 1.515 -> 151.5p; 1.03 x 1.5 = 154.5p: ties show the mode.
    for base, want in zip(["1.01", "1.03"], expected):
        contract = versioned_contract(rounding=rounding, base=base, rate="0.5")
        lines = price_events(events(("P1", "x", "2026-01-01")), contract)
        assert list(lines["price_pence"]) == [want]


def test_rejected_events_keep_their_price_but_pay_nothing():
    contract = make_contract({"x": "10.00"})
    frame = events(("P1", "x", "2024-02-01"), ("P2", "x", "2024-02-01"))
    frame["accepted"] = [True, False]
    frame["reason"] = ["", "evidence_missing"]
    lines = price_events(frame, contract)
    assert list(lines["price_pence"]) == [1000, 1000]
    assert list(lines["gross_pence"]) == [1000, 0]


# --- per-participant cap: DWP Innovation Fund Round 1 (GO Lab INDIGO, INDIGO-POJ-0143) ---------


def innovation_fund():
    path = FIXTURES / "contracts" / "innovation_fund_round1.toml"
    return load_contract_toml(path.read_text(), path.name)


def test_innovation_fund_round1_caps_each_participant_at_8200():
    contract = innovation_fund()
    outcomes = [p.outcome_id for p in contract.rate_cards[0].prices]  # nine tariffs, 15,100 GBP in all
    rows = [("P1", o, f"2013-01-{day:02d}") for day, o in enumerate(outcomes, start=1)]
    rows += [("P2", "improved_behaviour", "2013-01-01"), ("P2", "employment_13w", "2013-02-01")]
    lines = run_claim(events(*rows), contract)
    p1 = lines[lines["participant_id"] == "P1"]
    # 1300 + 800 + 700 + 2200 = 5000; Level 3 (3300) crosses 8200 and is cut to 3200.
    assert list(p1["net_pence"]) == [130_000, 80_000, 70_000, 220_000, 320_000, 0, 0, 0, 0]
    assert list(p1[reduction_column("participant_cap")]) == [0, 0, 0, 0, 10_000, 200_000, 120_000, 260_000, 100_000]
    assert list(p1["participant_paid_cum_pence"]) == [130_000, 210_000, 280_000, 500_000] + [820_000] * 5
    assert list(p1["participant_headroom_pence"]) == [690_000, 610_000, 540_000, 320_000] + [0] * 5
    assert list(p1["cap_reason"]) == [""] * 4 + ["cap"] * 5
    assert set(p1["cap_applied"][4:]) == {"participant_cap"}
    p2 = lines[lines["participant_id"] == "P2"]
    assert list(p2["net_pence"]) == [130_000, 260_000]
    assert int(lines["net_pence"].sum()) == 820_000 + 390_000


def test_participant_cap_is_cumulative_across_runs():
    contract = innovation_fund()
    first = run_claim(events(("P1", "first_level3", "2013-01-01"), ("P1", "first_level2", "2013-01-02")), contract)
    prior = PriorPaid.from_lines(first, contract)
    assert prior.by_participant == {"P1": 550_000}
    second = run_claim(events(("P1", "employment_13w", "2013-06-01"), ("P1", "employment_26w", "2013-12-01")), contract, prior)
    # 8200 - 5500 = 2700 left: 2600 paid in full, then 100 of 1000.
    assert list(second["net_pence"]) == [260_000, 10_000]
    assert list(second["participant_paid_cum_pence"]) == [810_000, 820_000]


# --- per-outcome count and value caps ---------------------------------------------------------


def outcome_capped_contract():
    return make_contract(
        {"x": "500.00", "y": "300.00"},
        outcomes=[
            {"id": "x", "definition": "x", "count_cap": 2},
            {"id": "y", "definition": "y", "value_cap": "700.00"},
        ],
    )


def test_outcome_count_cap_pays_the_first_lines_in_claim_order():
    lines = run_claim(events(("P3", "x", "2024-02-01"), ("P1", "x", "2024-02-01"), ("P2", "x", "2024-02-01")), outcome_capped_contract())
    # Same day, same outcome: participant id decides. P1, P2 paid; P3 over the count of 2.
    assert list(lines["participant_id"]) == ["P1", "P2", "P3"]
    assert list(lines["net_pence"]) == [50_000, 50_000, 0]
    assert list(lines[reduction_column("outcome_count_cap")]) == [0, 0, 50_000]
    assert list(lines["cap_applied"]) == ["", "", "outcome_count_cap"]


def test_outcome_count_cap_counts_earlier_runs():
    prior = PriorPaid(by_outcome_count={"x": 1}, by_outcome_pence={"x": 50_000})
    lines = run_claim(events(("P1", "x", "2024-02-01"), ("P2", "x", "2024-02-01")), outcome_capped_contract(), prior)
    assert list(lines["net_pence"]) == [50_000, 0]


def test_outcome_value_cap_truncates_the_crossing_line():
    lines = run_claim(
        events(("P1", "y", "2024-02-01"), ("P2", "y", "2024-02-02"), ("P3", "y", "2024-02-03"), ("P4", "y", "2024-02-04")),
        outcome_capped_contract(),
    )
    assert list(lines["net_pence"]) == [30_000, 30_000, 10_000, 0]
    assert list(lines[reduction_column("outcome_value_cap")]) == [0, 0, 20_000, 30_000]
    assert list(lines["cap_reason"]) == ["", "", "cap", "cap"]


# --- contract cap ----------------------------------------------------------------------------


def test_contract_cap_truncates_the_crossing_line_and_zeroes_the_rest():
    contract = make_contract({"x": "400.00"}, caps={"contract": "1000.00"})
    lines = run_claim(
        events(("P4", "x", "2024-03-01"), ("P1", "x", "2024-02-01"), ("P2", "x", "2024-02-02"), ("P3", "x", "2024-02-03")),
        contract,
    )
    assert list(lines["participant_id"]) == ["P1", "P2", "P3", "P4"]
    assert list(lines["gross_pence"]) == [40_000] * 4
    assert list(lines["net_pence"]) == [40_000, 40_000, 20_000, 0]
    assert list(lines[reduction_column("contract_cap")]) == [0, 0, 20_000, 40_000]
    assert list(lines["cap_applied"]) == ["", "", "contract_cap", "contract_cap"]


def test_caps_apply_in_order_and_all_are_named():
    contract = make_contract(
        {"x": "600.00"},
        caps={"per_participant": "1000.00", "contract": "1300.00"},
        outcomes=[{"id": "x", "definition": "x", "value_cap": "1500.00"}],
    )
    lines = run_claim(events(("P1", "x", "2024-02-01"), ("P1", "x", "2024-02-02"), ("P2", "x", "2024-02-03"), ("P3", "x", "2024-02-04")), contract)
    # P1: 600, then 400 (participant cap). Outcome value: 1000 so far, P2 600 -> 500 (value cap 1500).
    # Contract: 1500 > 1300, so P2's line is cut again to 300; P3 gets nothing (value cap first).
    assert list(lines["net_pence"]) == [60_000, 40_000, 30_000, 0]
    assert list(lines[reduction_column("participant_cap")]) == [0, 20_000, 0, 0]
    assert list(lines[reduction_column("outcome_value_cap")]) == [0, 0, 10_000, 60_000]
    assert list(lines[reduction_column("contract_cap")]) == [0, 0, 20_000, 0]
    assert list(lines["cap_applied"]) == ["", "participant_cap", "outcome_value_cap;contract_cap", "outcome_value_cap"]
    gross = lines["gross_pence"]
    reductions = sum(lines[reduction_column(k)] for k in CAP_KINDS)
    assert (gross - reductions == lines["net_pence"]).all()


# --- payers: shares, remainder and caps -------------------------------------------------------


def payers_contract(rounding="half_up"):
    return make_contract(
        {"x": "1000.00", "small": "0.05", "odd": "3.33"},
        rounding=rounding,
        payers=[
            {"id": "council", "name": "Council", "cap": "1000.00"},
            {"id": "central", "name": "Central top-up fund", "share": "0.30", "cap": "200.00"},
        ],
    )


def test_central_top_up_share_and_each_payers_cap():
    lines = run_claim(events(("P1", "x", "2024-02-01"), ("P2", "x", "2024-02-02"), ("P3", "x", "2024-02-03")), payers_contract())
    # Each line 1000.00: central 30% = 300.00, council 700.00.
    # Central cap 200.00: 200 on line 1, nothing after. Council cap 1000.00: 700, 300, 0.
    assert list(lines[share_column("central")]) == [20_000, 0, 0]
    assert list(lines[share_column("council")]) == [70_000, 30_000, 0]
    assert list(lines["payer_cap_reduction_central_pence"]) == [10_000, 30_000, 30_000]
    assert list(lines["payer_cap_reduction_council_pence"]) == [0, 40_000, 70_000]
    assert list(lines["net_pence"]) == [90_000, 30_000, 0]
    assert list(lines[reduction_column("payer_cap")]) == [10_000, 70_000, 100_000]
    assert list(lines["cap_applied"]) == ["payer_cap"] * 3
    assert list(lines["participant_paid_cum_pence"]) == [90_000, 30_000, 0]


@pytest.mark.parametrize(
    "rounding, central",
    [("half_up", [2, 100]), ("half_even", [2, 100]), ("down", [1, 99])],
)
def test_fixed_share_is_rounded_and_the_remainder_payer_takes_the_rest(rounding, central):
    # 5p x 0.30 = 1.5p; 333p x 0.30 = 99.9p.
    lines = run_claim(events(("P1", "small", "2024-02-01"), ("P2", "odd", "2024-02-02")), payers_contract(rounding))
    assert list(lines[share_column("central")]) == central
    assert list(lines[share_column("council")]) == [5 - central[0], 333 - central[1]]
    assert list(lines[share_column("central")] + lines[share_column("council")]) == [5, 333]


def test_payer_cap_counts_earlier_runs():
    lines = run_claim(
        events(("P1", "x", "2024-02-01")), payers_contract(), PriorPaid(by_payer={"central": 15_000, "council": 0})
    )
    assert list(lines[share_column("central")]) == [5_000]


def test_round_ratio_matches_round_minor():
    values = np.array([0, 1, 5, 15, 333, 1_000_001, -5, -333, 2**40 + 7], dtype=np.int64)
    for share in ("0.30", "0.45", "0.125", "0.333333333333333333"):
        numerator, denominator = Decimal(share).as_integer_ratio()
        for mode in ("half_up", "half_even", "down"):
            expected = [round_minor(Decimal(int(v)) * Decimal(share), mode) for v in values]
            assert list(round_ratio_pence(values, numerator, denominator, mode)) == expected, (share, mode)


# --- claim order, determinism, dtypes ---------------------------------------------------------


def test_claim_order_is_date_then_outcome_then_participant():
    contract = make_contract({"a": "1.00", "b": "1.00"})
    lines = run_claim(
        events(("P2", "a", "2024-02-02"), ("P2", "b", "2024-02-01"), ("P1", "b", "2024-02-01"), ("P1", "a", "2024-02-01")),
        contract,
    )
    assert list(zip(lines["participant_id"], lines["outcome_id"])) == [("P1", "a"), ("P1", "b"), ("P2", "b"), ("P2", "a")]


def test_money_columns_are_int64_and_runs_repeat_exactly():
    contract = payers_contract()
    frame = events(("P1", "x", "2024-02-01"), ("P2", "odd", "2024-02-02"), ("P1", "small", "2024-02-01"))
    first, second = run_claim(frame, contract), run_claim(frame, contract)
    pd.testing.assert_frame_equal(first, second)
    for column in first.columns:
        if column.endswith("_pence") and column != "participant_headroom_pence":
            assert first[column].dtype == np.int64, column


def test_stages_can_run_one_by_one():
    contract = payers_contract()
    frame = events(("P1", "x", "2024-02-01"))
    staged = split_payers(apply_caps(price_events(frame, contract), contract), contract)
    pd.testing.assert_frame_equal(staged, run_claim(frame, contract))


# --- summary for the outcome payment statement ------------------------------------------------


def test_summary_per_outcome_and_headroom():
    contract = make_contract(
        {"x": "500.00", "y": "300.00"},
        caps={"per_participant": "700.00", "contract": "2000.00"},
        outcomes=[{"id": "x", "definition": "x", "count_cap": 3}, {"id": "y", "definition": "y", "value_cap": "600.00"}],
        payers=[{"id": "council", "name": "Council"}, {"id": "central", "name": "Central", "share": "0.30", "cap": "150.00"}],
    )
    frame = events(
        ("P1", "x", "2024-02-01"), ("P1", "y", "2024-02-02"), ("P2", "x", "2024-02-01"), ("P3", "y", "2024-02-03"),
        ("P4", "x", "2024-02-04"),
    )  # fmt: skip
    frame["accepted"] = [True, True, True, True, False]
    frame["reason"] = ["", "", "", "", "evidence_missing"]
    lines = run_claim(frame, contract)
    # Claim order: P1 x 500, P2 x 500, P1 y 300 -> 200 (participant cap 700), P3 y 300, P4 x rejected.
    # Central 30% with cap 150: 150 on P1 x, then nothing; council 70%.
    summary = summarise(lines, contract)
    by = summary.by_outcome.set_index("outcome_id")
    assert by.loc["x", "count_claimed"] == 3 and by.loc["x", "count_validated"] == 2
    assert by.loc["x", "rejected_evidence_missing"] == 1
    assert by.loc["x", "unit_price_pence"] == 50_000
    assert by.loc["x", "gross_pence"] == 100_000
    assert by.loc["y", "gross_pence"] == 60_000
    assert by.loc["y", reduction_column("participant_cap")] == 10_000
    # Central's 30%: 150.00, 150.00, 60.00, 90.00; only the first fits under its 150.00 cap.
    assert list(lines[share_column("central")]) == [15_000, 0, 0, 0, 0]
    assert list(lines[reduction_column("payer_cap")]) == [0, 15_000, 6_000, 9_000, 0]
    assert list(lines[share_column("council")]) == [35_000, 35_000, 14_000, 21_000, 0]
    assert summary.payers.set_index("payer_id").loc["central", "paid_pence"] == 15_000
    assert int(by["net_pence"].sum()) == int(lines["net_pence"].sum()) == 120_000
    participants = summary.participants.set_index("participant_id")
    assert participants.loc["P1", "cumulative_paid_pence"] == int(lines.loc[lines["participant_id"] == "P1", "net_pence"].sum())
    assert participants.loc["P1", "headroom_pence"] == 70_000 - participants.loc["P1", "cumulative_paid_pence"]
    outcomes = summary.outcomes.set_index("outcome_id")
    assert outcomes.loc["x", "count_headroom"] == 1
    payers = summary.payers.set_index("payer_id")
    assert payers.loc["central", "headroom_pence"] == 0
    assert pd.isna(payers.loc["council", "headroom_pence"])
    assert summary.contract.loc[0, "headroom_pence"] == 200_000 - int(lines["net_pence"].sum())
    assert int(payers["paid_pence"].sum()) == int(lines["net_pence"].sum())


# --- real figures: GO Lab INDIGO -------------------------------------------------------------


def test_fair_chance_fund_ambition_outcome_value_from_results_times_prices():
    # GO Lab INDIGO, INDIGO-POJ-0131 (Fair Chance Fund "Ambition"): 21 tariffs and the final
    # outcomes achieved; results x prices = 3,155,150.00 GBP.
    path = FIXTURES / "indigo" / "results_prices_INDIGO-POJ-0131.csv"
    with path.open() as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    assert len(rows) == 21
    contract = make_contract(
        {r["outcome_metric_id"]: r["price_gbp"] for r in rows},
        start=date(2015, 1, 1),
        end=date(2018, 1, 1),
        rate_cards=[
            {"version": "fcf", "effective_from": date(2015, 1, 1),
             "outcomes": [{"id": r["outcome_metric_id"], "price": r["price_gbp"]} for r in rows]}
        ],
    )  # fmt: skip
    event_rows = [
        (f"P{n:03d}", r["outcome_metric_id"], "2016-06-01") for r in rows for n in range(int(r["outcomes_achieved"]))
    ]
    frame = events(*event_rows)
    participants = pd.DataFrame({"participant_id": [f"P{n:03d}" for n in range(409)], "start_date": "2015-06-01"})
    assessed = validate_events(frame, contract, participants)
    assert assessed["accepted"].all()
    lines = run_claim(assessed, contract)
    assert len(lines) == 3_213  # outcomes achieved, summed over the 21 tariffs
    assert int(lines["net_pence"].sum()) == 315_515_000
    by = summarise(lines, contract).by_outcome.set_index("outcome_id")
    assert by.loc["outcomemetric5", "net_pence"] == 328 * 150_000
    assert by.loc["outcomemetric16", "count_validated"] == 68


def test_greater_manchester_contract_cap_binds_below_the_outcome_maxima():
    # GO Lab INDIGO, INDIGO-POJ-0154: per-outcome maxima sum to 7,656,000 GBP; the contract
    # cap of 2,629,000 GBP binds first.
    path = FIXTURES / "contracts" / "example_rough_sleeping.toml"
    contract = load_contract_toml(path.read_text(), path.name)
    outcome_ids = [p.outcome_id for p in contract.rate_cards[0].prices]
    frame = events(*[(f"P{n:03d}", o, "2019-06-03") for n in range(300) for o in outcome_ids])
    lines = run_claim(frame, contract)
    assert int(lines["gross_pence"].sum()) == 765_600_000
    assert int(lines["net_pence"].sum()) == 262_900_000
    cut = lines[lines[reduction_column("contract_cap")] > 0]
    crossing = cut.iloc[0]
    assert 0 < crossing["net_pence"] < crossing["gross_pence"]
    assert (cut.iloc[1:]["net_pence"] == 0).all()
    assert int(lines[share_column("mhclg")].sum()) == 262_900_000
