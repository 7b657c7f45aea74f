"""Mechanism results as claim lines (ledger/pbr/mechanism_claims.py): the parts billed, the
Peterborough rule over periods, and the statement's inputs turning back into the same figures."""

from __future__ import annotations

import pytest

from ledger.errors import ValidationError
from ledger.pbr.mechanism_claims import figures_from_input_rows, outcome_id_for, parse_outcome_id
from ledger.pbr.mechanism_inputs import compute_mechanism
from ledger.periods import Period

Q3 = Period.parse("2026Q3")
COHORT = {"price_per_event": "5000.00", "cohort_threshold": "0.10", "overall_threshold": "0.075"}


def cohort(name, events):
    return {"name": name, "intervention_size": 1000, "intervention_events": events, "comparison_size": 1000,
            "comparison_events": 800}


def test_the_overall_threshold_never_pays_a_single_early_cohort():
    # 721 events: 9.875% misses the cohort's 10% but would clear the overall 7.5%: early, it pays nothing
    payment, result = compute_mechanism("cohort_comparison", COHORT, {"cohorts": [cohort("c1", 721)]}, Q3)
    assert payment == 0 and result["parts"] == [["cohort c1: own test", 0]]
    # the same cohort as the final test over all cohorts: 79 events x 5,000.00
    payment, result = compute_mechanism("cohort_comparison", COHORT, {"cohorts": [cohort("c1", 721)], "final": True},
                                        Q3)
    assert payment == 39_500_000 and result["parts"][-1] == ["final test over all cohorts", 39_500_000]


def test_the_final_test_pays_only_what_the_cohort_payments_did_not():
    paid, early = compute_mechanism("cohort_comparison", COHORT, {"cohorts": [cohort("c1", 720)]}, Q3)
    assert paid == 40_000_000
    final, result = compute_mechanism("cohort_comparison", COHORT,
                                      {"cohorts": [cohort("c1", 720), cohort("c2", 760)], "final": True},
                                      Period.parse("2026Q4"), [early])
    # overall 7.5%: 120 events x 5,000.00 = 600,000.00, of which 400,000.00 was paid early
    assert final == 20_000_000 and paid + final == 60_000_000
    # an overall result below what the cohorts were paid pays nothing, and claws nothing back
    low, _ = compute_mechanism("cohort_comparison", COHORT,
                               {"cohorts": [cohort("c1", 720), cohort("c2", 800)], "final": True},
                               Period.parse("2026Q4"), [early])
    assert low == 0
    _, final_result = compute_mechanism("cohort_comparison", COHORT,
                                        {"cohorts": [cohort("c1", 720), cohort("c2", 760)], "final": True},
                                        Period.parse("2026Q4"), [early])
    with pytest.raises(ValidationError, match="the final test over all cohorts was already paid"):
        compute_mechanism("cohort_comparison", COHORT, {"cohorts": [cohort("c3", 700)]}, Period.parse("2027Q1"),
                          [early, final_result])
    with pytest.raises(ValidationError, match="missing c1"):
        compute_mechanism("cohort_comparison", COHORT, {"cohorts": [cohort("c2", 760)], "final": True},
                          Period.parse("2026Q4"), [early])


CASES = [
    ("baseline_reduction", {"baseline_units": 10000, "price_per_unit": "120.50", "cap": "80000.00"},
     {"actual_units": 9200}, [{"payment_pence": 7_500_000}], 500_000),
    ("per_day", {"price_per_day": "15.12", "participant_cap": "500.00"},
     {"spells": [{"participant_id": "P1", "start": "2026-07-01"}]},
     [{"by_participant": [{"participant_id": "P1", "payment_pence": 40_000}]}], 10_000),
    ("tiered_bands", {"bands": [{"from": "0.05", "payment": "10000.00"}, {"from": "0.10", "payment": "25000.00"}]},
     {"improvement": "0.0999"}, [], 1_000_000),
    ("savings_share", {"share_until_repaid": "0.95", "share_after_repaid": "0.40", "principal": "10000.00",
                       "interest_rate": "0.05"}, {"savings": "7000.00"}, [{"savings_pence": 500_000}], 612_895),
]


@pytest.mark.parametrize(("kind", "params", "figures", "earlier", "payment"), CASES)
def test_the_statement_inputs_give_back_the_same_payment_and_formula(kind, params, figures, earlier, payment):
    paid, result = compute_mechanism(kind, params, figures, Q3, earlier)
    assert paid == payment == sum(p for _, p in result["parts"])
    rows = [{k: str(v) for k, v in r.items()} for r in result["inputs"]]  # as the CSV holds them
    again_figures, again_earlier = figures_from_input_rows(kind, rows)
    again, again_result = compute_mechanism(kind, params, again_figures, Q3, again_earlier)
    assert again == paid and again_result["formula"] == result["formula"]


def test_mechanism_outcome_ids_cannot_be_a_contract_outcome():
    assert outcome_id_for(2, "per_day") == "mechanism:2:per_day"
    assert parse_outcome_id("mechanism:2:per_day") == (2, "per_day")
    assert parse_outcome_id("entry") is None and parse_outcome_id("mechanism:x:per_day") is None
