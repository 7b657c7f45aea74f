"""The incubator call's pure rules (ledger/calls.py): the call file, budget checks,
eligibility reasons, weighted scores and tranches."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.calls import (
    Call, application_score, budget_problems, call_open_problem, check_org_id, check_scores, eligibility_reasons,
    fund_award, make_application, parse_call, tranche_amounts, weighted_score,
)  # fmt: skip
from ledger.errors import ValidationError
from ledger.funds import Restriction

CALL_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "calls" / "ageing_call.toml"
TEXT = CALL_FILE.read_text()
GROUP = ("charitable", None, "ageing")


@pytest.fixture
def call() -> Call:
    return parse_call(TEXT)


def _app(**over):
    values = dict(reference="A1", org_id="GB-CHC-1123456", org_name="Sefton Silver Line", org_type="charity",
                  org_size="small", area="sefton", theme="ageing", project="Befriending", outcomes="less loneliness",
                  amount="8000.00", submitted_on="2026-04-20")
    return make_application({**values, **over})


def test_the_call_file_round_trips_through_its_stored_rules(call):
    assert call.budget_pence == 1_500_000 and call.theme == "ageing" and [c.weight for c in call.criteria] == [40, 40, 20]
    assert Call.from_rules(call.id, call.fund, call.rules()) == call


@pytest.mark.parametrize("change, message", [
    (('share_percent = 50\n\n[[milestones]]', 'share_percent = 40\n\n[[milestones]]'), "add up to 100"),
    (('closes_on = 2026-06-30', 'closes_on = 2026-03-01'), "before opens_on"),
    (('amount = "15000.00"', 'amount = "15000.001"'), "budget 1: amount"),
    (('weight = 20', 'weight = 0'), "criteria 3: weight"),
    (('org_sizes = ["micro"', 'org_sizes = ["huge"'), "eligibility.org_sizes: huge"),
])  # fmt: skip
def test_a_bad_call_file_names_the_field(change, message):
    with pytest.raises(ValidationError, match=message):
        parse_call(TEXT.replace(*change))


def test_the_budget_needs_suitable_money(call):
    ok = {"ageing": Restriction("ageing", "lcr-outcomes", "Ageing", theme="ageing")}
    assert budget_problems(call, ok, {GROUP: 1_500_000}) == []
    short = budget_problems(call, ok, {GROUP: 1_499_999})
    assert short and "15000.00 GBP asked, 14999.99 GBP available" in short[0]
    wrong = {"ageing": Restriction("ageing", "lcr-outcomes", "Youth", theme="youth")}
    assert "does not permit the call's theme ageing" in budget_problems(call, wrong, {GROUP: 9_000_000})[0]


def test_eligibility_gives_every_reason(call):
    assert eligibility_reasons(call, _app()) == []
    reasons = eligibility_reasons(call, _app(org_size="large", area="manchester", theme="youth", amount="12000.00"))
    assert len(reasons) == 4
    assert any("size large" in r for r in reasons) and any("area manchester" in r for r in reasons)
    assert any("theme youth" in r for r in reasons) and any("largest award" in r for r in reasons)


@pytest.mark.parametrize("org_id", ["GB-CHC-12", "GB-COH-1234567", "gb-chc-1123456", "US-EIN-123456789", ""])
def test_an_org_id_is_a_charity_or_company_number(org_id):
    with pytest.raises(ValidationError, match="org-id"):
        check_org_id(org_id)


def test_a_closed_call_accepts_nothing(call):
    assert call_open_problem(call, date(2026, 4, 1), None) is None
    assert "opens on" in call_open_problem(call, date(2026, 3, 31), None)
    assert "closed on 2026-06-30" in call_open_problem(call, date(2026, 7, 1), None)
    assert "was closed on 2026-05-01" in call_open_problem(call, date(2026, 5, 1), date(2026, 5, 1))


def test_scores_are_weighted_and_averaged(call):
    bob = {"need": 4, "outcomes": 4, "capacity": 3}
    ann = {"need": 5, "outcomes": 5, "capacity": 5}
    assert weighted_score(call, bob) == 76
    assert application_score(call, {"bob": bob, "ann": ann}) == 88
    assert application_score(call, {}) is None
    with pytest.raises(ValidationError, match="missing capacity"):
        check_scores(call, {"need": 1, "outcomes": 1})
    with pytest.raises(ValidationError, match="from 0 to 5"):
        check_scores(call, {"need": 6, "outcomes": 1, "capacity": 1})


@given(st.integers(min_value=1, max_value=10**10))
def test_tranches_conserve_the_award(amount_pence):
    call = parse_call(TEXT)
    parts = tranche_amounts(call, amount_pence)
    assert sum(parts) == amount_pence and abs(parts[0] - parts[1]) <= 1


@given(st.dictionaries(st.sampled_from(["need", "outcomes", "capacity"]), st.integers(0, 5), min_size=3, max_size=3))
def test_a_weighted_score_is_between_0_and_100(scores):
    assert Fraction(0) <= weighted_score(parse_call(TEXT), scores) <= 100


def test_an_award_is_funded_from_a_line_with_room(call):
    assert fund_award(call, 800_000, {GROUP: 800_000}).group == GROUP
    with pytest.raises(ValidationError, match="no budget line has 8000.00"):
        fund_award(call, 800_000, {GROUP: 799_999})
