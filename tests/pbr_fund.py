"""The fund tests/data/pbr/contract.toml is booked in ("fuel-lcr", project PRJ-LCR-1, payers
council and central): a contract's fund, project and payers must exist once a database has a
fund (issue 16, item 5), so a test that loads the contract beside another fund sets it up."""

from __future__ import annotations

LCR_SETUP = {
    "fund": {"id": "fuel-lcr", "name": "LCR Fund", "currency": "GBP"},
    "parties": [{"id": "council", "name": "Liverpool City Council", "kind": "payer"},
                {"id": "central", "name": "Central top-up fund", "kind": "payer"},
                {"id": "chp", "name": "Community Housing Partnership", "kind": "provider"}],
    "projects": [{"id": "PRJ-LCR-1", "name": "Housing", "provider": "chp", "theme": "housing"}],
}


def set_up_lcr_fund(conn) -> None:
    from ledger.funds import fund_setup_from_mapping
    from models.flows_store import save_setup

    save_setup(conn, fund_setup_from_mapping(LCR_SETUP, "tests/pbr_fund.py"), "tester")
