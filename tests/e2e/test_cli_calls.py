"""An incubator call end to end through the CLI (docs/calls.md): open, apply as two
organisations, declare a conflict, score, decide, publish, award, pay the first tranche, move to
acceleration and to a contract; the ledger, the pipeline report and sources-and-uses agree."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import REPO

CALL = REPO / "fixtures" / "calls" / "ageing_call.toml"
APPS = REPO / "fixtures" / "calls" / "ageing_applications.csv"
GROUP = ("lcr-outcomes", "charitable", None, "ageing")


@dataclass
class Ran:
    stdout: str
    stderr: str
    returncode: int


@pytest.fixture
def fuel(tmp_path, capsys, monkeypatch):
    """``fuel`` through its entry point (``ledger.shell.cli.main``: parsing, errors, exit codes)
    in this process: a subprocess per command would take minutes for a whole call."""
    from ledger.shell.cli import main

    url = f"sqlite:///{tmp_path / 'fuel.db'}"
    monkeypatch.setenv("FUEL_USER", "tester")

    def run(*args: str, ok: bool = True) -> Ran:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["fuel", "--db", url, *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
        out = capsys.readouterr()
        assert "Traceback" not in out.err, out.err
        if ok:
            assert code == 0, out.err
        return Ran(out.out, out.err, code)

    run("init")
    return run


def _json(fuel, *args):
    return json.loads(fuel(*args, "--json").stdout)


def _reserved(fuel) -> int:
    rows = _json(fuel, "report", "sources-uses")["rows"]
    return next(r for r in rows if (r["fund"], r["source"], r["tranche"], r["restriction"]) == GROUP)["reserved_pence"]


def _pipeline(fuel, stage: str) -> dict:
    rows = _json(fuel, "report", "pipeline", "--as-of", "2027-12-31")["rows"]
    return next(r for r in rows if r["stage"] == stage and r["theme"] == "ageing")


def _granted_to(fuel, project: str) -> int:
    rows = _json(fuel, "report", "sources-uses", "--by", "project")["rows"]
    return sum(r.get("granted_pence") or 0 for r in rows if r["project"] == project)


def test_a_call_from_opening_to_a_contract(fuel, tmp_path):
    fuel("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    fuel("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    opened = _json(fuel, "calls", "open", str(CALL))
    assert opened == {"call": "ageing-2026", "version": 1, "status": "opened"}
    assert _json(fuel, "calls", "open", str(CALL))["status"] == "unchanged"
    assert _reserved(fuel) == 1_500_000  # the whole budget, held until the decisions are published

    made = _json(fuel, "calls", "apply", "--call", "ageing-2026", str(APPS))
    assert made["submitted"] == 3
    by_ref = {a["reference"]: a for a in made["applications"]}
    assert by_ref["A1"]["eligible"] and by_ref["B1"]["eligible"]
    assert not by_ref["C1"]["eligible"] and any("area manchester" in r for r in by_ref["C1"]["reasons"])
    a1, b1 = by_ref["A1"]["id"], by_ref["B1"]["id"]

    fuel("calls", "conflict", str(a1), "--assessor", "ann", "--note", "trustee of Sefton Silver Line")
    refused = fuel("calls", "score", str(a1), "--assessor", "ann", "--score", "need=5", "--score", "outcomes=5",
                   "--score", "capacity=5", ok=False)
    assert refused.returncode == 1 and "declared a conflict of interest" in refused.stderr
    scored = _json(fuel, "calls", "score", str(a1), "--assessor", "bob", "--score", "need=4", "--score", "outcomes=4",
                   "--score", "capacity=3")
    assert scored["score_hundredths"] == 7600  # (4/5*40 + 4/5*40 + 3/5*20) = 76.00
    fuel("calls", "score", str(b1), "--assessor", "ann", "--score", "need=3", "--score", "outcomes=5", "--score", "capacity=2")
    fuel("calls", "decide", str(a1), "--decision", "award", "--reasons", "strong need, clear outcomes", "--date", "2026-07-10")
    fuel("calls", "decide", str(b1), "--decision", "decline", "--reasons", "no commissioner interest yet", "--date", "2026-07-10")
    fuel("calls", "publish", "ageing-2026", "--date", "2026-07-15")
    late = fuel("calls", "decide", str(b1), "--decision", "award", "--reasons", "changed mind", "--date", "2026-07-16", ok=False)
    assert "decisions were published" in late.stderr
    assert _reserved(fuel) == 0  # published: only what is awarded is held, and nothing is awarded yet

    award = _json(fuel, "calls", "award", str(a1), "--date", "2026-07-20")
    assert award["project"] == "ageing-2026-1" and award["amount_pence"] == 800_000
    assert [t["amount_pence"] for t in award["tranches"]] == [400_000, 400_000]
    assert _reserved(fuel) == 800_000
    incubating = _pipeline(fuel, "incubation")
    assert (incubating["committed_pence"], incubating["deployed_pence"]) == (800_000, 0)

    paid = _json(fuel, "calls", "pay", str(award["award_id"]), "--tranche", "1", "--date", "2026-07-25")
    assert paid["status"] == "paid" and paid["amount_pence"] == 400_000
    assert _json(fuel, "calls", "pay", str(award["award_id"]), "--tranche", "1", "--date", "2026-07-25")["status"] == "already paid"
    assert _granted_to(fuel, "ageing-2026-1") == 400_000  # the ledger: a grant disbursement with the restriction
    assert _reserved(fuel) == 400_000
    incubating = _pipeline(fuel, "incubation")
    assert (incubating["committed_pence"], incubating["deployed_pence"], incubating["undeployed_pence"]) == (800_000, 400_000, 400_000)

    fuel("projects", "stage", "ageing-2026-1", "acceleration", "--date", "2026-10-01")
    assert _pipeline(fuel, "acceleration")["deployed_pence"] == 400_000
    # the contract the project wins: a real rate card, for the call's fund and the awarded project, with
    # its payer a party of the fund (a contract's fund, project and payers must exist: issue 16)
    rate_card = (REPO / "fixtures" / "contracts" / "example_rough_sleeping.toml").read_text()
    won = tmp_path / "won.toml"
    won.write_text(rate_card.replace('project = "INDIGO-POJ-0154"', 'project = "ageing-2026-1"\nfund = "lcr-outcomes"'))
    fuel("payers", "add", "mhclg", "--name", "Ministry of Housing, Communities and Local Government")
    fuel("contracts", "load", str(won))
    contract_id = "gm-rough-sleeping"
    linked = _json(fuel, "calls", "contract", "ageing-2026-1", contract_id, "--date", "2027-01-15")
    assert linked["stage"] == "contracted"
    assert _pipeline(fuel, "contracted")["deployed_pence"] == 400_000
    cost = _json(fuel, "calls", "cost-to-contract", "--as-of", "2027-12-31")["rows"]
    assert cost == [{"contract": contract_id, "project": "ageing-2026-1", "call": "ageing-2026", "awarded_pence": 800_000,
                     "paid_pence": 400_000, "incubated_on": "2026-07-20", "contracted_on": "2027-01-15"}]
    conversion = _json(fuel, "calls", "conversion", "--as-of", "2027-12-31")["rows"]
    assert conversion == [{"incubated_in": 2026, "incubated": 1, "accelerated": 1, "contracted": 1, "conversion_percent": 100}]
    summary = {(r["by"], r["group"]): r for r in _json(fuel, "calls", "report", "ageing-2026", "--as-of", "2027-12-31")["rows"]}
    assert summary[("all", "all")]["applications"] == 3 and summary[("all", "all")]["awarded_pence"] == 800_000
    assert summary[("org_type", "cic")]["awarded"] == 0 and summary[("area", "sefton")]["paid_pence"] == 400_000


def test_a_budget_beyond_the_money_is_refused_and_nothing_written(fuel, tmp_path):
    fuel("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    fuel("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    big = tmp_path / "big.toml"
    big.write_text(CALL.read_text().replace('amount = "15000.00"', 'amount = "90000.00"'))
    refused = fuel("calls", "open", str(big), ok=False)
    assert refused.returncode == 1 and "90000.00 GBP asked" in refused.stderr
    youth = tmp_path / "youth.toml"
    youth.write_text(CALL.read_text().replace('theme = "ageing"', 'theme = "youth"'))
    assert "does not permit the call's theme youth" in fuel("calls", "open", str(youth), ok=False).stderr
    assert _json(fuel, "calls", "list")["rows"] == []


def test_a_closed_call_accepts_nothing(fuel, tmp_path):
    fuel("fund", "load", str(REPO / "fixtures" / "funds" / "example_fund.toml"))
    fuel("import", "flows", str(REPO / "fixtures" / "flows" / "example_flows.csv"))
    fuel("calls", "open", str(CALL))
    fuel("calls", "close", "ageing-2026", "--date", "2026-05-01")
    refused = fuel("calls", "apply", "--call", "ageing-2026", str(APPS), ok=False)
    assert "row 3" in refused.stderr and "was closed on 2026-05-01" in refused.stderr
    assert _json(fuel, "calls", "applications", "ageing-2026")["rows"] == []
