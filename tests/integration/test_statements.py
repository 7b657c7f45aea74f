"""Investor statements end to end on both backends: a fund with senior, junior and first-loss
investors, a write-down, outcome income, fees and a waterfall distribution; every statement's
identities; golden HTML and JSON (update on purpose with FUEL_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from ledger.capital_accounts import load_fund_terms
from ledger.errors import IdempotencyConflict, InvariantBroken, ValidationError
from ledger.funds import fund_setup_from_mapping
from ledger.periods import Period
from ledger.statements import assemble_statements, check_statement
from models.flows_store import import_flows, save_setup
from models.statements_store import distribute, ledger_nav, statement_inputs
from reports.statements import render_csv, render_html, render_json

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "statements"
TERMS = ROOT / "fixtures" / "funds" / "example_fund_terms.toml"
FUND = "lcr-outcomes"
Q3 = Period.parse("2026Q3")


def build_fund(engine) -> None:
    with engine.begin() as conn:
        setup = tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text())
        save_setup(conn, fund_setup_from_mapping(setup, "example_fund.toml"))
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        import_flows(conn, (ROOT / "tests" / "data" / "statements" / "scenario_flows.csv").read_text(), "scenario")
    terms = load_fund_terms(TERMS)
    with engine.begin() as conn:
        distribute(conn, FUND, 10_000_00, date(2026, 9, 30), terms, recorded_by="tester")


@pytest.fixture
def fund(engine):
    build_fund(engine)
    terms = load_fund_terms(TERMS)
    with engine.connect() as conn:
        inputs = statement_inputs(conn, FUND, Q3, terms)
    return engine, terms, inputs, {s.investor: s for s in assemble_statements(inputs)}


def test_every_statement_satisfies_the_identities(fund):
    engine, _, inputs, statements = fund
    assert sorted(statements) == ["big-impact", "lcr-ca", "mersey-cf", "nsi"]
    for statement in statements.values():
        check_statement(statement)
        account = statement.capital_account
        for column in ("qtd", "ytd", "itd"):
            c = account.column(column)
            assert c.beginning_pence + sum(v for _, v in c.lines) == c.ending_pence
        assert account.qtd.ending_pence == account.ytd.ending_pence == account.itd.ending_pence
        perf = statement.performance
        assert perf.dpi + perf.rvpi == perf.tvpi
        for _, c in statement.commitments:
            assert (c.beginning_unfunded_pence + c.new_commitments_pence - c.contributions_pence + c.recallable_pence
                    == c.ending_unfunded_pence)
    # The investors' capital plus the council's grant (a capital holder, not an investor) is the
    # fund's net assets in the ledger.
    with engine.connect() as conn:
        nav = ledger_nav(conn, FUND, Q3.last_day)
    assert nav == inputs.ledger_nav_pence
    council_grant_capital = nav - sum(s.capital_account.itd.ending_pence for s in statements.values())
    assert council_grant_capital == statements["nsi"].fund_performance.nav_pence - sum(
        s.capital_account.itd.ending_pence for s in statements.values())
    assert 0 < council_grant_capital < 40_000_00  # the £40,000 grant less its £20,000 grant to hf-tenancy, etc.


def test_the_write_down_falls_on_the_pool_then_the_first_loss(fund):
    """The £30,000 write-down of aw-homecare's senior loan in 2026Q3 is shown where the ledger put
    it (the senior group's investors), then the waterfall valuation moves it: first it uses up
    what the community pool had accrued above every cap, then the first-loss grant; the senior
    and junior investors keep their capital plus capped return (docs/statements.md)."""
    _, terms, inputs, statements = fund
    from ledger.capital_accounts import build_capital_accounts

    pool = ("community-pool", None, None, None)
    committed = {(c.investor, c.tranche): c.amount_pence for c in inputs.commitments}
    q2 = build_capital_accounts(inputs.movements, terms, Period.parse("2026Q2"), None, inputs.disbursed, committed,
                                inputs.transfers)
    q3 = build_capital_accounts(inputs.movements, terms, Q3, None, inputs.disbursed, committed, inputs.transfers)
    assert q2.ending(pool, Period.parse("2026Q2")) > 0 and q3.ending(pool, Q3) == 0
    for investor in ("nsi", "big-impact"):
        qtd = statements[investor].capital_account.qtd
        assert qtd.line("unrealised_gains_losses") < 0
        covered = qtd.line("first_loss_protection") + qtd.line("carry_and_community_pool")
        assert covered + qtd.line("unrealised_gains_losses") > 0  # made whole, and still accruing
    first_loss = {a.tranche: a for a in statements["mersey-cf"].tranche_accounts}["first-loss"]
    assert first_loss.qtd.line("first_loss_protection") < 0
    assert first_loss.itd.ending_pence < first_loss.itd.line("contributions")
    # Each line of the waterfall valuation sums to zero over the fund.
    for line in ("first_loss_protection", "carry_and_community_pool"):
        assert sum(lines.get(line, 0) for lines in q3.moves["2026Q3"].values()) == 0


def test_waterfall_distribution_is_split_and_conserves(fund):
    _, _, _, statements = fund
    roc = sum(s.capital_account.qtd.line("distributions_return_of_capital") for s in statements.values())
    assert roc == -10_000_00  # senior capital first: all of it return of capital
    assert statements["lcr-ca"].capital_account.qtd.line("distributions_return_of_capital") == 0
    assert statements["mersey-cf"].capital_account.itd.line("distributions_return_of_capital") == 0


def test_distribution_is_idempotent_and_refuses_a_changed_replay(fund):
    engine, terms, _, _ = fund
    with engine.begin() as conn:
        again = distribute(conn, FUND, 10_000_00, date(2026, 9, 30), terms)
    assert not again.created and again.distributed_pence == 10_000_00
    assert again.post.entry.draft.description.startswith("Distribution of 10,000.00 GBP")  # readable on the dashboard
    with engine.begin() as conn, pytest.raises(IdempotencyConflict):
        distribute(conn, FUND, 10_000_01, date(2026, 9, 30), terms, key=again.post.entry.draft.idempotency_key)
    with engine.begin() as conn, pytest.raises(ValidationError, match="not enough unrestricted cash"):
        distribute(conn, FUND, 100_000_000_00, date(2026, 9, 30), terms)


def test_rendering_is_deterministic_and_matches_golden_files(fund):
    _, _, _, statements = fund
    update = os.environ.get("FUEL_UPDATE_GOLDEN") == "1"
    for investor in ("mersey-cf", "nsi"):
        statement = statements[investor]
        html, figures = render_html(statement), render_json(statement)
        assert render_html(statement) == html  # byte-identical for identical inputs
        assert re.search(rf"Drawn from ledger tip {re.escape(statement.ledger_tip)}:", html)
        for suffix, text in (("html", html), ("json", figures)):
            # The tip hashes the entries' recorded times: its entry count is compared, not its hash.
            text = re.sub(r"\b(\d+):[0-9a-f]{64}\b", r"\1:TIP-HASH", text)
            path = GOLDEN / f"{investor}_2026Q3.{suffix}"
            if update:
                path.write_text(text, encoding="utf-8")
            assert path.exists(), f"{path} missing: run with FUEL_UPDATE_GOLDEN=1 once, on purpose"
            assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden file"
        data = json.loads(figures)
        assert isinstance(data["capital_account"]["itd"]["ending_pence"], int)
        assert "Restricted funds" in html if investor == "mersey-cf" else "Restricted funds" not in html
        assert html.count("<svg") >= 2
        assert render_csv(statement).splitlines()[0] == "fund,investor,quarter,section,item,column,amount_pence,value"


def test_a_ledger_that_does_not_tie_is_refused(fund):
    _, _, inputs, _ = fund
    from dataclasses import replace

    with pytest.raises(InvariantBroken, match="net assets"):
        assemble_statements(replace(inputs, ledger_nav_pence=inputs.ledger_nav_pence + 1))


def test_an_exit_above_cost_is_a_realised_gain_on_the_statements(engine):
    """hf-tenancy's £40,000 first-loss loan is sold for £46,000: the loan leaves the books, the
    £6,000 is shown on the realised line (not the unrealised one), and the positions add up."""
    build_fund(engine)
    exit_row = ("event,date,fund,amount,project,instrument,description\n"
                "exit,2026-09-15,lcr-outcomes,46000.00,hf-tenancy,loan,Loan sold to a social bank\n")
    with engine.begin() as conn:
        import_flows(conn, exit_row, "exit.csv")
    terms = load_fund_terms(TERMS)
    with engine.connect() as conn:
        inputs = statement_inputs(conn, FUND, Q3, terms)
        assert ledger_nav(conn, FUND, Q3.last_day) == inputs.ledger_nav_pence
    realised = [m for m in inputs.movements if m.account == "realised_gains"]
    assert sum(m.amount_pence for m in realised) == -6_000_00
    from ledger.capital_accounts import build_capital_accounts

    committed = {(c.investor, c.tranche): c.amount_pence for c in inputs.commitments}
    accounts = build_capital_accounts(inputs.movements, terms, Q3, None, inputs.disbursed, committed,
                                      inputs.transfers)
    q3 = accounts.moves["2026Q3"]
    assert sum(lines.get("realised_gains_losses", 0) for lines in q3.values()) == 6_000_00
    statements = assemble_statements(inputs)  # every identity holds with the gain in
    assert any(s.capital_account.qtd.line("realised_gains_losses") > 0 for s in statements)


def test_the_narrative_states_the_statements_own_figures(fund):
    """Each figure a narrative sentence states equals the statement's JSON figure it names, and
    appears, formatted and linked, in the sentence."""
    from reports.narrative import investor_narrative

    _, _, _, statements = fund
    for investor in ("mersey-cf", "nsi"):
        statement = statements[investor]
        data = json.loads(render_json(statement))
        qtd = data["capital_account"]["qtd"]
        expected = {
            "paid": qtd["contributions_pence"],
            "received": -sum(qtd[f"distributions_{c}_pence"] for c in ("return_of_capital", "income", "gains")),
            "beginning": qtd["beginning_pence"], "ending": qtd["ending_pence"],
            "achieved_q": sum(o["achieved_qtd"] for o in data["impact"]["outcomes"]),
            "achieved": sum(o["achieved_itd"] for o in data["impact"]["outcomes"]),
            "met": sum(1 for o in data["impact"]["outcomes"] if o["target"] and o["achieved_itd"] >= o["target"]),
            "targeted": sum(1 for o in data["impact"]["outcomes"] if o["target"]),
            "people": sum(p["participants"] for p in data["impact"]["projects"]),
            "payments_q": sum(p["payments_qtd_pence"] for p in data["impact"]["projects"]),
            "payments": sum(p["payments_itd_pence"] for p in data["impact"]["projects"]),
        }
        sentences = investor_narrative(statement)
        stated = {f.name: f for s in sentences for f in s.figures}
        assert set(stated) == set(expected)
        for name, value in expected.items():
            assert stated[name].value == value, name
        for sentence in sentences:
            for figure in sentence.figures:
                assert figure.shown in sentence.text
                assert f'<a href="{figure.href}">{figure.shown}</a>' in sentence.html()
        assert data["narrative"] == [s.text for s in sentences]
        assert data["narrative"][0].startswith(f"This quarter ({statement.quarter}) you paid in £")
