"""No page scrolls sideways (issue 18 item 8): every page each role may open, at a desktop width
(1280 px) and a phone width (375 px). At 1280 px no table needs its own horizontal scroll; at 375
px a wide table may scroll inside its labelled region (the accessible pattern for data tables),
but the page itself never does, and no cell clips its text ("£1,49")."""

from __future__ import annotations

import pytest

from ledger.shell.web.access import PAGE_RULES
from tests.browser.conftest import login, screenshot
from tests.web.cases import CASES

MEASURE = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('.table-wrap')]
      .filter(w => w.scrollWidth > w.clientWidth + 1)
      .map(w => `${w.getAttribute('aria-label') || w.querySelector('caption')?.textContent || 'table'} (${w.scrollWidth} px in ${w.clientWidth})`);
  const clipped = [...document.querySelectorAll('td, th, dd, dt')]
      .filter(c => getComputedStyle(c).overflow !== 'visible' && c.scrollWidth > c.clientWidth + 1)
      .map(c => c.textContent.trim().slice(0, 40));
  return {page: doc.scrollWidth - doc.clientWidth, wide, clipped};
}"""


def pages_for(role: str) -> list[str]:
    return sorted({CASES[key].own(role).path for key in CASES
                   if key[0] == "GET" and role in PAGE_RULES[key] and "/download" not in key[1]})  # fmt: skip


@pytest.mark.parametrize("role", ["fund_manager", "investor", "commissioner", "auditor", "partner"])
def test_no_page_scrolls_sideways_at_desktop_or_phone_width(role, server, browser):
    problems = []
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        login(page, server.url, server.world.tokens[role])
        for path in pages_for(role):
            response = page.goto(f"{server.url}/ui{path}")
            if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                continue
            seen = page.evaluate(MEASURE)
            if seen["page"] > 0:
                problems.append(f"{width}px {path}: the page is {seen['page']} px wider than the window")
                screenshot(page, f"overflow-{role}-{width}-{path.strip('/').replace('/', '_')}")
            if width == 1280 and seen["wide"]:
                problems.append(f"{width}px {path}: tables scroll sideways: {seen['wide']}")
            if seen["clipped"]:
                problems.append(f"{width}px {path}: clipped cells: {seen['clipped'][:3]}")
        context.close()
    assert not problems, "\n".join(problems)
