"""Each audience's main task, end to end in headless Chromium against the served app.

* the fund manager records a drawdown and sees the cash balance change;
* the investor downloads a statement (PDF);
* the council disputes a claim line and the fund manager sees the dispute;
* an investor's session cannot open another investor's statement page;
* the dashboard at phone width (375px).

Each saves a screenshot to artifacts/screenshots/.
"""

from __future__ import annotations

import re

from tests.api.world import OPEN, OTHER_INVESTOR, OWN_CONTRACT, OWN_FUND, OWN_INVESTOR, PAID
from tests.browser.conftest import login, screenshot


def _cash(page) -> int:
    """The dashboard's cash figure in pence, checking it is shown as pounds with separators."""
    text = page.locator("#cash-total").inner_text()
    assert re.fullmatch(r"£\d{1,3}(,\d{3})*\.\d{2}", text), text
    return int(text.lstrip("£").replace(",", "").replace(".", ""))


def _choose(page, label: str, value: str) -> None:
    """Pick from the visible select labelled ``label`` (role queries skip hidden fields)."""
    page.get_by_role("combobox", name=re.compile(rf"^{label}\b")).select_option(value)


def _type(page, label: str, value: str) -> None:
    page.get_by_role("textbox", name=re.compile(rf"^{label}\b")).fill(value)


def test_fund_manager_records_a_drawdown_and_sees_the_balance_change(server, page):
    login(page, server.url, server.world.tokens["fund_manager"])
    assert page.url.endswith(f"/ui/funds/{OWN_FUND}")
    before = _cash(page)

    # A capital call of £15,000 (split 2:1 between the senior commitments)...
    page.get_by_role("link", name="Record an event").first.click()
    _choose(page, "What happened", "drawdown_notice")
    page.locator("#effective_date").fill("2026-11-02")
    _choose(page, "Tranche", "senior")
    # ...first typed with a thousands separator: the error is shown next to the field.
    _type(page, "Amount", "15,000")
    page.get_by_role("button", name="Record the event").click()
    error = page.locator("#amount-error")
    assert "thousands separators" in error.inner_text()
    assert "amount-error" in page.locator("#amount").get_attribute("aria-describedby")
    screenshot(page, "fund_manager_validation_error")
    _type(page, "Amount", "15000.00")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_url(re.compile(r".*/ui/funds/fuel-lcr\?posted=\d+"))
    assert _cash(page) == before  # a notice is a call, not cash

    # ...then Investor A's drawdown of £10,000 arrives.
    page.get_by_role("link", name="Record an event").first.click()
    _choose(page, "What happened", "drawdown_received")
    assert page.locator("#investor").is_visible() and not page.locator("#payer").is_visible()  # the script shows the fields of the kind chosen
    page.locator("#effective_date").fill("2026-11-03")
    _choose(page, "Tranche", "senior")
    _choose(page, "Investor", OWN_INVESTOR)
    _type(page, "Amount", "10000.00")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_url(re.compile(r".*\?posted=\d+"))
    assert page.get_by_role("status").inner_text().startswith("Entry ")
    assert _cash(page) == before + 1_000_000  # £10,000.00 more cash
    assert "£10,000.00" in page.locator("#recent-h + .table-wrap").inner_text()
    screenshot(page, "fund_manager_dashboard_after_drawdown")


def test_investor_downloads_a_statement(server, page):
    login(page, server.url, server.world.tokens["investor"])
    assert page.url.endswith(f"/ui/investors/{OWN_INVESTOR}")
    page.get_by_role("link", name=f"Statement {PAID}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Statement {PAID}: Investor A"
    screenshot(page, "investor_statement")
    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    path = download.path()
    assert open(path, "rb").read(5) == b"%PDF-"


def test_council_disputes_a_line_and_the_fund_manager_sees_it(server, page, browser):
    login(page, server.url, server.world.tokens["commissioner"])
    assert page.url.endswith("/ui/contracts")
    page.get_by_role("link", name=f"Claim {OPEN} for {OWN_CONTRACT}").click()
    assert page.locator("#claim-status").inner_text() == "validated"
    # A dispute with no reason is refused, next to the field.
    page.get_by_role("button", name="Dispute line 1").click()
    assert "reason" in page.locator("#reason-1-error").inner_text()
    page.get_by_label("Reason for disputing line 1").fill("Evidence reference does not match our records")
    page.get_by_role("button", name="Dispute line 1").click()
    page.wait_for_load_state()
    assert page.locator("#disputed-count").inner_text() == "1"
    assert "Evidence reference does not match our records" in page.locator("#disputes").inner_text()
    screenshot(page, "council_dispute")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download XLSX").click()
    assert info.value.suggested_filename.endswith(".xlsx")

    manager = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(manager, server.url, server.world.tokens["fund_manager"])
    claims = manager.locator("#pipe-h ~ .table-wrap", has_text=OPEN)
    assert re.search(rf"{OPEN}\s+validated\s+\d+\s+1\s", claims.inner_text())
    manager.get_by_role("link", name=OPEN).click()
    assert "Evidence reference does not match our records" in manager.locator("#disputes").inner_text()
    screenshot(manager, "fund_manager_sees_dispute")
    manager.context.close()


def test_an_investor_cannot_open_another_investors_statement(server, page):
    login(page, server.url, server.world.tokens["investor"])
    own = f"{server.url}/ui/funds/{OWN_FUND}/investors/{OWN_INVESTOR}/statements/{PAID}"
    other = f"{server.url}/ui/funds/{OWN_FUND}/investors/{OTHER_INVESTOR}/statements/{PAID}"
    assert page.goto(own).status == 200
    for url in (other, other + "/download/pdf", f"{server.url}/ui/investors/{OTHER_INVESTOR}"):
        response = page.goto(url)
        assert response.status == 404
        assert "Investor B" not in page.content()
    screenshot(page, "investor_other_statement_404")


def test_dashboard_at_phone_width(server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    login(page, server.url, server.world.tokens["fund_manager"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide at a 375px viewport (tables scroll inside their own box)"
    screenshot(page, "fund_manager_dashboard_phone")
    context.close()


def test_keyboard_skip_link_and_password_login(server, page):
    from models.web_store import create_user

    with server.engine.begin() as conn:
        create_user(conn, "ana", "a long passphrase", "investor", OWN_INVESTOR)
    page.goto(f"{server.url}/ui/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "do not match" in page.locator("#password-error").inner_text()
    page.get_by_label("Password").fill("a long passphrase")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(rf".*/ui/investors/{OWN_INVESTOR}$"))
    assert page.get_by_role("heading", level=1).count() == 1
    cookie = next(c for c in page.context.cookies() if c["name"] == "fuel_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    screenshot(page, "investor_home")
