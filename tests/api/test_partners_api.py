"""Delivery partners in the API: the partner role sees only its own statement (anything else is
a 404 like a missing object, or a 403 by role); fund managers their fund's partners; auditors
any; commissioners none. The statement is the service's figures rendered by the report module,
byte for byte what `fuel partners statement` writes."""

from __future__ import annotations

import json

import pytest

from tests.api.world import (
    JOINT_CONTRACT,
    OTHER_JOINT_CONTRACT,
    OTHER_PARTNER,
    OWN_PARTNER,
    PAID,
    auth,
)

OWN = f"/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}/statements/{PAID}"


def _figures(engine, contract: str, partner: str, period: str = PAID) -> dict:
    from models.db import reading
    from models.partners_store import partner_statement

    with reading(engine) as conn:
        return partner_statement(conn, contract, partner, period)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_a_partner_gets_its_own_statement_as_the_service_computes_it(api):
    """On SQLite and PostgreSQL: JSON figures equal partner_statement's; hand-checked totals."""
    from reports.partner_reports import render_statement

    response = api.client.get(OWN, headers=auth(api.world.tokens["partner"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    figures = _figures(api.engine, JOINT_CONTRACT, OWN_PARTNER)
    assert body == json.loads(json.dumps(figures))
    assert response.text == render_statement(figures, "json")
    # 2026Q3, sefton-carers: received 1,700 (P06 entry 500, P07 employment 1,200); 60% share
    # rounded down 1,020 plus the 250 period fee = 1,270, not paid yet (only wirral-works was).
    period = body["period_figures"]
    assert (period["received_pence"], period["share_pence"], period["fees_pence"], period["total_pence"]) == (
        170_000, 102_000, 25_000, 127_000)
    assert (period["paid_pence"], period["outstanding_pence"]) == (None, 127_000)
    assert body["partner"]["id"] == OWN_PARTNER and body["contract"]["id"] == JOINT_CONTRACT
    assert {line["participant_id"] for line in body["lines"]} == {"P06", "P07"}  # its own participants only


def test_statement_csv_and_html(shared):
    from reports.partner_reports import render_statement

    headers = auth(shared.world.tokens["partner"])
    figures = _figures(shared.engine, JOINT_CONTRACT, OWN_PARTNER)
    csv_response = shared.client.get(OWN + "?format=csv", headers=headers)
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.text == render_statement(figures, "csv")
    assert "period,total,,,,127000," in csv_response.text
    assert csv_response.headers["content-disposition"] == (
        f'attachment; filename="partner-statement_{JOINT_CONTRACT}_{OWN_PARTNER}_{PAID}.csv"')
    html = shared.client.get(OWN + "?format=html", headers=headers)
    assert html.status_code == 200 and html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text == render_statement(figures, "html")
    assert "Sefton Carers Network" in html.text and "Bridge Housing" not in html.text
    bad = _problem(shared.client.get(OWN + "?format=pdf", headers=headers), 422)
    assert bad["field"] == "query.format"


def test_a_partner_cannot_tell_another_partner_from_a_missing_one(shared):
    headers = auth(shared.world.tokens["partner"])
    answers = {}
    for contract, partner in ((JOINT_CONTRACT, OTHER_PARTNER), (JOINT_CONTRACT, "no-such-partner"),
                              (OTHER_JOINT_CONTRACT, OWN_PARTNER), ("no-such-contract", OWN_PARTNER)):
        for suffix in (f"/statements/{PAID}", "/statements", f"/statements/{PAID}?format=csv"):
            body = _problem(shared.client.get(f"/contracts/{contract}/partners/{partner}{suffix}", headers=headers), 404)
            answers[(contract, partner, suffix)] = body
            # Nothing about the other partner or contract leaks: not its name, not the partner list.
            assert "Bridge Housing" not in body["detail"] and "wirral-works" not in body["detail"]
    for (contract, partner, _), body in answers.items():
        if contract == JOINT_CONTRACT:
            assert body["detail"] == f"unknown partner {partner!r}" and body["field"] == "partner"
        else:
            assert body["detail"] == f"unknown contract {contract!r}" and body["field"] == "contract"


def test_a_partner_token_reaches_nothing_else(shared):
    headers = auth(shared.world.tokens["partner"])
    me = shared.client.get("/me", headers=headers).json()
    assert (me["role"], me["scope"]) == ("partner", f"{JOINT_CONTRACT}/{OWN_PARTNER}")
    for path in ("/funds", "/contracts", f"/contracts/{JOINT_CONTRACT}", f"/contracts/{JOINT_CONTRACT}/partners",
                 f"/contracts/{JOINT_CONTRACT}/claims/{PAID}", "/parties/council", "/funds/fuel-lcr/public"):
        body = _problem(shared.client.get(path, headers=headers), 403)
        assert body["detail"].startswith("partner tokens may not GET")


def test_who_else_sees_partner_statements(shared):
    tokens = shared.world.tokens
    # The fund manager: every partner of its fund's contract, not the other fund's.
    for partner in ("bridge-housing", "wirral-works", "sefton-carers"):
        response = shared.client.get(f"/contracts/{JOINT_CONTRACT}/partners/{partner}/statements/{PAID}",
                                     headers=auth(tokens["fund_manager"]))
        assert response.status_code == 200 and response.json()["partner"]["id"] == partner
    other = f"/contracts/{OTHER_JOINT_CONTRACT}/partners/{OWN_PARTNER}/statements/{PAID}"
    assert _problem(shared.client.get(other, headers=auth(tokens["fund_manager"])), 404)["detail"] == (
        f"unknown contract {OTHER_JOINT_CONTRACT!r}")
    # The auditor: any. The council pays for the contract but the subcontract is not its business.
    assert shared.client.get(other, headers=auth(tokens["auditor"])).status_code == 200
    assert _problem(shared.client.get(OWN, headers=auth(tokens["commissioner"])), 403)["detail"] == (
        "commissioner tokens may not GET /contracts/{contract_id}/partners/{partner_id}/statements/{period}")
    assert _problem(shared.client.get(OWN, headers=auth(tokens["investor"])), 403)


@pytest.mark.parametrize(("period", "message"), [
    ("2026Q9", "period '2026Q9' is not a quarter like 2026Q3"),
    ("Q3-2026", "period 'Q3-2026' is not a quarter like 2026Q3"),
    ("9999Q4", "period '9999Q4': the year must be 0001 to 9998"),
])
def test_a_bad_period_is_a_422_naming_the_field(shared, period, message):
    path = f"/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}/statements/{period}"
    for role in ("partner", "fund_manager"):
        body = _problem(shared.client.get(path, headers=auth(shared.world.tokens[role])), 422)
        assert (body["field"], body["detail"]) == ("period", message)


def test_a_period_not_passed_through_is_a_404_naming_the_period(shared):
    path = f"/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}/statements/2026Q4"
    body = _problem(shared.client.get(path, headers=auth(shared.world.tokens["partner"])), 404)
    assert body["field"] == "period" and "no pass-through for 2026Q4" in body["detail"]


def test_periods_and_partner_list(shared):
    tokens = shared.world.tokens
    periods = shared.client.get(f"/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}/statements",
                                headers=auth(tokens["partner"]))
    assert periods.status_code == 200
    assert periods.json() == [{"period": PAID, "passed_through_on": "2026-11-05", "share_pence": 102_000,
                               "fees_pence": 25_000, "total_pence": 127_000, "paid_pence": None, "paid_on": None,
                               "outstanding_pence": 127_000}]
    paid = shared.client.get(f"/contracts/{JOINT_CONTRACT}/partners/wirral-works/statements",
                             headers=auth(tokens["fund_manager"])).json()
    assert [(p["total_pence"], p["paid_pence"], p["paid_on"], p["outstanding_pence"]) for p in paid] == [
        (130_000, 130_000, "2026-11-10", 0)]
    listed = shared.client.get(f"/contracts/{JOINT_CONTRACT}/partners", headers=auth(tokens["fund_manager"]))
    assert [(p["partner_id"], p["kind"], p["participants"]) for p in listed.json()] == [
        ("bridge-housing", "share", 3), ("wirral-works", "fee", 2), ("sefton-carers", "mixed", 2)]
    no_partners = _problem(shared.client.get("/contracts/lcr-housing/partners", headers=auth(tokens["auditor"])), 422)
    assert "has no delivery partners" in no_partners["detail"]


def test_partner_token_scopes_are_checked(fresh):
    from ledger.errors import NotFound, ValidationError
    from models.api_store import create_token

    api = fresh()
    cases = [
        (JOINT_CONTRACT, ValidationError, "a partner scope is <contract id>/<partner id>"),
        (None, ValidationError, "a partner token needs a scope: <contract id>/<partner id>"),
        ("nowhere/sefton-carers", NotFound, "scope 'nowhere/sefton-carers': unknown contract 'nowhere'"),
        ("lcr-housing/sefton-carers", ValidationError, "contract lcr-housing has no delivery partners"),
        (f"{JOINT_CONTRACT}/nobody", NotFound, "has no partner 'nobody' (partners: bridge-housing, wirral-works"),
        (f"{JOINT_CONTRACT}/{'x' * 60}", ValidationError, "at most 64 are kept"),
    ]
    with api.engine.begin() as conn:
        for scope, error, message in cases:
            with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
                create_token(conn, "p", "partner", scope)
            assert raised.value.field == "scope"
        token, info = create_token(conn, "p", "partner", f"{JOINT_CONTRACT}/wirral-works")
    assert info.scope == f"{JOINT_CONTRACT}/wirral-works"
    mine = api.client.get(f"/contracts/{JOINT_CONTRACT}/partners/wirral-works/statements/{PAID}", headers=auth(token))
    assert mine.status_code == 200 and mine.json()["period_figures"]["paid_pence"] == 130_000
    assert api.client.get(OWN, headers=auth(token)).status_code == 404
