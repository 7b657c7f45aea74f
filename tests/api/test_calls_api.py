"""Incubator calls through the API (docs/calls.md): an applicant sees only its own applications
and never the scores; an assessor never scores an application it declared a conflict on."""

from __future__ import annotations

from tests.api.world import OWN_CALL, application, auth


def test_an_applicant_sees_only_its_own_applications_and_no_scores(fresh):
    api = fresh()
    w, c = api.world, api.client
    scored = c.post(f"/applications/{w.own_application}/scores", json={"scores": {"need": 4}}, headers=auth(w.tokens["assessor"]))
    assert scored.status_code == 201 and scored.json()["score_hundredths"] == 8000
    c.post(f"/applications/{w.rival_application}/scores", json={"scores": {"need": 2}}, headers=auth(w.tokens["assessor"]))
    mine = c.get(f"/calls/{OWN_CALL}/applications", headers=auth(w.tokens["applicant"]))
    assert mine.status_code == 200
    assert [a["id"] for a in mine.json()] == [w.own_application]
    assert "score_hundredths" not in mine.json()[0] and "assessors" not in mine.json()[0]
    rival = c.get(f"/applications/{w.rival_application}", headers=auth(w.tokens["applicant"]))
    assert rival.status_code == 404 and "unknown application" in rival.json()["detail"]
    everyone = c.get(f"/calls/{OWN_CALL}/applications", headers=auth(w.tokens["fund_manager"])).json()
    assert [a["score_hundredths"] for a in everyone] == [8000, 4000]
    decided = c.post(f"/applications/{w.own_application}/decisions", headers=auth(w.tokens["fund_manager"]),
                     json={"decision": "award", "reasons": "strong need", "on": "2026-04-01"})
    assert decided.status_code == 201
    own = c.get(f"/applications/{w.own_application}", headers=auth(w.tokens["applicant"])).json()
    assert (own["decision"], own["decision_reasons"]) == ("award", "strong need") and "score_hundredths" not in own


def test_an_applicant_applies_as_its_own_organisation(fresh):
    api = fresh()
    w, c = api.world, api.client
    made = c.post(f"/calls/{OWN_CALL}/applications", json={**application("R9", "Sefton Silver Line"), "org_type": "plc"},
                  headers=auth(w.tokens["applicant"]))
    assert made.status_code == 201
    body = made.json()
    assert body["org_id"] == "GB-CHC-1123456" and not body["eligible"]
    assert body["reasons"] == ["organisation type plc is not eligible (charity, cio, cic, company_limited_by_guarantee, "
                               "community_group, social_enterprise, cooperative)"]
    late = c.post(f"/calls/{OWN_CALL}/applications", json={**application("R10", "Sefton"), "submitted_on": "2028-01-01"},
                  headers=auth(w.tokens["applicant"]))
    assert late.status_code == 422 and "accepts nothing" in late.json()["detail"]


def test_an_assessor_never_scores_an_application_it_declared_a_conflict_on(fresh):
    api = fresh()
    w, c = api.world, api.client
    headers = auth(w.tokens["assessor"])
    declared = c.post(f"/applications/{w.own_application}/conflicts", json={"note": "trustee"}, headers=headers)
    assert declared.status_code == 201
    refused = c.post(f"/applications/{w.own_application}/scores", json={"scores": {"need": 5}}, headers=headers)
    assert refused.status_code == 422 and "declared a conflict of interest" in refused.json()["detail"]
    seen = c.get(f"/applications/{w.own_application}", headers=auth(w.tokens["fund_manager"])).json()
    assert seen["assessors"] == 0 and seen["score_hundredths"] is None


def test_a_call_through_the_api_agrees_with_the_ledger_and_the_pipeline(fresh):
    from datetime import date

    from models.db import reading
    from models.pipeline_store import pipeline
    from tests.api.world import OWN_FUND

    api = fresh()
    w, c = api.world, api.client
    fm, asr = auth(w.tokens["fund_manager"]), auth(w.tokens["assessor"])

    def reserved() -> int:
        rows = c.get(f"/funds/{OWN_FUND}/reports/sources-uses", headers=fm).json()["rows"]
        return next(r for r in rows if (r["source"], r["tranche"], r["restriction"] or None) == ("social_investment", "senior", None))["reserved_pence"]

    assert reserved() == 1_000_000
    assert c.post(f"/applications/{w.rival_application}/conflicts", json={"note": "partner org"}, headers=asr).status_code == 201
    assert c.post(f"/applications/{w.rival_application}/scores", json={"scores": {"need": 5}}, headers=asr).status_code == 422
    assert c.post(f"/applications/{w.own_application}/scores", json={"scores": {"need": 4}}, headers=asr).status_code == 201
    decided = c.post(f"/applications/{w.own_application}/decisions", headers=fm,
                     json={"decision": "award", "reasons": "need", "on": "2026-04-01", "amount": "4000.00"})
    assert decided.status_code == 201 and decided.json()["amount_pence"] == 400_000
    assert c.post(f"/calls/{OWN_CALL}/publication", json={"on": "2026-04-02"}, headers=fm).status_code == 201
    assert reserved() == 0
    award = c.post(f"/applications/{w.own_application}/award", json={"on": "2026-04-03"}, headers=fm)
    assert award.status_code == 201 and award.json()["amount_pence"] == 400_000
    assert reserved() == 400_000
    paid = c.post(f"/applications/{w.own_application}/payments", json={"tranche": 1, "on": "2026-04-04"}, headers=fm)
    assert paid.status_code == 201 and paid.json()["amount_pence"] == 400_000
    assert reserved() == 0
    entry = c.get(f"/funds/{OWN_FUND}/entries/{paid.json()['entry_id']}", headers=fm).json()
    assert entry["event_kind"] == "disbursement"
    assert {(p["account"], p["amount_pence"]) for p in entry["postings"]} == {("project_grants", 400_000), ("cash", -400_000)}
    with reading(api.engine) as conn:
        incubating = [r for r in pipeline(conn, date(2026, 12, 31), OWN_FUND) if r["stage"] == "incubation"]
    assert [(r["committed_pence"], r["deployed_pence"]) for r in incubating] == [(400_000, 400_000)]
    mine = c.get(f"/applications/{w.own_application}", headers=auth(w.tokens["applicant"])).json()
    assert mine["decision"] == "award" and mine["project_id"] == award.json()["project"]
