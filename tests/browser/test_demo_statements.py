"""The demo as a new user meets it: `fuel demo` builds the fund (a small one), `fuel serve` runs
on its database with no other setup (the fund's statement terms were stored by the demo, as
`fuel fund load` stores them), and every investor signs in and sees its statement, with the
same figures the demo wrote to its statement files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import _free_port, _need_chromium, login, screenshot

ROOT = Path(__file__).resolve().parents[2]
FUND, QUARTER = "lcr-blended", "2025Q4"
INVESTORS = ("mersey-capital", "dockside-trust", "liver-foundation", "lcr-combined")


def _fuel(db: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "--db", f"sqlite:///{db}", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo built at 240 participants, served by `fuel serve`; one investor token each."""
    _need_chromium()
    out = tmp_path_factory.mktemp("demo") / "out"
    built = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "demo", "--out", str(out), "--participants",
                            "240", "--seed", "11"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr
    db = out / "demo.db"
    tokens = {investor: json.loads(_fuel(db, "tokens", "create", "--role", "investor", "--name", investor,
                                         "--investor", investor, "--json").stdout)["token"]
              for investor in INVESTORS}
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
    yield base, out, tokens
    server.terminate()
    server.wait(timeout=20)


@pytest.mark.parametrize("investor", INVESTORS)
def test_every_investor_sees_its_statement_with_figures(demo, browser, investor):
    from ledger.shell.web.render import money

    base, out, tokens = demo
    written = json.loads((out / "investors" / f"{FUND}_{investor}_{QUARTER}.json").read_text())
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        login(page, base, tokens[investor])
        assert page.url.endswith(f"/ui/investors/{investor}")
        home = page.content()
        assert "Performance is not available yet" not in home and "no statement terms" not in home
        assert page.get_by_role("heading", name="Performance since inception").count() == 1
        page.get_by_role("link", name=f"Statement {QUARTER}", exact=True).click()
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == f"Statement {QUARTER}: {written['investor_name']}"
        account = page.get_by_role("region", name="Capital account").inner_text()
        ending = written["capital_account"]["itd"]["ending_pence"]
        assert ending >= 0  # the senior may be repaid in full (0.00) by the statement date
        # The ending capital, the same in all three columns, as the demo's statement file has it.
        if ending > 0:
            ending_row = next(line for line in account.splitlines() if line.startswith("Ending capital"))
            assert ending_row.count(money(ending)) == 3, (money(ending), account)
        assert money(written["capital_account"]["itd"]["contributions_pence"]) in account
        screenshot(page, f"demo_statement_{investor}")
    finally:
        context.close()
