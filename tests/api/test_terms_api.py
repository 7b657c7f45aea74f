"""The fund's statement terms over the API: stored versions listed and added, refusals as
problem details, and statements built from the stored terms (no terms folder)."""

from __future__ import annotations

from pathlib import Path

from tests.api.world import OTHER_FUND, OWN_FUND, TERMS_FILE, auth

ROOT = Path(__file__).resolve().parents[2]


def _body(**changes) -> dict:
    from ledger.shell.cli_terms import read_terms_file

    source = read_terms_file(TERMS_FILE)
    return {"terms_toml": source.terms_text, "waterfall_toml": source.waterfall_text, **changes}


def test_versions_are_listed_and_a_new_one_applies_from_its_date(api):
    fm = auth(api.world.tokens["fund_manager"])
    listed = api.client.get(f"/funds/{OWN_FUND}/terms", headers=fm)
    assert listed.status_code == 200
    assert [(v["version"], v["effective_from"], v["loaded_by"]) for v in listed.json()] == [(1, "2026-01-05", "test")]
    same = api.client.post(f"/funds/{OWN_FUND}/terms", json=_body(), headers=fm)
    assert (same.status_code, same.json()["status"], same.json()["version"]) == (200, "unchanged", 1)
    changed = _body(effective_from="2026-04-01")
    changed["terms_toml"] = changed["terms_toml"].replace('fees = "by_commitment"', 'fees = "pro_rata_paid_in"')
    added = api.client.post(f"/funds/{OWN_FUND}/terms", json=changed, headers=fm)
    assert added.status_code == 201, added.text
    assert (added.json()["version"], added.json()["effective_from"], added.json()["status"]) == (2, "2026-04-01", "added")
    assert [v["version"] for v in api.client.get(f"/funds/{OWN_FUND}/terms", headers=fm).json()] == [1, 2]
    # Statements before and after the new version both build from the stored terms.
    for quarter in ("2026Q1", "2026Q2"):
        statement = api.client.get(f"/funds/{OWN_FUND}/investors/inv-a/statements/{quarter}", headers=fm)
        assert statement.status_code == 200 and statement.json()["quarter"] == quarter


def test_refusals_are_problem_details(fresh):
    api = fresh()
    fm = auth(api.world.tokens["fund_manager"])
    blended = (ROOT / "fixtures" / "waterfalls" / "blended_fund.toml").read_text()
    mismatch = api.client.post(f"/funds/{OWN_FUND}/terms", json=_body(waterfall_toml=blended,
                                                                      effective_from="2027-01-01"), headers=fm)
    assert mismatch.status_code == 422
    assert "do not match fund fuel-lcr's tranches" in mismatch.json()["detail"]
    other = _body()
    other["terms_toml"] = other["terms_toml"].replace('"fuel-lcr"', '"lcr-elsewhere"')
    wrong = api.client.post(f"/funds/{OWN_FUND}/terms", json=other, headers=fm)
    assert wrong.status_code == 422 and "the terms are for fund lcr-elsewhere, not fuel-lcr" in wrong.json()["detail"]
    broken = api.client.post(f"/funds/{OWN_FUND}/terms", json=_body(terms_toml="fund = [", effective_from="2027-01-01"),
                             headers=fm)
    assert broken.status_code == 422 and "not valid TOML" in broken.text
    setup = {"fund": {"id": OWN_FUND, "name": "LCR Fund", "terms": "terms.toml"}}
    named = api.client.post(f"/funds/{OWN_FUND}/setup", json=setup, headers=fm)
    assert named.status_code == 422 and f"POST the terms and waterfall texts to /funds/{OWN_FUND}/terms" in named.text
    assert [v["version"] for v in api.client.get(f"/funds/{OWN_FUND}/terms", headers=fm).json()] == [1]
    # A fund with no stored terms: its statements say so (the auditor may read any fund).
    auditor = auth(api.world.tokens["auditor"])
    none = api.client.get(f"/funds/{OTHER_FUND}/investors/inv-b/statements/2026Q1", headers=auditor)
    assert none.status_code == 422
    assert none.json()["detail"] == f"fund {OTHER_FUND} has no statement terms: load them with `fuel terms load FILE`"
    assert api.client.get(f"/funds/{OTHER_FUND}/terms", headers=auditor).json() == []
    assert api.client.get("/funds/no-such-fund/terms", headers=auditor).status_code == 404
