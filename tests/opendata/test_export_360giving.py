"""`fuel export 360giving`: the demo fund's grants validate against the shipped 360Giving 1.4
schema and codelists (checked here with jsonschema directly, offline), amounts are exact, the
spreadsheet converts back to the same JSON with flattentool, participants never appear, and bad
input is refused with one line and no file."""

from __future__ import annotations

import json
import re
import sqlite3
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from reports import giving360
from tests.e2e.conftest import REPO
from tests.opendata.conftest import FUND

SCHEMAS = REPO / "fixtures" / "360giving"
PUBLISHER = REPO / "fixtures" / "demo" / "360giving.toml"


def schema_errors(package: dict) -> list[str]:
    """An independent check: the package schema, the grant schema under both URLs it is known by."""
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text())
    package_schema = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text())
    resource = DRAFT202012.create_resource(grant)
    registry = Registry().with_resources([(f"https://raw.githubusercontent.com/ThreeSixtyGiving/standard/{v}/schema/"
                                           "360-giving-schema.json", resource) for v in ("1.4.2", "1.4.3")])  # fmt: skip
    validator = Draft202012Validator(package_schema, registry=registry, format_checker=FormatChecker())
    return [e.message for e in validator.iter_errors(json.loads(giving360.dumps(package), parse_float=float))]


def codelist(name: str) -> set[str]:
    import csv

    with (SCHEMAS / "codelists" / name).open(encoding="utf-8") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


def test_demo_fund_export_validates_against_the_schema_and_codelists(demo, tmp_path):
    out = tmp_path / "grants.json"
    result = demo("export", "360giving", "--fund", FUND, "--publisher", str(PUBLISHER), "--out", str(out))
    assert result.stderr == ""
    text = out.read_text(encoding="utf-8")
    package = json.loads(text, parse_float=Decimal)
    assert schema_errors(package) == []
    grants = package["grants"]
    with sqlite3.connect(demo.db) as db:
        passthroughs = db.execute("select count(*) from journal_entries where event_kind = 'partner_passthrough'").fetchone()[0]
        booked = db.execute("select -sum(amount_pence) from postings p join journal_entries e on e.id = p.entry_id "
                            "where e.event_kind = 'partner_passthrough' and account_code = 'partner_payables'").fetchone()[0]
        participant_ids = [r[0] for r in db.execute("select participant_id from pbr_participants")]
    assert passthroughs > 0 and len(grants) == passthroughs
    assert sum(int(g["amountAwarded"] * 100) for g in grants) == booked  # to the penny
    assert f"{len(grants)} grant(s)" in result.stdout
    assert "share of the outcome payments the fund received" in grants[0]["description"]
    # Exact numbers: two decimals, as text, never a binary-float artefact such as 7440.000000001.
    for amount in re.findall(r'"amountAwarded": ([^,\n]+)', text):
        assert re.fullmatch(r"\d+\.\d{2}", amount), amount
    geo_types, countries = codelist("geoCodeType.csv"), codelist("countryCode.csv")
    for grant in grants:
        assert grant["fundingOrganization"] == [{"id": "360G-lcrblended", "name": "Liverpool City Region Blended Outcomes Fund (demo)"}]
        assert grant["id"].startswith("360G-lcrblended-") and grant["currency"] in codelist("currency.csv")
        assert grant["recipientOrganization"][0]["id"].startswith("360G-lcrblended-org-")
        assert grant["grantProgramme"][0]["code"] == "lcr-complex-needs"  # the joint-prime contract
        assert grant["plannedDates"] == [{"startDate": "2024-01-01", "endDate": "2026-12-31"}]
        assert {loc["geoCode"] for loc in grant["beneficiaryLocation"]} == {"E08000012", "E08000014"}
        assert all(loc["geoCodeType"] in geo_types and loc["countryCode"] in countries for loc in grant["beneficiaryLocation"])
        assert {c["vocabulary"] for c in grant["classifications"]} >= {"Fuel grant kind", "Fuel theme"}
    assert len({g["id"] for g in grants}) == len(grants)
    assert participant_ids and not any(re.search(rf"\b{re.escape(p)}\b", text) for p in participant_ids)


def test_spreadsheet_form_uses_the_standard_titles_and_converts_back_to_the_same_json(demo, tmp_path):
    import openpyxl

    demo("export", "360giving", "--fund", FUND, "--publisher", str(PUBLISHER), "--out", str(tmp_path / "g.json"))
    result = demo("export", "360giving", "--fund", FUND, "--publisher", str(PUBLISHER), "--out", str(tmp_path / "g.xlsx"))
    assert result.stderr == ""  # flattentool's warnings stay inside
    sheet = openpyxl.load_workbook(tmp_path / "g.xlsx")["grants"]
    headers = [c.value for c in sheet[1]]
    assert headers[:6] == ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date"]
    back = giving360.read_xlsx(tmp_path / "g.xlsx", tmp_path / "back.json")
    original = json.loads((tmp_path / "g.json").read_text(), parse_float=Decimal)
    assert back["grants"] == original["grants"]


