"""An applicant, end to end in headless Chromium against the served app (docs/calls.md): it
signs in with its token, lands on its own applications, applies to a call through the form, sees
the reasons its application is not eligible, and gets a 404 for another organisation's
application in the API. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from tests.api.world import OWN_CALL
from tests.browser.conftest import login, screenshot


def test_an_applicant_applies_and_sees_only_its_own_applications(server, page):
    login(page, server.url, server.world.tokens["applicant"])
    assert page.url.endswith("/ui/applications")
    assert page.get_by_role("heading", level=1).inner_text() == "Your applications"
    assert page.locator("#applications tbody tr").count() == 1  # its own; the rival's is not listed

    page.get_by_role("link", name="Apply to Ageing well").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/ui/calls/{OWN_CALL}/apply")
    for label, value in (("Your reference", "B2"), ("Organisation name", "Sefton Silver Line"),
                         ("Organisation type", "charity"), ("Organisation size", "small"), ("Area", "sefton"),
                         ("Theme", "ageing"), ("Project", "Dementia cafes"), ("Outcomes the project aims at", "fewer admissions"),
                         ("Amount asked, in pounds", "12000.00"), ("Date", "2026-05-01")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "submitted" in page.get_by_role("status").inner_text()
    rows = page.locator("#applications tbody tr")
    assert rows.count() == 2
    assert "amount 12000.00 is more than the call's budget 10000.00" in page.locator("#applications").inner_text()
    assert "Wirral Care CIC" not in page.content()
    screenshot(page, "applicant_applied")

    rival = page.request.get(f"{server.url}/applications/{server.world.rival_application}",
                             headers={"Authorization": f"Bearer {server.world.tokens['applicant']}"})
    assert rival.status == 404
