"""Delivery partner pages: a partner signs in (token or password) and lands on its own
statements; it sees its statement's figures and downloads them (the same bytes as the CLI and
API); another partner's pages are 404 like missing ones; fund and claim pages are refused.
The fund manager reaches its fund's partners from the contract page; the council does not."""

from __future__ import annotations

import json
import re

import pytest

from tests.api.world import JOINT_CONTRACT, OTHER_JOINT_CONTRACT, OTHER_PARTNER, OWN_FUND, OWN_PARTNER, PAID
from tests.web.conftest import post_login, sign_in

HOME = f"/ui/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}"
STATEMENT = f"{HOME}/statements/{PAID}"
NOT_YOURS = "There is no such page, or it is not yours to see."


def _figures(engine, partner: str = OWN_PARTNER) -> dict:
    from models.db import reading
    from models.partners_store import partner_statement

    with reading(engine) as conn:
        return partner_statement(conn, JOINT_CONTRACT, partner, PAID)


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, f"#{element_id} is not on the page"
    return match.group(1)


def test_a_partner_lands_on_its_statements_and_sees_its_figures(shared):
    client = shared.client
    client.cookies.clear()
    login = post_login(client, {"method": "token", "token": shared.world.tokens["partner"]},
                        follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Sefton Carers Network: partner statements" in home.text
    assert f'<a href="{HOME}">My statements</a>' in home.text  # the navigation link
    assert "Delivery partner: ptr" in home.text
    assert f'<a href="{STATEMENT}">Statement {PAID}</a>' in home.text
    assert "Bridge Housing" not in home.text and "/funds/" not in home.text

    page = client.get(STATEMENT)
    assert page.status_code == 200
    # sefton-carers 2026Q3: received 1,700, 60% share 1,020, period fee 250, due 1,270, unpaid.
    assert [_text(page.text, i) for i in ("received", "share", "fees", "total", "paid", "outstanding")] == [
        "£1,700.00", "£1,020.00", "£250.00", "£1,270.00", "\u2013", "£1,270.00"]
    assert _text(page.text, "outstanding-to-date") == "£1,270.00"
    assert "P06" in page.text and "P07" in page.text  # its own participants' lines
    assert "P01" not in page.text and "Bridge Housing" not in page.text  # nobody else's
    for fmt in ("csv", "json"):
        assert f'href="{STATEMENT}/download/{fmt}"' in page.text


def test_downloads_are_the_rendered_statement(shared):
    from reports.partner_reports import render_statement

    sign_in(shared.client, shared.world.tokens["partner"])
    figures = _figures(shared.engine)
    for fmt, media, disposition in (("csv", "text/csv; charset=utf-8", "attachment"),
                                    ("json", "application/json", "attachment"),
                                    ("html", "text/html; charset=utf-8", "inline")):
        response = shared.client.get(f"{STATEMENT}/download/{fmt}")
        assert response.status_code == 200, fmt
        assert response.headers["content-type"] == media
        assert response.text == render_statement(figures, fmt)
        assert response.headers["content-disposition"] == (
            f'{disposition}; filename="partner-statement_{JOINT_CONTRACT}_{OWN_PARTNER}_{PAID}.{fmt}"')
    assert json.loads(shared.client.get(f"{STATEMENT}/download/json").text)["period_figures"]["total_pence"] == 127_000
    assert shared.client.get(f"{STATEMENT}/download/pdf").status_code == 404


def test_a_partner_cannot_open_another_partners_pages(shared):
    sign_in(shared.client, shared.world.tokens["partner"])
    for contract, partner in ((JOINT_CONTRACT, OTHER_PARTNER), (JOINT_CONTRACT, "no-such-partner"),
                              (OTHER_JOINT_CONTRACT, OWN_PARTNER)):
        base = f"/ui/contracts/{contract}/partners/{partner}"
        for path in (base, f"{base}/statements/{PAID}", f"{base}/statements/{PAID}/download/csv"):
            response = shared.client.get(path, follow_redirects=False)
            assert response.status_code == 404, path
            assert NOT_YOURS in response.text
            assert "Bridge Housing" not in response.text and "£3,000.00" not in response.text


@pytest.mark.parametrize("path", ["/funds", f"/funds/{OWN_FUND}", "/contracts", f"/contracts/{JOINT_CONTRACT}",
                                  f"/contracts/{JOINT_CONTRACT}/claims/{PAID}", "/investors/inv-a"])
def test_a_partner_is_refused_fund_and_claim_pages(shared, path):
    sign_in(shared.client, shared.world.tokens["partner"])
    response = shared.client.get("/ui" + path, follow_redirects=False)
    assert response.status_code == 403
    assert "a partner may not open this page" in response.text


def test_a_bad_period_is_explained(shared):
    sign_in(shared.client, shared.world.tokens["partner"])
    bad = shared.client.get(f"{HOME}/statements/2026Q7")
    assert bad.status_code == 422 and "period &#39;2026Q7&#39; is not a quarter like 2026Q3" in bad.text
    missing = shared.client.get(f"{HOME}/statements/2026Q4")
    assert missing.status_code == 404 and NOT_YOURS in missing.text


def test_a_partner_user_signs_in_with_a_password(fresh):
    from ledger.errors import NotFound
    from models.web_store import create_user

    api = fresh()
    with api.engine.begin() as conn:
        create_user(conn, "sefton", "a long passphrase", "partner", f"{JOINT_CONTRACT}/{OWN_PARTNER}")
        with pytest.raises(NotFound, match="has no partner 'nobody'"):
            create_user(conn, "nobody", "a long passphrase", "partner", f"{JOINT_CONTRACT}/nobody")
    response = post_login(api.client, {"username": "sefton", "password": "a long passphrase"},
                               follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == HOME
    assert _text(api.client.get(STATEMENT).text, "total") == "£1,270.00"
    assert api.client.get(f"/ui/contracts/{JOINT_CONTRACT}/partners/{OTHER_PARTNER}").status_code == 404


def test_the_fund_manager_reaches_partner_statements_from_the_contract(shared):
    sign_in(shared.client, shared.world.tokens["fund_manager"])
    contract = shared.client.get(f"/ui/contracts/{JOINT_CONTRACT}")
    assert contract.status_code == 200 and "Delivery partners" in contract.text
    for partner in ("bridge-housing", "wirral-works", "sefton-carers"):
        assert f'href="/ui/contracts/{JOINT_CONTRACT}/partners/{partner}"' in contract.text
    bridge = shared.client.get(f"/ui/contracts/{JOINT_CONTRACT}/partners/{OTHER_PARTNER}/statements/{PAID}")
    # bridge-housing 2026Q3: 85% of 4,500 = 3,825, cut to its 3,000 contract cap.
    assert bridge.status_code == 200 and _text(bridge.text, "total") == "£3,000.00"
    wirral = shared.client.get(f"/ui/contracts/{JOINT_CONTRACT}/partners/wirral-works")
    assert "£1,300.00 on 2026-11-10" in wirral.text  # paid, and when
    other = shared.client.get(f"/ui/contracts/{OTHER_JOINT_CONTRACT}/partners/{OWN_PARTNER}")
    assert other.status_code == 404

    sign_in(shared.client, shared.world.tokens["commissioner"])  # the council pays for the contract...
    council = shared.client.get(f"/ui/contracts/{JOINT_CONTRACT}")
    assert council.status_code == 200 and "Delivery partners" not in council.text  # ...but not its subcontracts
    assert shared.client.get(STATEMENT).status_code == 403
