"""Pages offer quarters that have happened (issue 18 item 7): the newest offered is the last
closed quarter (else the last ended quarter with activity), never one still running, and a
statement for a quarter that has not ended is refused rather than shown "as of" a future day."""

from __future__ import annotations

import re
from datetime import date

from ledger.periods import Period
from tests.api.world import OWN_FUND, OWN_INVESTOR
from tests.web.conftest import sign_in


def offered(client) -> list[str]:
    html = client.get(f"/ui/funds/{OWN_FUND}/statements").text
    select = re.search(r'<select id="quarter-view" name="quarter">(.*?)</select>', html, re.S).group(1)
    return re.findall(r"<option[^>]*>(\d{4}Q[1-4])</option>", select)


def test_quarters_end_at_the_last_closed_one_and_never_run_past_today(fresh):
    api = fresh()
    sign_in(api.client, api.world.tokens["fund_manager"])
    quarters = offered(api.client)
    assert quarters and all(Period.parse(q).last_day <= date.today() for q in quarters)
    assert Period.containing(date.today()).name not in quarters
    # closing the quarter before the newest offered makes it the default (first, selected)
    from models.ledger_store import Ledger

    target = Period.parse(quarters[-1])  # the fund's first quarter: closing it needs no later data
    Ledger(api.engine).close(target, "test")
    assert offered(api.client)[0] == target.name


def test_a_statement_for_a_quarter_still_running_is_refused(shared):
    sign_in(shared.client, shared.world.tokens["fund_manager"])
    running = Period.containing(date.today()).name
    page = shared.client.get(f"/ui/funds/{OWN_FUND}/investors/{OWN_INVESTOR}/statements/{running}")
    assert page.status_code == 422 and "has not ended" in page.text
