"""A deal-by-deal history in the example fund's ledger, for the clawback tests.

``fuel distribute`` runs whole-fund waterfalls only (the ledger does not yet tag an investor's
contributions by deal), so this posts a deal's exit the way ``distribute`` posts a run:
``build_distribution_entry`` and its distribution lines, from a deal-by-deal run whose state is
the ledger's contributions tagged by deal.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

from ledger.capital_accounts import load_fund_terms
from ledger.funds import fund_setup_from_mapping
from ledger.waterfall import Exit, Position, WaterfallState, run_waterfall
from models.flows_store import book_of, import_flows, load_position, save_setup
from models.ledger_store import post_entries
from models.statements_store import build_distribution_entry, lines_t, waterfall_state

ROOT = Path(__file__).resolve().parents[2]
FUND = "lcr-outcomes"
DEAL_TERMS = ROOT / "tests" / "data" / "clawback" / "deal_by_deal_terms.toml"
#: nsi's £210,000 is deal aw-homecare; big-impact's £140,000 and lcr-ca's £100,000 yf-mentoring.
DEAL_OF = {"nsi": "aw-homecare", "big-impact": "yf-mentoring", "lcr-ca": "yf-mentoring"}
WINNER_EXIT = date(2026, 10, 1)
FUND_END = date(2026, 12, 31)


def build_fund(conn) -> None:
    setup = tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text())
    save_setup(conn, fund_setup_from_mapping(setup, "example_fund.toml"))
    import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
    import_flows(conn, (ROOT / "tests" / "data" / "statements" / "scenario_flows.csv").read_text(), "scenario")


def post_winning_exit(conn, proceeds_pence: int = 230_000_00) -> None:
    """aw-homecare exits on WINNER_EXIT for ``proceeds_pence``: nsi's £210,000 back and 20% of the
    gain to the manager. yf-mentoring is later written off: it distributes nothing."""
    terms = load_fund_terms(DEAL_TERMS)
    book = book_of(conn, FUND)
    state = waterfall_state(conn, book, terms, WINNER_EXIT)
    tagged = WaterfallState(tuple(
        Position(p.investor, p.tranche, p.commitment_pence,
                 tuple(replace(c, project=DEAL_OF.get(p.investor)) for c in p.contributions), p.distributions)
        for p in state.positions), state.recipients)
    result = run_waterfall(terms.waterfall, {"aw-homecare": Exit(WINNER_EXIT, proceeds_pence)}, None, tagged)
    cash = {(k[2], k[3], k[4]): v for k, v in load_position(conn).cash.items()
            if k[0] == FUND and k[1] == "GBP" and k[4] is None}
    draft, lines = build_distribution_entry(book, result, cash, "test:deal-exit:aw-homecare")
    post = post_entries(conn, [draft], "tester")[0]
    conn.execute(lines_t.insert(), [{**line, "entry_id": post.entry.id, "fund": FUND, "effective_date": WINNER_EXIT}
                                    for line in lines])
    from models.evidence_store import seal

    seal(conn, "distribution_line", lines_t.c.entry_id == post.entry.id)  # as distribute() does
