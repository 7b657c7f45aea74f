"""The applicant's pages (docs/calls.md): only its own applications, never the scores; the
form applies as its own organisation, with reasons when not eligible."""

from __future__ import annotations

from tests.api.world import OWN_CALL, application
from tests.web.conftest import csrf_of, sign_in


def test_an_applicant_sees_its_own_applications_and_applies_through_the_form(fresh):
    api = fresh()
    client, world = api.client, api.world
    sign_in(client, world.tokens["applicant"])
    home = client.get("/ui/applications")
    assert home.status_code == 200
    assert home.text.count("Befriending") == 1  # its own application only (the rival's is not listed)
    csrf = csrf_of(client, f"/ui/calls/{OWN_CALL}/apply")
    made = client.post(f"/ui/calls/{OWN_CALL}/applications", follow_redirects=False,
                       data={**application("W2", "Sefton Silver Line", "20000.00"), "area": "mars", "csrf": csrf})
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert "submitted" in page.text and "area mars is" not in page.text  # the call names no areas: any area
    assert "No: amount 20000.00 is more than the call&#39;s budget 10000.00" in page.text
    bad = client.post(f"/ui/calls/{OWN_CALL}/applications", data={**application("W3", "Sefton"), "amount": "lots", "csrf": csrf})
    assert bad.status_code == 422 and "The application was not submitted" in bad.text
    rival = client.get(f"/ui/calls/{OWN_CALL}/apply")
    assert "Wirral Care CIC" not in rival.text and "score" not in rival.text.lower()
