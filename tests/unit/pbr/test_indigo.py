"""Contract templates from the cited GO Lab INDIGO extract (fixtures/indigo)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ledger.errors import NotFound
from ledger.pbr.claims import run_claim
from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.indigo import FILES, contract_from_indigo, parse_money_text, results_times_prices

INDIGO = Path(__file__).resolve().parents[3] / "fixtures" / "indigo"


@pytest.fixture(scope="module")
def frames():
    return {k: pd.read_csv(INDIGO / v, dtype=str, keep_default_na=False) for k, v in FILES.items()}


def test_local_solutions_outcome_value_recomputed_from_results_and_prices(frames):
    """INDIGO-POJ-0136 (Local Solutions, Liverpool City Region): Final results x prices.
    By hand: 138x500 + 125x500 + 105x200 + 130x500 + 122x1,500 + 115x1,500 + 99x1,500 + 85x1,500
    + 113x500 + 48x1,500 + 56x2,500 + 0x3,500 + 46x500 + 6x3,000 + 1x2,000 + 26x4,500 + 19x3,500
    + 4x500 + 1x500 + 1x250 + 1x250 = 1,347,000 GBP."""
    table = results_times_prices(frames, "INDIGO-POJ-0136")
    assert table["value_pence"].sum() == 134_700_000
    # The same figure through the engine: one event per outcome achieved, priced by the template.
    contract = load_contract_toml(contract_from_indigo(frames, "INDIGO-POJ-0136").toml_text, "0136.toml")
    events = pd.DataFrame({
        "participant_id": [f"P{i}" for n in table["achieved"] for i in range(n)],
        "outcome_id": [o for o, n in zip(table["outcome_id"], table["achieved"]) for _ in range(n)],
        "achieved_on": "2016-06-01",
    })  # fmt: skip
    lines = run_claim(events, contract)
    assert lines["net_pence"].sum() == 134_700_000
    assert lines[f"share_{contract.payers[0].payer_id}_pence"].sum() == 134_700_000


def test_greater_manchester_template_keeps_prices_and_caps(frames):
    template = contract_from_indigo(frames, "INDIGO-POJ-0154")
    contract = load_contract_toml(template.toml_text, "0154.toml")
    assert contract.contract_cap_pence == 262_900_000
    assert [(p.payer_id, p.cap_pence, p.share) for p in contract.payers] == [("INDIGO-ORG-0088", 262_900_000, None)]
    prices = {p.outcome_id: p.price_pence for p in contract.rate_cards[0].prices}
    assert len(prices) == 22 and sum(prices.values()) == 2_552_000
    assert sum(o.value_cap_pence for o in contract.outcomes) == 765_600_000
    assert "payer INDIGO-ORG-0256 (Greater Manchester Combined Authority (GMCA)): no cap in the data" in template.lacks


def test_payers_with_all_caps_known_get_shares_by_cap(frames):
    f = dict(frames)
    commitments = f["commitments"].copy()
    mask = (commitments["Project ID"] == "INDIGO-POJ-0154") & (commitments["Organisation ID - (Value)"] == "INDIGO-ORG-0256")
    commitments.loc[mask, "Maximum potential Outcome payment - Amount - (Value)"] = "1,000,000"  # mis-entered
    f["commitments"] = commitments
    contract = load_contract_toml(contract_from_indigo(f, "INDIGO-POJ-0154").toml_text, "0154.toml")
    shares = {p.payer_id: (p.cap_pence, p.share) for p in contract.payers}
    assert shares["INDIGO-ORG-0256"][1] is not None and str(shares["INDIGO-ORG-0256"][1]) == "0.2756"
    assert shares["INDIGO-ORG-0088"] == (262_900_000, None)


def test_data_quality_problems_are_reported_not_fatal(frames):
    f = dict(frames)
    pricings = f["pricings"].copy()
    rows = pricings["Project ID"] == "INDIGO-POJ-0136"
    pricings.loc[rows & (pricings["Outcome Metric Id - (Value)"] == "outcomemetric1"), "Price Per Unit - Amount - (Value)"] = "tbc"
    f["pricings"] = pricings
    projects = f["projects"].copy()
    projects.loc[projects["ID"] == "INDIGO-POJ-0136", "Dates - Actual completion date - (Value)"] = ""
    f["projects"] = projects
    template = contract_from_indigo(f, "INDIGO-POJ-0136")
    contract = load_contract_toml(template.toml_text, "0136.toml")
    assert len(contract.outcomes) == 20
    assert "outcomemetric1: no usable price (tbc); the outcome is left out" in template.lacks
    assert contract.end.isoformat() == "2018-01-01"
    assert any("3-year placeholder" in item for item in template.lacks)
    with pytest.raises(NotFound, match="INDIGO-POJ-9999"):
        contract_from_indigo(frames, "INDIGO-POJ-9999")


def test_money_text_parsing():
    assert str(parse_money_text("£1,500")) == "1500.00"
    assert parse_money_text("") is None and parse_money_text("-5") is None and parse_money_text("n/a") is None
