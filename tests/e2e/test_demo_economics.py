"""The demo fund's economics, as `make demo` builds it (default size and seed): every investor's
statement is consistent with the fund's terms (docs/demo.md states the ranges and why).

* Mersey Social Capital (senior, return capped at 5% a year simple): repaid, TVPI at most
  1 + 5% x the years its capital was out, IRR at most 5%.
* Dockside Trust and the Combined Authority (junior, capped at 3% a year compound): IRR at most
  3%, TVPI at most 1.03 to the power of the years.
* Liver Bird Foundation (first-loss grant): below 1x, because it absorbed the ageing project's
  shortfall; never negative.
* The trust's restricted section lists both its restrictions with what was applied and what is
  unapplied, although its money reached them by transfers after the contribution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
YEARS = Decimal(729) / 365  # the first capital call (2024-01-22) to the statement date (2025-12-31), at most


@pytest.fixture(scope="module")
def statements(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "demo", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {path.name.split("_")[1]: json.loads(path.read_text(encoding="utf-8"))
            for path in (out / "investors").glob("*.json")}


def test_the_senior_is_repaid_within_its_cap(statements):
    perf = statements["mersey-capital"]["performance"]
    assert Decimal(perf["tvpi"]) <= 1 + Decimal("0.05") * YEARS
    assert Decimal("0.04") < Decimal(perf["irr"]) <= Decimal("0.05")
    assert perf["distributed_pence"] >= perf["paid_in_pence"]  # its capital came back first


@pytest.mark.parametrize("investor", ["dockside-trust", "lcr-combined"])
def test_the_juniors_earn_at_most_their_cap(statements, investor):
    perf = statements[investor]["performance"]
    assert Decimal(perf["irr"]) <= Decimal("0.030000")
    assert Decimal(perf["tvpi"]) <= Decimal("1.03") ** 2
    assert Decimal(perf["tvpi"]) > 1


def test_the_first_loss_absorbed_the_shortfall(statements):
    statement = statements["liver-foundation"]
    perf = statement["performance"]
    assert 0 < Decimal(perf["tvpi"]) < 1 and perf["distributed_pence"] == 0
    itd = statement["capital_account"]["itd"]
    assert itd["first_loss_protection_pence"] < 0 or itd["unrealised_gains_losses_pence"] < 0


def test_every_capital_account_rolls_forward_to_its_nav(statements):
    for statement in statements.values():
        for column in ("qtd", "ytd", "itd"):
            figures = statement["capital_account"][column]
            lines = sum(v for k, v in figures.items() if k.endswith("_pence") and k not in
                        ("beginning_pence", "ending_pence"))
            assert figures["beginning_pence"] + lines == figures["ending_pence"]
        assert statement["capital_account"]["itd"]["ending_pence"] == statement["performance"]["nav_pence"]


def test_the_trusts_restricted_money_is_shown_applied_and_unapplied(statements):
    restrictions = {r["restriction"]: r for r in statements["dockside-trust"]["restrictions"]}
    assert set(restrictions) == {"trust-youth", "trust-homelessness"}
    for r in restrictions.values():
        assert r["received_pence"] > 0
        # Only service fees to permitted projects spend it: what is not applied is still there.
        assert r["applied_itd_pence"] + r["unapplied_pence"] == r["received_pence"]
        assert r["applied_itd_pence"] > 0
    assert {r["restriction"] for r in statements["lcr-combined"]["restrictions"]} == {"lcr-region"}
    assert statements["mersey-capital"]["restrictions"] == []
