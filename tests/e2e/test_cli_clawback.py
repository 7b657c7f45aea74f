"""End to end: `fuel clawback` shows, and with --post records once, the clawback of deal-by-deal
carry, on a ledger whose deal-by-deal history is seeded as in tests/integration/clawback_history.py."""

from __future__ import annotations

import json

import pytest

from models.db import make_engine
from tests.e2e.conftest import REPO
from tests.integration.clawback_history import DEAL_TERMS, post_winning_exit

TERMS = str(DEAL_TERMS.relative_to(REPO))


@pytest.fixture
def seeded(fuel, tmp_path):
    fuel("fund", "load", "fixtures/funds/example_fund.toml")
    fuel("import", "flows", "fixtures/flows/example_flows.csv")
    fuel("import", "flows", "tests/data/statements/scenario_flows.csv")
    engine = make_engine(f"sqlite:///{tmp_path / 'fuel.db'}")
    with engine.begin() as conn:
        post_winning_exit(conn)
    engine.dispose()
    # The fund's terms become deal-by-deal from the test date (a new stored version).
    fuel("terms", "load", TERMS, "--effective-from", "2026-12-31")
    return fuel


def test_clawback_is_shown_then_posted_once(seeded):
    shown = seeded("clawback", "--date", "2026-12-31")
    assert "Clawback test for lcr-outcomes on 2026-12-31 (LCR Outcomes Fund, deal by deal, recipient fund-manager)" \
        in shown.stdout
    assert "clawback due" in shown.stdout and "4,000.00" in shown.stdout
    assert "Not posted: add --post to record it" in shown.stdout
    posted = json.loads(seeded("clawback", "--date", "2026-12-31", "--post", "--json").stdout)
    assert posted["created"] is True and posted["clawback_pence"] == 400_000
    assert sum(line["amount_pence"] for line in posted["lines"]) == 0
    assert {s["investor"]: s["returned_pence"] for s in posted["shares"] if s["returned_pence"]} == {
        "big-impact": 233_236, "lcr-ca": 166_764}
    again = seeded("clawback", "--date", "2026-12-31", "--post")
    assert f"Clawback entry {posted['entry_id']} already posted (same key): nothing new" in again.stdout
    after = json.loads(seeded("clawback", "--date", "2026-12-31", "--json").stdout)
    assert (after["returned_before_pence"], after["clawback_pence"]) == (400_000, 0)
    assert seeded("verify").returncode == 0


def test_mistakes_are_one_line_errors(seeded):
    whole = seeded("clawback", "--date", "2026-12-30", ok=False)  # before the deal-by-deal version applies
    assert whole.returncode == 1
    assert "error: waterfall LCR Outcomes Fund waterfall is whole_fund" in whole.stderr
    bad = seeded("clawback", "--date", "31/12/2026", ok=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
