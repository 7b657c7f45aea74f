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


def test_a_council_sees_its_own_due_not_the_whole_claims(shared):
    import re

    from tests.api.world import OWN_CONTRACT, OWN_PAYER

    sign_in(shared.client, shared.world.tokens["fund_manager"])
    whole = shared.client.get(f"/ui/contracts/{OWN_CONTRACT}/claims/{PAID}").text
    sign_in(shared.client, shared.world.tokens["commissioner"])
    own = shared.client.get(f"/ui/contracts/{OWN_CONTRACT}/claims/{PAID}").text
    due = re.compile(r"<dt>([^<]+)</dt><dd class=\"num\" id=\"due\">£([\d,.]+)</dd>")
    (label_all, all_due), (label_own, own_due) = due.search(whole).groups(), due.search(own).groups()
    assert (label_all, label_own) == ("Due", "Due from you")
    share = re.search(rf"<td>{OWN_PAYER}</td>.*?</tr>", own, re.S)
    assert share is not None
    assert 0 < float(own_due.replace(",", "")) < float(all_due.replace(",", ""))  # central pays the rest


def test_a_claim_the_caps_took_whole_says_nothing_is_due():
    from ledger.shell.web.render import environment

    template = environment().get_template("_runs.html.j2")
    runs = [{"contract": "c", "period": "2025Q4", "status": "invoiced", "lines": 4, "disputed": 0,
             "gross_pence": 120_000, "net_pence": 0},
            {"contract": "c", "period": "2025Q3", "status": "invoiced", "lines": 4, "disputed": 0,
             "gross_pence": 120_000, "net_pence": 100_000}]  # fmt: skip
    html = template.render(runs=runs, base="/ui")
    assert html.count("nothing due (caps reached)") == 1
