"""The value arithmetic of ledger/values.py: uprating with a deflator, deadweight, attribution,
optimism bias, duration and decay, discounting, BCR, ROI and payback, and the value-table
parser's collected errors. docs/value.md states the method."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from ledger.errors import ImportRejected
from ledger.pbr.contracts import load_contract_toml
from ledger.values import (Deflator, OutcomeValue, ValueLine, bcr, benefits_by_year, deflator_from_mapping,
                           discount_factor, financial_year, net_of_adjustments, payback_years, roi, uprate,
                           uprate_factor, value_line, value_table_from_mapping, year_factors)

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "fixtures" / "values"
DEFLATOR = Deflator("test", "test series", {"2015-16": D("80"), "2020-21": D("90"), "2025-26": D("100")})


def test_financial_year_runs_april_to_march():
    assert financial_year(date(2025, 12, 31)) == "2025-26"
    assert financial_year(date(2026, 3, 31)) == "2025-26"
    assert financial_year(date(2026, 4, 1)) == "2026-27"
    assert financial_year(date(1999, 4, 1)) == "1999-00"


def test_uprating_is_the_ratio_of_the_indices_rounded_half_up():
    assert uprate_factor(DEFLATOR, "2015-16", "2025-26") == D("1.25")
    assert uprate(1000_00, DEFLATOR, "2015-16", "2025-26") == 1250_00
    assert uprate(1, DEFLATOR, "2020-21", "2025-26") == 1  # 1.111... pence -> 1
    assert uprate(9, DEFLATOR, "2020-21", "2025-26") == 10  # 10.0 exactly
    assert uprate(1000_00, DEFLATOR, "2025-26", "2015-16") == 800_00  # deflating back


def test_a_year_missing_from_the_deflator_is_a_clear_error():
    with pytest.raises(ValueError, match="no index for 2010-11"):
        uprate(100, DEFLATOR, "2010-11", "2025-26")


def test_green_book_discount_factors_at_3_5_percent():
    # The Green Book's discount factors at the 3.5% social time preference rate (years 0-30):
    # 1 / 1.035 ** t, published to four places: year 1 0.9662, year 10 0.7089, year 30 0.3563.
    rate = D("0.035")
    assert discount_factor(0, rate) == 1
    assert discount_factor(1, rate).quantize(D("0.0001")) == D("0.9662")
    assert discount_factor(10, rate).quantize(D("0.0001")) == D("0.7089")
    assert discount_factor(30, rate).quantize(D("0.0001")) == D("0.3563")


def test_deadweight_attribution_and_optimism_bias_multiply_in_turn():
    # £10,000 gross; 20% would have happened anyway; 80% due to this intervention; 10% optimism
    # bias off for the evidence: 10,000 x 0.8 x 0.8 x 0.9 = 5,760.
    assert net_of_adjustments(D(10000), D("0.20"), D("0.80"), D("0.10")) == D(5760)
    assert net_of_adjustments(D(10000), D("1"), D("0.80"), D("0")) == 0  # all deadweight: nothing
    assert net_of_adjustments(D(10000), D("0"), D("1"), D("0")) == D(10000)  # no adjustment


def test_duration_and_decay_then_discounting():
    factors = year_factors(3, D("0.25"), D("0.035"))
    assert factors[0] == 1
    assert factors[1].quantize(D("1e-12")) == D("0.724637681159")  # 0.75 / 1.035
    assert factors[2].quantize(D("1e-12")) == D("0.525099768956")  # 0.5625 / 1.035 ** 2
    assert year_factors(2, D("1"), D("0")) == (1, 0)  # decays to nothing after year 0


def _worked_line():
    outcome = OutcomeValue("housed", D("0.20"), D("0.80"), 3, D("0.25"), ())
    line = ValueLine("fiscal", "local_authority", 8000_00, "2015-16", D("1"), "s", 3, D("0.10"))
    return outcome, line


def test_worked_example_one_outcome_line_end_to_end():
    # A £8,000 (2015-16 prices) saving to the council, uprated to 2025-26 (x 1.25 = £10,000),
    # then 5,760 a year after the adjustments above, lasting 3 years with 25% decay a year,
    # discounted at 3.5%: 5,760 + 4,173.913... + 3,024.574... = £12,958.4877... per outcome.
    outcome, line = _worked_line()
    result = value_line(outcome, line, 10, DEFLATOR, "2025-26", D("0.035"))
    assert result.uprated_pence == 10000_00
    assert result.unit_value.quantize(D("0.0001")) == D("1295848.7713")
    assert result.total_pence == 12958488  # 10 outcomes x 1,295,848.77 pence, rounded once
    assert result.year_pence == (5760000, 4173913, 3024575)
    assert sum(result.year_pence) == result.total_pence  # the year profile conserves the total


def test_bcr_roi_and_payback():
    assert bcr(3_000, 1_000) == D("3.00")
    assert roi(3_000, 1_000) == D("2.00")
    assert roi(500, 1_000) == D("-0.50")
    assert bcr(1, 0) is None and roi(1, 0) is None  # no costs: no ratio, never a division error
    assert bcr(2, 3) == D("0.67")  # half-up to two places
    assert payback_years(10_000, (4_000, 4_000, 4_000)) == D("2.50")
    assert payback_years(10_000, (10_000,)) == D("1.00")
    assert payback_years(10_000, (2_500,)) is None  # never paid back within the benefit's life
    assert payback_years(0, ()) == 0


def test_benefits_by_year_sums_only_the_kinds_asked_for():
    outcome, line = _worked_line()
    fiscal = value_line(outcome, line, 1, DEFLATOR, "2025-26", D("0.035"))
    social = value_line(outcome, ValueLine("social", None, 100_00, "2025-26", D("1"), "s", 3, D("0")),
                        1, DEFLATOR, "2025-26", D("0"))
    assert benefits_by_year([fiscal, social]) == fiscal.year_pence
    assert sum(benefits_by_year([fiscal, social], ("fiscal", "social"))) == fiscal.total_pence + social.total_pence


def _deflator():
    return deflator_from_mapping(tomllib.loads((VALUES / "gdp_deflator.toml").read_text()), "gdp_deflator.toml")


@pytest.mark.parametrize("name", ["complex_needs", "youth_employment", "leaving_homelessness", "ageing_well"])
def test_every_demo_value_table_parses_against_its_contract(name):
    contract = load_contract_toml((ROOT / "fixtures" / "demo" / "contracts" / f"{name}.toml").read_text(), name)
    data = tomllib.loads((VALUES / f"{name}.toml").read_text())
    table = value_table_from_mapping(data, f"{name}.toml", _deflator(), [o.outcome_id for o in contract.outcomes])
    assert table.contract == contract.contract_id
    assert table.discount_rate == D("0.035")
    lines = [line for o in table.version_on(date(2025, 12, 31)).outcomes for line in o.lines]
    assert lines and all(line.source in table.sources for line in lines)
    assert all(table.sources[line.source].checked in ("original", "second-hand") for line in lines)


def test_a_bad_value_table_reports_every_problem_at_once():
    data = {"id": "t", "contract": "c", "versions": [{"version": "1", "effective_from": date(2024, 1, 1), "outcomes": [
        {"outcome": "nope", "deadweight": "1.5", "attribution": 0.8, "values": [
            {"kind": "fiscal", "agency": "treasury", "amount": "12.345", "price_year": "2030-31",
             "source": "missing", "evidence_grade": 9, "optimism_bias": "0.1"}]}]}]}
    with pytest.raises(ImportRejected) as caught:
        value_table_from_mapping(data, "bad.toml", DEFLATOR, ["housed"])
    problems = "\n".join(caught.value.problems)
    for expected in ("'nope' is not an outcome of the contract", "deadweight: 1.5 must be between 0 and 1",
                     "attribution: must be a decimal in quotes", "agency: a fiscal value names the agency",
                     "more than 2 decimal places", "2030-31 is not in the deflator series",
                     "'missing' is not one of the table's [[sources]]", "evidence_grade: must be a whole number"):
        assert expected in problems
    assert all(p.startswith("bad.toml: ") for p in caught.value.problems)


def test_a_bad_deflator_is_refused():
    with pytest.raises(ImportRejected) as caught:
        deflator_from_mapping({"name": "d", "citation": "c", "years": [{"year": "2020-22", "index": "90"},
                                                                       {"year": "2021-22", "index": "0"}]}, "d.toml")
    assert any("not a financial year" in p for p in caught.value.problems)
    assert any("must be above 0" in p for p in caught.value.problems)
