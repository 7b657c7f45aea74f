"""End to end: a fund's statement terms live in its database. `fuel fund load` stores the terms
its file names, `fuel terms load|show|list` manage versions, and `fuel statements` /
`fuel distribute` need no terms file and no --terms flag."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNDS = ROOT / "fixtures" / "funds"


def _load_example(fuel) -> None:
    loaded = fuel("fund", "load", str(FUNDS / "example_fund.toml")).stdout
    assert "terms of fund lcr-outcomes: version 1, effective from 2026-01-15, stored" in loaded
    fuel("import", "flows", str(ROOT / "fixtures" / "flows" / "example_flows.csv"))


def test_fund_load_stores_the_terms_and_statements_read_them(fuel, tmp_path):
    _load_example(fuel)
    again = fuel("fund", "load", str(FUNDS / "example_fund.toml")).stdout
    assert "version 1, effective from 2026-01-15, unchanged (the same terms are already stored)" in again
    listed = json.loads(fuel("terms", "list", "--json").stdout)["rows"]
    assert [(r["fund"], r["version"], r["effective_from"], r["terms_name"]) for r in listed] == [
        ("lcr-outcomes", 1, "2026-01-15", "example_fund_terms.toml")]
    shown = json.loads(fuel("terms", "show", "--as-of", "2026-09-30", "--json").stdout)
    assert shown["version"] == 1 and shown["allocation"]["income"] == "by_project"
    assert [t["id"] for t in shown["waterfall"]["tranches"]] == ["senior", "junior", "first-loss"]
    assert shown["targets"] == 5
    text = fuel("terms", "show", "--text").stdout
    assert 'fund = "lcr-outcomes"' in text and "[[tranches]]" in text  # the terms and the waterfall as stored

    out = tmp_path / "statements"
    result = fuel("statements", "--quarter", "2026Q1", "--out", str(out), "--format", "json")
    assert "statement(s) for lcr-outcomes 2026Q1 written to" in result.stdout
    figures = json.loads((out / "lcr-outcomes_nsi_2026Q1.json").read_text())
    assert figures["capital_account"]["itd"]["ending_pence"] > 0
    posted = json.loads(fuel("distribute", "--amount", "1000.00", "--date", "2026-03-31", "--json").stdout)
    assert posted["distributed_pence"] == 100_000
    # The old flag is gone: one way to give terms.
    gone = fuel("statements", "--quarter", "2026Q1", "--out", str(out), "--terms", "x.toml", ok=False)
    assert gone.returncode == 1 and "error: No such option: --terms" in gone.stderr


def test_a_new_version_applies_from_its_date(fuel, tmp_path):
    _load_example(fuel)
    changed = tmp_path / "example_fund_terms.toml"
    text = (FUNDS / "example_fund_terms.toml").read_text().replace('fees = "by_commitment"', 'fees = "pro_rata_paid_in"')
    changed.write_text(_absolute_waterfall(text))
    early = fuel("terms", "load", str(changed), "--effective-from", "2026-01-01", ok=False)
    assert early.returncode == 1
    assert "version 1 applies from 2026-01-15; a new version must apply from a later date" in early.stderr
    loaded = fuel("terms", "load", str(changed), "--effective-from", "2026-07-01").stdout
    assert "terms of fund lcr-outcomes: version 2, effective from 2026-07-01, stored" in loaded
    assert "unchanged" in fuel("terms", "load", str(changed)).stdout
    before = json.loads(fuel("terms", "show", "--as-of", "2026-06-30", "--json").stdout)
    after = json.loads(fuel("terms", "show", "--as-of", "2026-07-01", "--json").stdout)
    assert (before["version"], before["allocation"]["fees"]) == (1, "by_commitment")
    assert (after["version"], after["allocation"]["fees"]) == (2, "pro_rata_paid_in")
    table = fuel("terms", "list").stdout
    assert "2026-01-15" in table and "2026-07-01" in table


def _small_fund(path: Path, fund_id: str, terms_line: str = "") -> Path:
    path.write_text(f'[fund]\nid = "{fund_id}"\nname = "Small fund"\n{terms_line}\n\n'
                    f'[[tranches]]\nid = "{fund_id}-senior"\nname = "Senior"\nrank = 1\n')
    return path


def _absolute_waterfall(text: str) -> str:
    return text.replace('"../waterfalls/', f'"{ROOT}/fixtures/waterfalls/')


def test_refusals_are_one_clear_line(fuel, tmp_path):
    fuel("fund", "load", str(FUNDS / "example_fund.toml"))
    # A fund with no terms: statements and distributions say how to load them.
    fuel("fund", "load", str(_small_fund(tmp_path / "bare.toml", "bare-fund")))
    bad = fuel("statements", "--fund", "bare-fund", "--quarter", "2026Q1", "--out", str(tmp_path / "s"), ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("error: fund bare-fund has no statement terms: load them with "
                                  "`fuel terms load FILE`")
    assert "no statement terms" in fuel("distribute", "--fund", "bare-fund", "--amount", "10.00",
                                        "--date", "2026-03-31", ok=False).stderr
    # A fund file naming a terms file that is not there: nothing is loaded, not even the fund.
    refused = fuel("fund", "load", str(_small_fund(tmp_path / "m.toml", "missing-fund", 'terms = "nowhere.toml"')),
                   ok=False)
    assert refused.returncode == 1 and "nowhere.toml: file not found" in refused.stderr
    assert "missing-fund" not in fuel("fund", "list").stdout
    # A fund file naming terms written for another fund.
    terms = tmp_path / "example_fund_terms.toml"
    terms.write_text(_absolute_waterfall((FUNDS / "example_fund_terms.toml").read_text()))
    refused = fuel("fund", "load", str(_small_fund(tmp_path / "w.toml", "wrong-fund",
                                                  'terms = "example_fund_terms.toml"')), ok=False)
    assert ("error: example_fund_terms.toml: the terms are for fund lcr-outcomes, not wrong-fund"
            in refused.stderr)
    assert "wrong-fund" not in fuel("fund", "list").stdout
    # Terms whose waterfall tranches are not the fund's.
    mismatch = tmp_path / "bare_terms.toml"
    mismatch.write_text(terms.read_text().replace('"lcr-outcomes"', '"bare-fund"'))
    refused = fuel("terms", "load", str(mismatch), ok=False)
    assert "do not match fund bare-fund's tranches [('bare-fund-senior', 1)]" in refused.stderr
    # Terms for a fund that does not exist.
    ghost = tmp_path / "ghost_terms.toml"
    ghost.write_text(terms.read_text().replace('"lcr-outcomes"', '"ghost"'))
    refused = fuel("terms", "load", str(ghost), ok=False)
    assert "error: ghost_terms.toml: fund 'ghost' does not exist: load the fund first" in refused.stderr
    listed = fuel("terms", "list", "--csv").stdout
    assert "lcr-outcomes" in listed and "ghost" not in listed and "bare-fund" not in listed


def test_every_terms_command_has_help(fuel):
    for command, phrase in (("load", "Store a fund"), ("show", "The terms that apply"), ("list", "Every stored version")):
        assert phrase in fuel("terms", command, "--help").stdout
    assert "terms" in fuel("fund", "load", "--help").stdout
