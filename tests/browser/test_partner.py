"""A delivery partner, end to end in headless Chromium against the served app: it signs in with
its token, lands on its own statements, opens the 2026Q3 statement and sees its figures,
downloads the CSV, and gets a 404 for another partner's statement. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

from tests.api.world import JOINT_CONTRACT, OTHER_JOINT_CONTRACT, OTHER_PARTNER, OWN_PARTNER, PAID
from tests.browser.conftest import login, screenshot


def test_a_partner_sees_its_own_statement_and_not_another_partners(server, page):
    login(page, server.url, server.world.tokens["partner"])
    home = f"/ui/contracts/{JOINT_CONTRACT}/partners/{OWN_PARTNER}"
    assert page.url.endswith(home)
    assert page.get_by_role("heading", level=1).inner_text() == "Sefton Carers Network: partner statements"
    assert page.get_by_role("link", name="My statements").get_attribute("href") == home

    page.get_by_role("link", name=f"Statement {PAID}").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Partner statement {PAID}: Sefton Carers Network"
    # 2026Q3: received 1,700 for its participants; 60% share 1,020 + period fee 250 = 1,270 due, unpaid.
    figures = {name: page.locator(f"#{name}").inner_text() for name in ("received", "share", "fees", "total",
                                                                           "outstanding")}
    assert figures == {"received": "£1,700.00", "share": "£1,020.00", "fees": "£250.00", "total": "£1,270.00",
                       "outstanding": "£1,270.00"}
    assert "Bridge Housing" not in page.content()
    screenshot(page, "partner_statement")
    with page.expect_download() as info:
        page.locator("#download-csv").click()
    download = info.value
    assert download.suggested_filename == f"partner-statement_{JOINT_CONTRACT}_{OWN_PARTNER}_{PAID}.csv"
    assert "period,total,,,,127000," in open(download.path(), encoding="utf-8").read()

    for contract, partner in ((JOINT_CONTRACT, OTHER_PARTNER), (OTHER_JOINT_CONTRACT, OWN_PARTNER)):
        response = page.goto(f"{server.url}/ui/contracts/{contract}/partners/{partner}/statements/{PAID}")
        assert response.status == 404
        assert "not yours to see" in page.locator("main").inner_text()
        assert "Bridge Housing" not in page.content() and "£3,000.00" not in page.content()
    screenshot(page, "partner_other_statement_404")
