"""Bank reconciliation in headless Chromium against the served app: the fund manager opens its
bank account, confirms a proposed match, and turns an unmatched bank fee into an entry in one
step; the reconciliation then explains the difference to the penny. An investor and a council
never see bank details: the bank pages are refused and their own pages carry no account number;
an auditor reads the bank pages with the number masked and no buttons.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ledger.periods import Period
from models import bank_store as bank
from models.ledger_store import postings_t
from tests.api.world import OPEN, OWN_FUND
from tests.browser.conftest import login, screenshot

NUMBER = "31926819"


def _statement(server) -> tuple[int, str]:
    """A bank account on the world's fund holding its fullest unrestricted bucket, and a CSV
    statement: one line settling a ledger payment (same amount and date) and one bank fee."""
    from ledger.bank_formats import CsvMapping

    with server.engine.begin() as conn:
        source, tranche, _ = conn.execute(
            select(postings_t.c.source, postings_t.c.tranche, func.sum(postings_t.c.amount_pence).label("cash"))
            .where(postings_t.c.account_code == "cash", postings_t.c.fund == OWN_FUND,
                   postings_t.c.restriction.is_(None), postings_t.c.source.is_not(None))
            .group_by(postings_t.c.source, postings_t.c.tranche).order_by(func.sum(postings_t.c.amount_pence).desc())
        ).first()
        bank.save_csv_mapping(conn, "testbank", CsvMapping(date="Date", amount="Amount", reference="Reference"), "fm")
        holds = f"{source}/{tranche}" if tranche else source
        bank.add_account(conn, fund=OWN_FUND, account_id="ops", name="Operating account", sort_code="601613",
                         account_number=NUMBER, currency="GBP", holds=[holds], bank="testbank", by="fm")
        item = bank.cash_items(conn, bank.account(conn, "ops"))[0]
        fee_day = Period.parse(OPEN).start + timedelta(days=3)
        pounds = f"{item.amount_pence // 100}.{item.amount_pence % 100:02d}" if item.amount_pence > 0 else \
            f"-{-item.amount_pence // 100}.{-item.amount_pence % 100:02d}"
        csv_text = f"Date,Amount,Reference\n{item.effective_date},{pounds},PAYMENT\n{fee_day},-12.50,SERVICE CHARGE\n"
        bank.import_statement(conn, "ops", csv_text.encode(), "ops.csv", "csv", "fm")
    return item.entry_id, fee_day.isoformat()


def test_fund_manager_confirms_a_match_and_posts_a_bank_fee_investor_and_council_see_no_bank(server, page, browser):
    entry_id, fee_day = _statement(server)
    login(page, server.url, server.world.tokens["fund_manager"])
    page.get_by_role("link", name="Bank").click()
    page.wait_for_load_state()
    assert NUMBER in page.content()  # the fund manager sees the account number whole
    page.get_by_role("link", name="ops").click()
    page.goto(page.url + f"?as_of={fee_day}")
    proposals = page.locator("#proposals")
    assert f"entry {entry_id}" in proposals.inner_text()
    page.get_by_role("button", name="Confirm match of line").first.click()
    page.wait_for_load_state()
    assert "No proposals" in page.locator("#proposals").inner_text()
    unmatched = page.locator("#unmatched")
    assert "SERVICE CHARGE" in unmatched.inner_text()
    assert page.locator("#unexplained").inner_text() == "£0.00"
    screenshot(page, "bank_before_fee")
    page.get_by_role("button", name="Record as a bank charge").click()
    page.wait_for_load_state()
    assert "None." in page.locator("#unmatched").inner_text()
    assert page.locator("#unexplained").inner_text() == "£0.00"
    assert "SERVICE CHARGE" not in page.locator("#items").inner_text()
    screenshot(page, "bank_after_fee")
    with server.engine.connect() as conn:
        history = bank.match_history(conn, "ops")
    assert [(h["action"], h["rule"]) for h in history] == [("confirm", "amount_date"), ("confirm", "posted")]
    assert all(h["recorded_by"].startswith("web:") for h in history)

    context = browser.new_context()
    auditor = context.new_page()
    login(auditor, server.url, server.world.tokens["auditor"])
    response = auditor.goto(f"{server.url}/ui/funds/{OWN_FUND}/bank")
    assert response.status == 200 and "****6819" in auditor.content() and NUMBER not in auditor.content()
    auditor.goto(f"{server.url}/ui/funds/{OWN_FUND}/bank/ops?as_of={fee_day}")
    assert NUMBER not in auditor.content() and auditor.get_by_role("button", name="Confirm").count() == 0
    context.close()

    for role in ("investor", "commissioner"):
        context = browser.new_context()
        other = context.new_page()
        login(other, server.url, server.world.tokens[role])
        home = other.content()
        assert NUMBER not in home and "6819" not in home and "Bank" not in other.locator("nav").inner_text()
        for path in (f"/ui/funds/{OWN_FUND}/bank", f"/ui/funds/{OWN_FUND}/bank/ops/reconciliation/csv"):
            response = other.goto(server.url + path)
            assert response.status == 403
            assert NUMBER not in other.content() and "6819" not in other.content()
        context.close()
