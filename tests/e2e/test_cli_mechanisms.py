"""Every payment mechanism bills, end to end through the ``fuel`` command (a subprocess per
command): import the period's figures, run the claim, approve, invoice, pay; the ledger shows
the receivable, the outcome income and the cash; the council statement (HTML/PDF/CSV/XLSX)
shows the inputs and the formula; ``fuel claims verify`` passes on it and fails, naming the
line, when one input figure is changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "pbr"
C = ["--contract", "lcr-housing"]

MECHANISMS = {
    "baseline_reduction": 'baseline_units = 10000\nprice_per_unit = "12.05"\ncap = "6000.00"\nunit = "bed_day"\n',
    "per_day": 'price_per_day = "15.12"\nparticipant_cap = "500.00"\nstate = "housed"\n',
    "tiered_bands": 'bands = [{ from = "0.05", payment = "1000.00" }, { from = "0.10", payment = "2500.00" }]\n',
    "savings_share": 'share_until_repaid = "0.95"\nshare_after_repaid = "0.40"\nprincipal = "1000.00"\n'
                     'interest_rate = "0.05"\n',
    "cohort_comparison": 'price_per_event = "10.00"\ncohort_threshold = "0.10"\noverall_threshold = "0.075"\n',
}


def cohort(name: str, events: int) -> str:
    return (f'[[cohorts]]\nname = "{name}"\nintervention_size = 1000\nintervention_events = {events}\n'
            f'comparison_size = 1000\ncomparison_events = 800\n')


#: kind -> (figures of 2026Q3, payment, the figure a tamperer changes: (input row text, changed))
CASES = {
    "baseline_reduction": ("actual_units = 9800\n", 241_000,
                           (",,actual_units,9800,figures file", ",,actual_units,9700,figures file")),
    "per_day": ('spells = [{ participant_id = "P001", start = "2026-07-01" },\n'
                '          { participant_id = "P002", start = "2026-08-01", end = "2026-08-11" }]\n',
                50_000 + 10 * 1512, (",spell 2,end,2026-08-11,figures file", ",spell 2,end,2026-08-12,figures file")),
    "tiered_bands": ('improvement = "0.10"\n', 250_000,
                     (",,improvement,0.10,figures file", ",,improvement,0.09,figures file")),
    "savings_share": ('savings = "700.00"\n', 66_500,
                      (",,savings_pence,70000,figures file", ",,savings_pence,71000,figures file")),
    "cohort_comparison": (cohort("c1", 720), 80_000,
                          (",cohort c1,intervention_events,720,figures file",
                           ",cohort c1,intervention_events,730,figures file")),
}


def as_json(result) -> dict:
    return json.loads(result.stdout)


def balances(fuel, by: str) -> dict:
    rows = as_json(fuel("balances", "--as-of", "2030-01-01", "--by", by, "--json"))["rows"]
    keys = by.split(",")
    return {tuple(r[k] for k in keys): r["balance_pence"] for r in rows}


def contract_with(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"contract_{kind}.toml"
    path.write_text((DATA / "contract.toml").read_text() + f'\n[[mechanisms]]\nkind = "{kind}"\n{MECHANISMS[kind]}')
    return path


def figures(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def statement_csv(fuel, tmp_path: Path, period: str, formats: str = "html,csv,xlsx") -> Path:
    """The statement in ``formats`` (the PDF, slow to print, in one test only); its CSV."""
    out = tmp_path / f"out_{period}"
    made = as_json(fuel("claims", "statement", *C, "--period", period, "--out", str(out), "--format", formats,
                        "--json"))
    stem = out / f"lcr-housing_{period}_all"
    assert made["files"] == [str(stem.with_suffix(f".{s}")) for s in formats.split(",")]
    if "pdf" in formats:
        assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert stem.with_suffix(".xlsx").read_bytes().startswith(b"PK")
    html = stem.with_suffix(".html").read_text()
    assert "Payment mechanisms: inputs and formula" in html
    from openpyxl import load_workbook

    book = load_workbook(stem.with_suffix(".xlsx"))
    assert {"mechanism_inputs", "mechanism_formula"} <= set(book.sheetnames)
    return stem.with_suffix(".csv")


def lifecycle(fuel, period: str, approve_on: str, pay_on: str) -> dict:
    approved = as_json(fuel("claims", "approve", *C, "--period", period, "--date", approve_on, "--json"))
    fuel("claims", "invoice", *C, "--period", period, "--ref", f"INV-{period}")
    paid = as_json(fuel("claims", "pay", *C, "--period", period, "--date", pay_on, "--json"))
    assert paid["status"] == "paid"
    return approved


@pytest.mark.parametrize("kind", list(CASES))
def test_each_mechanism_bills_through_the_claim_lifecycle(fuel, tmp_path, kind):
    contract = contract_with(tmp_path, kind)
    fuel("contracts", "load", str(contract))
    text, payment, (row, changed) = CASES[kind]
    data = figures(tmp_path, f"{kind}_2026Q3.toml", text)
    recorded = as_json(fuel("claims", "mechanism", *C, "--period", "2026Q3", "--data", str(data), "--json"))
    assert (recorded["status"], recorded["payment_pence"]) == ("recorded", payment)

    run = as_json(fuel("claims", "run", *C, "--period", "2026Q3", "--json"))
    assert (run["status"], run["net_pence"]) == ("validated", payment)
    shown = as_json(fuel("claims", "show", *C, "--period", "2026Q3", "--json"))
    mechanism_lines = [line for line in shown["lines"] if line["outcome_id"] == f"mechanism:0:{kind}"]
    assert sum(line["net_pence"] for line in mechanism_lines) == payment
    for line in mechanism_lines:  # the payer split of every line adds up to it
        assert line["share_council_pence"] + line["share_central_pence"] == line["net_pence"]

    approved = lifecycle(fuel, "2026Q3", "2026-10-20", "2026-11-02")
    due = {p["payer_id"]: p["approved_pence"] for p in approved["payers"]}
    assert sum(due.values()) == payment
    by_counterparty = balances(fuel, "account_code,counterparty,project")
    assert by_counterparty.get(("outcome_payments_receivable", "council", "PRJ-LCR-1"), 0) == 0  # paid: clear
    assert by_counterparty[("cash", "council", "PRJ-LCR-1")] == due["council"]
    income = sum(v for (account, _, project), v in by_counterparty.items()
                 if account == "outcome_income" and project == "PRJ-LCR-1")
    assert income == -payment

    csv_path = statement_csv(fuel, tmp_path, "2026Q3")
    text_csv = csv_path.read_text(encoding="utf-8")
    assert "[mechanism_inputs]" in text_csv and "[mechanism_formula]" in text_csv
    assert row in text_csv
    ok = fuel("claims", "verify", str(csv_path), "--contract", str(contract))
    assert ok.stdout.startswith("ok: every total re-derived")
    tampered = tmp_path / "tampered.csv"
    tampered.write_text(text_csv.replace(row, changed), encoding="utf-8")
    bad = fuel("claims", "verify", str(tampered), "--contract", str(contract), ok=False)
    assert bad.returncode == 1
    assert f"outcome mechanism:0:{kind}, achieved 2026-09-30): price_pence: statement says" in bad.stderr


def test_mechanism_and_rate_card_lines_share_the_contract_cap_and_payer_caps(fuel, tmp_path):
    contract = contract_with(tmp_path, "baseline_reduction")
    fuel("contracts", "load", str(contract))
    fuel("participants", "import", str(DATA / "participants.csv"), *C)
    fuel("outcomes", "import", str(DATA / "outcomes_q3.csv"), *C)
    # 500 bed days x 12.05 = 6,025.00, cut to the mechanism's own cap of 6,000.00
    data = figures(tmp_path, "q3.toml", "actual_units = 9500\n")
    assert as_json(fuel("claims", "mechanism", *C, "--period", "2026Q3", "--data", str(data), "--json"))[
        "payment_pence"] == 600_000
    run = as_json(fuel("claims", "run", *C, "--period", "2026Q3", "--json"))
    shown = as_json(fuel("claims", "show", *C, "--period", "2026Q3", "--json"))
    transitions = shown["transitions"]
    assert [t["status"] for t in transitions] == ["submitted", "validated"]
    assert all(t["by"] == "tester" for t in transitions)
    lines = shown["lines"]
    mechanism = [line for line in lines if line["outcome_id"] == "mechanism:0:baseline_reduction"]
    assert len(mechanism) == 1
    line = mechanism[0]
    # the rate-card lines paid 5,500.00 of the 10,000.00 contract cap: 4,500.00 headroom is left;
    # the central top-up fund (30%, cap 2,500.00) had 1,650.00 from them: its 1,350.00 share is cut to 850.00
    assert (line["gross_pence"], line["reduction_contract_cap_pence"]) == (600_000, 150_000)
    assert (line["share_central_pence"], line["reduction_payer_cap_pence"]) == (85_000, 50_000)
    assert line["cap_applied"] == "contract_cap;payer_cap" and line["net_pence"] == 400_000
    assert run["net_pence"] == 950_000 <= 1_000_000
    csv_path = statement_csv(fuel, tmp_path, "2026Q3", "html,pdf,csv,xlsx")
    ok = fuel("claims", "verify", str(csv_path), "--contract", str(contract))
    assert ok.stdout.startswith("ok: every total re-derived (12 annex lines")


def test_cohorts_paid_early_and_the_final_overall_test_pays_only_the_rest(fuel, tmp_path):
    contract = contract_with(tmp_path, "cohort_comparison")
    fuel("contracts", "load", str(contract))
    q3 = figures(tmp_path, "q3.toml", cohort("c1", 720))
    fuel("claims", "mechanism", *C, "--period", "2026Q3", "--data", str(q3))
    assert as_json(fuel("claims", "run", *C, "--period", "2026Q3", "--json"))["net_pence"] == 80_000
    # a cohort is tested once: c1's figures come back only in the final test
    again = figures(tmp_path, "again.toml", cohort("c1", 700))
    refused = fuel("claims", "mechanism", *C, "--period", "2026Q4", "--data", str(again), ok=False)
    assert refused.returncode == 1 and "cohort c1 was tested in an earlier period" in refused.stderr
    # final: c2 alone improves 5% (misses 10%); both together 7.5%: 120 events x 10.00 = 1,200.00 overall,
    # of which c1's own test paid 800.00, so the final test pays 400.00
    final = figures(tmp_path, "q4.toml", "final = true\n" + cohort("c1", 720) + cohort("c2", 760))
    recorded = as_json(fuel("claims", "mechanism", *C, "--period", "2026Q4", "--data", str(final), "--json"))
    assert recorded["payment_pence"] == 40_000
    assert recorded["result"]["parts"] == [["cohort c2: own test", 0], ["final test over all cohorts", 40_000]]
    fuel("claims", "run", *C, "--period", "2026Q4")
    lifecycle(fuel, "2026Q4", "2027-01-20", "2027-02-02")  # (2026Q3's lifecycle: the test above)
    lines = as_json(fuel("claims", "show", *C, "--period", "2026Q4", "--json"))["lines"]
    assert [(line["evidence_ref"], line["net_pence"]) for line in lines] == [
        ("cohort c2: own test", 0), ("final test over all cohorts", 40_000)]
    assert balances(fuel, "account_code,project")[("outcome_income", "PRJ-LCR-1")] == -40_000
    csv_path = statement_csv(fuel, tmp_path, "2026Q4")
    text = csv_path.read_text(encoding="utf-8")
    assert ",cohort c1,paid_earlier_pence,80000,brought forward" in text
    assert fuel("claims", "verify", str(csv_path), "--contract", str(contract)).stdout.startswith("ok:")
    tampered = tmp_path / "tampered.csv"
    tampered.write_text(text.replace(",cohort c2,intervention_events,760,", ",cohort c2,intervention_events,750,"))
    bad = fuel("claims", "verify", str(tampered), "--contract", str(contract), ok=False)
    assert "annex line 2 (participant , outcome mechanism:0:cohort_comparison, achieved 2026-12-31): price_pence" \
        in bad.stderr


def test_bad_figures_are_refused_whole_and_nothing_is_billed(fuel, tmp_path):
    contract = contract_with(tmp_path, "per_day")
    fuel("contracts", "load", str(contract))
    bad = figures(tmp_path, "bad.toml", 'spells = [{ participant_id = "P001", start = "2026-13-01" }]\n')
    refused = fuel("claims", "mechanism", *C, "--period", "2026Q3", "--data", str(bad), ok=False)
    assert refused.returncode == 1 and refused.stderr.startswith("error:") and "start" in refused.stderr
    nothing = fuel("claims", "run", *C, "--period", "2026Q3", ok=False)
    assert "no outcome events achieved before 2026-10-01" in nothing.stderr
    # periods go forward: once 2026Q4 has figures, 2026Q3 cannot be added
    q4 = figures(tmp_path, "q4.toml", 'spells = [{ participant_id = "P001", start = "2026-10-01" }]\n')
    fuel("claims", "mechanism", *C, "--period", "2026Q4", "--data", str(q4))
    good_q3 = figures(tmp_path, "q3.toml", 'spells = [{ participant_id = "P001", start = "2026-07-01" }]\n')
    late = fuel("claims", "mechanism", *C, "--period", "2026Q3", "--data", str(good_q3), ok=False)
    assert "periods go forward" in late.stderr
