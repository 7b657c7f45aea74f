"""Words on the pages as the documents print them (issue 18 item 10)."""

from __future__ import annotations

from ledger.fund_terms import LINE_LABELS
from tests.api.world import OWN_FUND, OWN_INVESTOR, PAID
from tests.web.conftest import sign_in


def test_the_capital_account_on_the_page_uses_the_statements_line_names(shared):
    sign_in(shared.client, shared.world.tokens["fund_manager"])
    html = shared.client.get(f"/ui/funds/{OWN_FUND}/investors/{OWN_INVESTOR}/statements/{PAID}").text
    assert "Realised gains (losses)" in html and "Realised gains losses" not in html
    assert LINE_LABELS["first_loss_protection"] in html


def test_a_contracts_term_ends_on_its_last_day(shared):
    from tests.api.world import OWN_CONTRACT

    sign_in(shared.client, shared.world.tokens["fund_manager"])
    html = shared.client.get(f"/ui/contracts/{OWN_CONTRACT}").text
    assert "2026-01-01 to 2027-12-31" in html  # the file says end = 2028-01-01: the first day after