def test_project_and_first_loss_grants_with_registered_numbers_and_a_date_range(example, tmp_path):
    fuel = example
    fuel("record", "grant-received", "--investor", "mersey-cf", "--amount", "10000.00", "--tranche", "first-loss",
         "--date", "2026-04-01", "--fund", "lcr-outcomes")  # fmt: skip
    fuel("record", "disbursement", "--project", "hf-tenancy", "--form", "grant", "--source", "charitable",
         "--tranche", "first-loss", "--amount", "2500.10", "--date", "2026-04-02", "--fund", "lcr-outcomes")  # fmt: skip
    profile = tmp_path / "pub.toml"
    profile.write_text('[publisher]\nprefix = "360G-example"\norg_id = "GB-CHC-1000001"\n'
                       '[organisations.ageing-well]\ncharity_number = "1000002"\n'
                       '[organisations.homes-first]\ncompany_number = "09000003"\n'
                       '[projects.aw-homecare]\nprogramme = { code = "ageing-call-2026", title = "Ageing well call 2026" }\n'
                       'locations = [{ name = "Liverpool", geocode = "E08000012" }]\n')  # fmt: skip
    out = tmp_path / "g.json"
    fuel("export", "360giving", "--fund", "lcr-outcomes", "--publisher", str(profile), "--out", str(out))
    grants = json.loads(out.read_text(), parse_float=Decimal)["grants"]
    assert schema_errors({"grants": grants}) == []
    by_amount = {g["amountAwarded"]: g for g in grants}
    assert set(by_amount) == {Decimal("30000.00"), Decimal("20000.00"), Decimal("2500.10")}
    ageing = by_amount[Decimal("30000.00")]
    assert ageing["recipientOrganization"] == [{"id": "GB-CHC-1000002", "name": ageing["recipientOrganization"][0]["name"],
                                                "charityNumber": "1000002"}]  # fmt: skip
    assert ageing["fundingOrganization"][0]["id"] == "GB-CHC-1000001"
    assert ageing["grantProgramme"] == [{"code": "ageing-call-2026", "title": "Ageing well call 2026"}]
    assert ageing["beneficiaryLocation"][0]["geoCodeType"] == "MD"
    first_loss = by_amount[Decimal("2500.10")]
    assert first_loss["recipientOrganization"][0]["id"] == "GB-COH-09000003"
    kinds = {c["code"] for c in first_loss["classifications"] if c["vocabulary"] == "Fuel grant kind"}
    assert kinds == {"first_loss_grant"}
    fuel("export", "360giving", "--fund", "lcr-outcomes", "--from", "2026-04-01", "--to", "2026-04-30", "--out", str(out))
    grants = json.loads(out.read_text(), parse_float=Decimal)["grants"]
    assert [g["amountAwarded"] for g in grants] == [Decimal("2500.10")]
    assert grants[0]["recipientOrganization"][0]["id"] == "360G-lcroutcomes-org-homes-first"  # no profile: own scheme


@pytest.mark.parametrize("args, message", [
    (["--out", "g.csv"], "must end in .json or .xlsx"),
    (["--out", "missing/g.json"], "does not exist"),
    (["--fund", "nope"], "fund 'nope' is not known"),
    (["--from", "2030-01-01"], "no grants in the period"),
    (["--from", "2026-05-01", "--to", "2026-04-01"], "is before --from"),
    (["--publisher", "bad.toml"], "bad.toml: not valid TOML"),
    (["--publisher", "badprefix.toml"], "must look like 360G-"),
    (["--publisher", "badgeo.toml"], "not in the 360Giving geoCodeType codelist"),
])  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(example, tmp_path, args, message):
    fuel = example
    (tmp_path / "bad.toml").write_text("[publisher\n")
    (tmp_path / "badprefix.toml").write_text('[publisher]\nprefix = "GB-CHC-1"\n')
    (tmp_path / "badgeo.toml").write_text('[projects.aw-homecare]\nlocations = [{ name = "X", geocode = "E1", geocode_type = "ZZ" }]\n')
    options = {"--fund": "lcr-outcomes", "--out": "g.json"}
    for flag, value in zip(args[::2], args[1::2]):
        options[flag] = str(tmp_path / value) if value.endswith((".toml", ".json", ".csv")) else value
    result = fuel("export", "360giving", *[x for kv in options.items() for x in kv], ok=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "g.json").exists() and not (REPO / "g.json").exists()


def test_exact_amounts_and_a_codelist_breach_is_reported():
    text = giving360.dumps({"a": giving360.pounds(744000), "b": [giving360.pounds(1), giving360.pounds(-5)]})
    assert json.loads(text, parse_float=str) == {"a": "7440.00", "b": ["0.01", "-0.05"]}
    bad = {"grants": [{"id": "x", "title": "t", "description": "d", "currency": "GBP", "amountAwarded": Decimal("1.00"),
                       "awardDate": "2026-13-01", "recipientOrganization": [{"id": "r", "name": "R"}],
                       "fundingOrganization": [{"id": "f", "name": "F"}],
                       "beneficiaryLocation": [{"name": "X", "geoCode": "E1", "geoCodeType": "ZZ"}]}]}  # fmt: skip
    problems = giving360.validate_package(bad)
    assert any(p.startswith("grants/0/awardDate") for p in problems)
    assert any("geoCodeType" in p for p in problems)
