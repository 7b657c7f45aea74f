"""The value pages of the demo, one per audience: the fund manager sees, for every demo contract,
its payers, the agencies that save and the ratios, with the money-flow chart; the council sees
its own contract's; an investor sees the fund's; each figure equals `fuel report value`'s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.conftest import _free_port, _need_chromium, login, screenshot

ROOT = Path(__file__).resolve().parents[2]
FUND, AS_OF = "lcr-blended", "2025-12-31"
CONTRACTS = ("lcr-ageing-well", "lcr-complex-needs", "lcr-leaving-homelessness", "lcr-youth-employment")


def _fuel(db: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{db}", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    _need_chromium()
    out = tmp_path_factory.mktemp("value-demo") / "out"
    built = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "demo", "--out", str(out), "--participants",
                            "240", "--seed", "11"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr
    db = out / "demo.db"
    tokens = {
        "fm": json.loads(_fuel(db, "tokens", "create", "--role", "fund_manager", "--name", "fm", "--fund", FUND,
                               "--json").stdout)["token"],
        "council": json.loads(_fuel(db, "tokens", "create", "--role", "commissioner", "--name", "sefton",
                                    "--payer", "sefton-mbc", "--json").stdout)["token"],
        "investor": json.loads(_fuel(db, "tokens", "create", "--role", "investor", "--name", "mersey",
                                     "--investor", "mersey-capital", "--json").stdout)["token"],
    }
    report = json.loads(_fuel(db, "report", "value", "--fund", FUND, "--as-of", AS_OF, "--json").stdout)["tables"]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{db}", "serve", "--port",
                               str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "FUEL_USER": "tester"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"fuel serve did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield base, tokens, report
    server.terminate()
    server.wait(timeout=20)


def _open(browser, base, token, path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    login(page, base, token)
    page.goto(f"{base}/ui{path}")
    return context, page


def test_fund_manager_sees_every_contracts_payers_agencies_and_ratios(demo, browser):
    from ledger.shell.web.render import money
    from ledger.values import AGENCY_NAMES

    base, tokens, report = demo
    summary = {r["contract"]: r for r in report["value_summary"]["rows"]}
    context, page = _open(browser, base, tokens["fm"], f"/funds/{FUND}/value?as_of={AS_OF}")
    try:
        for contract in CONTRACTS:
            section = page.locator(f"#value-{contract}")
            text = section.inner_text()
            payers = [r for r in report["value_payers"]["rows"] if r["contract"] == contract]
            agencies = [r for r in report["value_agencies"]["rows"] if r["contract"] == contract]
            assert payers and agencies
            for r in payers:
                assert money(r["outcome_payments_pence"]) in section.locator(".payer").all_inner_texts().__str__()
            for r in agencies:
                assert f"Saves {AGENCY_NAMES[r['agency']]}" in text and money(r["fiscal_value_pence"]) in text
            assert section.locator(".fiscal-bcr").inner_text() == summary[contract]["fiscal_bcr"]
            assert section.locator(".public-bcr").inner_text() == summary[contract]["public_value_bcr"]
            assert Decimal(summary[contract]["fiscal_bcr"]) > 0
            assert section.locator("svg path.flow-pay").count() >= 1
            assert section.locator("svg path.flow-value").count() >= 1
        screenshot(page, "value_fund_manager")
    finally:
        context.close()


def test_council_sees_its_contract_and_not_anothers(demo, browser):
    base, tokens, report = demo
    context, page = _open(browser, base, tokens["council"], f"/contracts/lcr-leaving-homelessness/value?as_of={AS_OF}")
    try:
        section = page.locator("#value-lcr-leaving-homelessness")
        assert "Paid by Sefton Council (demo)" in section.inner_text()
        assert "Saves DWP" in section.inner_text() and "Saves Local authority" in section.inner_text()
        page.goto(f"{base}/ui/contracts/lcr-complex-needs/value")
        assert "lcr-complex-needs" not in page.locator("main").inner_text() or "unknown contract" in page.content()
    finally:
        context.close()


def test_investor_sees_the_funds_values_without_the_line_annex(demo, browser):
    base, tokens, report = demo
    context, page = _open(browser, base, tokens["investor"], f"/funds/{FUND}/value/investor?as_of={AS_OF}")
    try:
        for contract in CONTRACTS:
            assert page.locator(f"#value-{contract} .fiscal-bcr").count() == 1
        assert page.get_by_role("heading", name="Where each figure comes from").count() == 0
    finally:
        context.close()
