"""A payment mechanism billed through the API (issue 17): load a contract with a tiered-bands
mechanism, post the period's figures, run the claim, approve, invoice, pay; the fund's balances
show the receivable cleared, the outcome income and the cash; the council statement's CSV shows
the inputs and formula and re-derives with ``fuel claims verify``'s rules, and fails, naming the
line, when the figure is changed."""

from __future__ import annotations

from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.verify import verify_statement_csv
from tests.api.world import OWN_FUND, auth, contract_text

CONTRACT = "lcr-bands"
MECHANISM = ('\n[[mechanisms]]\nkind = "tiered_bands"\n'
             'bands = [{ from = "0.05", payment = "1000.00" }, { from = "0.10", payment = "2500.00" }]\n')


def test_a_mechanism_bills_through_the_api(fresh):
    api = fresh()
    c, fm = api.client, auth(api.world.tokens["fund_manager"])
    text = contract_text(CONTRACT, OWN_FUND, "council") + MECHANISM
    assert c.post("/contracts", json={"toml": text, "source_name": "bands.toml"}, headers=fm).status_code == 201
    posted = c.post(f"/contracts/{CONTRACT}/mechanisms", headers=fm,
                    json={"period": "2026Q3", "index": 0, "figures_toml": 'improvement = "0.12"\n'})
    assert posted.status_code == 201, posted.text
    assert posted.json()["payment_pence"] == 250_000
    run = c.post(f"/contracts/{CONTRACT}/claims", json={"period": "2026Q3"}, headers=fm)
    assert run.status_code == 201, run.text
    assert run.json()["net_pence"] == 250_000
    base = f"/contracts/{CONTRACT}/claims/2026Q3"

    def balances() -> dict:
        rows = c.get(f"/funds/{OWN_FUND}/balances", params={"by": "account_code,project", "as_of": "2030-01-01"},
                     headers=fm).json()["rows"]
        return {(r["key"]["account_code"], r["key"]["project"]): r["balance_pence"] for r in rows}

    def change(after: dict, before: dict, account: str) -> int:
        return after.get((account, "PRJ-LCR-1"), 0) - before.get((account, "PRJ-LCR-1"), 0)

    before = balances()
    approved = c.post(f"{base}/approval", json={"on": "2026-10-20"}, headers=fm)
    assert approved.status_code == 201, approved.text
    after_approval = balances()
    assert change(after_approval, before, "outcome_payments_receivable") == 250_000
    assert change(after_approval, before, "outcome_income") == -250_000
    assert c.post(f"{base}/invoice", json={"ref": "INV-BANDS"}, headers=fm).status_code == 201
    paid = c.post(f"{base}/payments", json={"on": "2026-11-02"}, headers=fm)
    assert paid.status_code == 201 and paid.json()["status"] == "paid"
    after_payment = balances()
    assert change(after_payment, before, "outcome_payments_receivable") == 0
    assert change(after_payment, before, "cash") == 250_000

    shown = c.get(base, headers=fm).json()
    line = next(li for li in shown["lines"] if li["outcome_id"] == "mechanism:0:tiered_bands")
    assert line["evidence_ref"] == "band 2" and line["net_pence"] == 250_000
    assert line["share_council_pence"] + line["share_central_pence"] == 250_000

    from reports.council import render_csv, statement_for

    with api.engine.connect() as conn:
        csv_text = render_csv(statement_for(conn, CONTRACT, "2026Q3"))
    assert ",band 2,from,0.10,contract" in csv_text and ",,improvement,0.12,figures file" in csv_text
    contract = load_contract_toml(text, "bands.toml")
    assert verify_statement_csv(csv_text, contract).ok
    changed = verify_statement_csv(csv_text.replace(",,improvement,0.12,figures file",
                                                    ",,improvement,0.07,figures file"), contract)
    assert not changed.ok
    assert any(d.where.startswith("annex line 1 (participant , outcome mechanism:0:tiered_bands") and
               d.field == "price_pence" for d in changed.differences)
