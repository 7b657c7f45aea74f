"""Outcomes contract files: the example loads with its cited figures; every bad input is named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import ImportRejected
from ledger.pbr.contracts import contract_from_mapping, load_contract_toml

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "contracts"

GOOD = """
id = "c1"
name = "Test contract"
project = "PRJ-1"
provider = "Provider Ltd"
start = 2024-01-01
end = 2026-01-01

[caps]
per_participant = "8200.00"
contract = "100000.00"

[[payers]]
id = "council"
name = "Council"
cap = "70000.00"

[[payers]]
id = "central"
name = "Central top-up"
share = "0.30"

[[outcomes]]
id = "acc_3m"
definition = "Accommodation sustained 3 months"

[[outcomes]]
id = "acc_6m"
definition = "Accommodation sustained 6 months"
requires = ["acc_3m"]

[[rate_cards]]
version = "v1"
effective_from = 2024-01-01
effective_to = 2025-01-01

[[rate_cards.outcomes]]
id = "acc_3m"
price = "1500.00"

[[rate_cards.outcomes]]
id = "acc_6m"
price_pence = 150000

[[rate_cards]]
version = "v2"
effective_from = 2025-01-01

[[rate_cards.outcomes]]
id = "acc_3m"
price = "1600.00"

[[rate_cards.outcomes]]
id = "acc_6m"
price = "1600.00"
"""


def rejected(text: str) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        load_contract_toml(text, "contract.toml")
    return caught.value.problems


def test_good_contract_loads():
    contract = load_contract_toml(GOOD, "contract.toml")
    assert contract.contract_id == "c1"
    assert contract.currency == "GBP" and contract.rounding == "half_up"
    assert contract.participant_cap_pence == 820_000
    assert contract.contract_cap_pence == 10_000_000
    assert [p.share for p in contract.payers] == [None, Decimal("0.30")]
    assert contract.remainder_payer.payer_id == "council"
    assert contract.outcome("acc_6m").requires == ("acc_3m",)
    assert contract.price_on("acc_6m", date(2024, 6, 1)) == 150_000
    assert contract.price_on("acc_6m", date(2025, 1, 1)) == 160_000
    assert contract.price_on("acc_6m", date(2023, 12, 31)) is None


def test_example_contract_carries_the_indigo_figures():
    # GO Lab INDIGO, INDIGO-POJ-0154: 22 prices, contract cap 2,629,000 GBP.
    path = FIXTURES / "example_rough_sleeping.toml"
    contract = load_contract_toml(path.read_text(), path.name)
    assert contract.project == "INDIGO-POJ-0154"
    assert len(contract.outcomes) == 22
    assert contract.contract_cap_pence == 262_900_000
    prices = {p.outcome_id: p.price_pence for p in contract.rate_cards[0].prices}
    assert prices["accommodation_entry"] == 60_000
    assert prices["accommodation_12m"] == 260_000
    assert prices["drug_treatment_sustained"] == 260_000
    assert sum(prices.values()) == 2_552_000
    assert contract.outcome("accommodation_entry").value_cap_pence == 18_000_000
    assert sum(o.value_cap_pence for o in contract.outcomes) == 765_600_000


MECHANISM = (
    '[[mechanisms]]\nkind = "cohort_comparison"\nprice_per_event = "5000.00"\n'
    'cohort_threshold = "0.10"\noverall_threshold = "0.075"\n\n'
)


def test_mechanisms_are_checked_with_the_registry_and_kept():
    text = GOOD.replace('[[rate_cards]]\nversion = "v1"', MECHANISM + '[[rate_cards]]\nversion = "v1"', 1)
    contract = load_contract_toml(text, "contract.toml")
    assert len(contract.mechanisms) == 1
    kind, params = contract.mechanisms[0]
    assert kind == "cohort_comparison" and params["cohort_threshold"] == "0.10"


def test_a_bad_mechanism_refuses_the_contract_with_its_path():
    bad = MECHANISM.replace('cohort_threshold = "0.10"', "cohort_threshold = 0.1")
    text = GOOD.replace('[[rate_cards]]\nversion = "v1"', bad + '[[rate_cards]]\nversion = "v1"', 1)
    with pytest.raises(ImportRejected) as caught:
        load_contract_toml(text, "contract.toml")
    assert caught.value.problems == [
        'contract.toml: mechanisms[0].cohort_threshold: is a TOML float (0.1); write rates as a string like "0.1" '
        "to keep them exact"
    ]


def test_fund_is_read():
    contract = load_contract_toml('fund = "fuel-lcr"\n' + GOOD, "contract.toml")
    assert contract.fund == "fuel-lcr"


def test_indexation_is_read():
    text = GOOD.replace(
        'effective_to = 2025-01-01\n',
        'effective_to = 2025-01-01\nindexation = { annual_rate = "0.03", base_date = 2024-01-01 }\n',
    )
    contract = load_contract_toml(text, "contract.toml")
    assert contract.rate_cards[0].indexation.annual_rate == Decimal("0.03")


# --- bad inputs: each names the file, the field path, and what was wrong -------------------------


BAD_CASES = [
    (
        "float price",
        ('price = "1500.00"', "price = 1500.5"),
        'contract.toml: rate_cards[0].outcomes[0].price: must be text like "1234.50", not the TOML float 1500.5 '
        "(floats are binary and cannot hold every pence value exactly)",
    ),
    (
        "price with a currency symbol and separator",
        ('price = "1500.00"', 'price = "£1,000"'),
        'contract.toml: rate_cards[0].outcomes[0].price: must be a plain amount like 1234.50, got "£1,000"',
    ),
    (
        "integer price in major units",
        ('price = "1500.00"', "price = 1500"),
        'contract.toml: rate_cards[0].outcomes[0].price: must be text like "1500.00" (or price_pence in whole pence), '
        "got the number 1500",
    ),
    (
        "unknown rounding mode",
        ('provider = "Provider Ltd"', 'provider = "Provider Ltd"\nrounding = "bankers"'),
        'contract.toml: rounding: unknown rounding mode "bankers" (known: half_up, half_even, down)',
    ),
    (
        "unknown currency",
        ('provider = "Provider Ltd"', 'provider = "Provider Ltd"\ncurrency = "XXX"'),
        'contract.toml: currency: unknown currency "XXX" (known: AUD, CAD, CHF, DKK, EUR, GBP, JPY, NOK, NZD, SEK, USD)',
    ),
    (
        "overlapping rate card versions",
        ("effective_from = 2025-01-01", "effective_from = 2024-06-01"),
        "contract.toml: rate_cards[1].effective_from: 2024-06-01 overlaps rate_cards[0] (v1, from 2024-01-01 to 2025-01-01)",
    ),
    (
        "gap between rate card versions",
        ("effective_from = 2025-01-01", "effective_from = 2025-02-01"),
        "contract.toml: rate_cards[1].effective_from: leaves a gap after rate_cards[0] (v1) which ends before "
        "2025-01-01; versions must follow on without gaps",
    ),
    (
        "first version starts after the contract",
        ("effective_from = 2024-01-01", "effective_from = 2024-02-01"),
        "contract.toml: rate_cards[0].effective_from: must be on or before the contract start 2024-01-01 so every "
        "day of the term has a price, got 2024-02-01",
    ),
    (
        "fixed shares above 1",
        ('share = "0.30"', 'share = "0.30"\n\n[[payers]]\nid = "trust"\nname = "Trust"\nshare = "0.80"'),
        "contract.toml: payers: fixed shares sum to 1.10, more than 1",
    ),
    (
        "no remainder payer",
        ('cap = "70000.00"', 'cap = "70000.00"\nshare = "0.70"'),
        "contract.toml: payers: exactly one payer must have no share (it takes the remainder of each line), found 0",
    ),
    (
        "share as a float",
        ('share = "0.30"', "share = 0.3"),
        'contract.toml: payers[1].share: must be text like "0.30", not the TOML float 0.3 (floats are binary)',
    ),
    (
        "unknown outcome in a prerequisite",
        ('requires = ["acc_3m"]', 'requires = ["acc_3mo"]'),
        'contract.toml: outcomes[1].requires[0]: unknown outcome "acc_3mo"',
    ),
    (
        "negative cap",
        ('contract = "100000.00"', 'contract = "-100.00"'),
        "contract.toml: caps.contract: must not be negative, got -100.00",
    ),
    (
        "missing field",
        ('name = "Test contract"\n', ""),
        "contract.toml: name: is required",
    ),
    (
        "bad date",
        ("start = 2024-01-01", 'start = "01/01/2024"'),
        'contract.toml: start: must be a date like 2026-01-31, got "01/01/2024"',
    ),
    (
        "end before start",
        ("end = 2026-01-01", "end = 2023-01-01"),
        "contract.toml: end: must be after start (2024-01-01), got 2023-01-01",
    ),
    (
        "rate card prices an unknown outcome",
        ('id = "acc_6m"\nprice_pence = 150000', 'id = "acc_9m"\nprice_pence = 150000'),
        'contract.toml: rate_cards[0].outcomes[1].id: unknown outcome "acc_9m" (define it under [[outcomes]])',
    ),
    (
        "price and price_pence both given",
        ("price_pence = 150000", 'price_pence = 150000\nprice = "1500.00"'),
        "contract.toml: rate_cards[0].outcomes[1].price: give price or price_pence, not both",
    ),
    (
        "price_pence not whole",
        ("price_pence = 150000", 'price_pence = "150000"'),
        'contract.toml: rate_cards[0].outcomes[1].price_pence: must be a whole number of pence, got "150000"',
    ),
    (
        "duplicate outcome id",
        ('id = "acc_6m"\ndefinition', 'id = "acc_3m"\ndefinition'),
        "contract.toml: outcomes[1].id: duplicate outcome id 'acc_3m'",
    ),
    (
        "misspelt field",
        ('project = "PRJ-1"', 'project = "PRJ-1"\nprovidor = "x"'),
        "contract.toml: providor: unknown field (known: caps, claim_deadline, currency, end, exclusive_groups, fund, id, "
        "mechanisms, name, outcomes, partners, payers, prime, project, provider, rate_cards, referral_window, rounding, start)",
    ),
    (
        "negative count cap",
        ('definition = "Accommodation sustained 3 months"', 'definition = "Accommodation sustained 3 months"\ncount_cap = -1'),
        "contract.toml: outcomes[0].count_cap: must not be negative, got -1",
    ),
    (
        "claim deadline given twice",
        ('provider = "Provider Ltd"', 'provider = "Provider Ltd"\nclaim_deadline = { days_after_period_end = 30, date = 2026-03-31 }'),
        "contract.toml: claim_deadline: give days_after_period_end or date, not both",
    ),
    (
        "exclusive group with an unknown outcome",
        ('provider = "Provider Ltd"', 'provider = "Provider Ltd"\nexclusive_groups = [["acc_3m", "employment"]]'),
        'contract.toml: exclusive_groups[0][1]: unknown outcome "employment"',
    ),
    (
        "indexation rate as a float",
        (
            "effective_to = 2025-01-01\n",
            "effective_to = 2025-01-01\nindexation = { annual_rate = 0.03, base_date = 2024-01-01 }\n",
        ),
        'contract.toml: rate_cards[0].indexation.annual_rate: must be text like "0.30", not the TOML float 0.03 '
        "(floats are binary)",
    ),
    (
        "prerequisites in a cycle",
        ('definition = "Accommodation sustained 3 months"', 'definition = "Accommodation sustained 3 months"\nrequires = ["acc_6m"]'),
        "contract.toml: outcomes: prerequisites form a cycle through 'acc_3m'",
    ),
    (
        "payer share above 1",
        ('share = "0.30"', 'share = "1.30"'),
        "contract.toml: payers[1].share: must be more than 0 and at most 1, got 1.30",
    ),
]


@pytest.mark.parametrize("case, change, message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_contract_is_rejected_with_its_exact_problem(case, change, message):
    old, new = change
    assert old in GOOD, case
    problems = rejected(GOOD.replace(old, new, 1))
    assert message in problems, problems


def test_every_problem_is_reported_at_once():
    text = GOOD.replace('price = "1500.00"', "price = 1500.5").replace('rounding = "x"', "").replace(
        "start = 2024-01-01", 'start = "2024/01/01"'
    )
    text = text.replace('contract = "100000.00"', 'contract = "-1.00"')
    with pytest.raises(ImportRejected) as caught:
        load_contract_toml(text, "contract.toml")
    assert caught.value.message == "contract.toml: contract rejected (3 problems)"
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("contract.toml: contract rejected (3 problems)\n  contract.toml: ")


def test_toml_syntax_error_names_the_file():
    problems = rejected('id = "c1"\nname = ')
    assert len(problems) == 1 and problems[0].startswith("contract.toml: not valid TOML: ")


def test_mapping_source_is_named():
    with pytest.raises(ImportRejected) as caught:
        contract_from_mapping({}, "api-request")
    assert "api-request: id: is required" in caught.value.problems
    assert "api-request: payers: at least one payer is required" in caught.value.problems
    assert "api-request: rate_cards: at least one rate card version is required" in caught.value.problems


def test_the_documented_full_example_loads():
    doc = (FIXTURES.parents[1] / "docs" / "contract-format.md").read_text()
    example = doc.split("## Full example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    contract = load_contract_toml(example, "contract-format.md")
    assert contract.participant_cap_pence == 820_000
    assert contract.remainder_payer.payer_id == "council"
    assert contract.price_on("accommodation_6m", date(2027, 4, 1)) == 153_750  # 1500.00 x 1.025
    assert contract.exclusive_groups == (("employment_13w", "self_employment_13w"),)
