"""The README's main command on a smaller fund: `fuel demo` builds the LCR blended demo fund
from nothing on SQLite and writes every statement, with nothing on stderr; the ledger it built
balances and verifies; each council statement re-derives from its contract file alone; and
`fuel generate` builds the same shape at another size."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.verify import verify_statement_csv
from models.db import make_engine
from models.ledger_store import trial_balance, verify

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "fixtures" / "demo" / "contracts"


def fuel(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_demo_builds_the_fund_and_writes_every_statement(tmp_path):
    out = tmp_path / "out"
    result = fuel("demo", "--out", str(out), "--participants", "240", "--seed", "11", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warnings either
    stdout = result.stdout
    assert "hash chain verified, trial balance nets to 0.00" in stdout
    for heading in ("Fund size by source", "Outcomes achieved", "Investors at 2025Q4"):
        assert heading in stdout
    for investor in ("mersey-capital", "dockside-trust", "liver-foundation", "lcr-combined"):
        for suffix in ("html", "pdf", "csv", "json"):  # the PDFs the README says it writes
            assert (out / "investors" / f"lcr-blended_{investor}_2025Q4.{suffix}").stat().st_size > 0
    councils = sorted((out / "councils").glob("*.csv"))
    assert {p.name.rsplit("_", 1)[1] for p in councils} == {
        "liverpool-cc.csv", "central-fund.csv", "knowsley-mbc.csv", "sefton-mbc.csv", "wirral-mbc.csv"}
    assert len(councils) == 6 and all(p.with_suffix(".xlsx").exists() for p in councils)
    assert all(p.with_suffix(".pdf").read_bytes().startswith(b"%PDF") for p in councils)
    files = {p.stem.split("_")[0]: p for p in CONTRACTS.glob("*.toml")}
    by_id = {load_contract_toml(p.read_text(), p.name).contract_id: p for p in files.values()}
    for path in councils:
        contract_file = by_id[path.name.split("_")[0]]
        checked = verify_statement_csv(path.read_text(encoding="utf-8"),
                                       load_contract_toml(contract_file.read_text(), contract_file.name))
        assert checked.ok, [d.text() for d in checked.differences][:5]
    # issue 17: the ageing-well baseline mechanism is billed each quarter, so Wirral's statement shows
    # its line, its inputs and its formula (and verify above re-derived them)
    wirral = next(p for p in councils if p.name.endswith("wirral-mbc.csv")).read_text(encoding="utf-8")
    assert "mechanism:0:baseline_reduction" in wirral and "[mechanism_inputs]" in wirral
    assert ",,actual_units," in wirral and "[mechanism_formula]" in wirral
    assert len(list((out / "partners").glob("*.html"))) == 3
    assert len(list((out / "fund-manager").glob("*.html"))) == 6
    assert (out / "ledger.journal").stat().st_size > 0
    bank = out / "fund-manager" / "bank"  # one statement a quarter in two formats, each quarter end reconciled
    assert len(list(bank.glob("statement_*.xml"))) == 4 and len(list(bank.glob("statement_*.mt940"))) == 4
    assert "unexplained difference 0 pence" in stdout
    for recon in sorted(bank.glob("reconciliation_*.csv")):
        rows = recon.read_text(encoding="utf-8").splitlines()
        assert rows[5].endswith("Unexplained difference,0"), (recon.name, rows[5])
        assert [r.split(",")[0] for r in rows[6:]] == ["payment_not_cleared"], recon.name  # the one deliberate item
    assert (bank / "reconciliation_2025Q4.pdf").read_bytes().startswith(b"%PDF")

    # The demo's notices reach the file outbox: a capital call (bank details in full, to the
    # investor called only) and a distribution notice per investor paid (no bank details).
    import email
    from email import policy

    def readable(path) -> bytes:  # the message's text parts and attachments, decoded
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        return b"".join(part.get_payload(decode=True) or b"" for part in message.walk() if not part.is_multipart())

    [call] = (out / "outbox" / "mersey-capital").glob("*capital-call*.eml")
    assert b"31926819" in readable(call) and b"60-16-13" in readable(call)
    distribution = sorted((out / "outbox").glob("*/*_distribution_*.eml"))
    assert distribution and b"Distribution notice" in readable(distribution[0])
    others = [p for p in (out / "outbox").rglob("*.eml") if p != call]
    assert others and not any(b"31926819" in readable(p) for p in others)

    engine = make_engine(f"sqlite:///{out / 'demo.db'}")
    with engine.connect() as conn:
        lines = trial_balance(conn, date(2025, 12, 31))
        assert sum(line.net_pence for line in lines) == 0
        accounts = {line.account_code: line.net_pence for line in lines}
        assert accounts["write_downs"] > 0 and accounts["distributions"] > 0 and accounts["outcome_income"] < 0
        assert verify(conn).ok
        # the last quarter leaves one contract's claim validated, for a council to try a dispute (a run's
        # status is its latest revision's: claim runs are immutable)
        last = dict(conn.exec_driver_sql(
            "SELECT contract_id, COALESCE((SELECT status FROM pbr_run_revisions v WHERE v.run_id = r.id "
            "ORDER BY revision DESC LIMIT 1), status) FROM pbr_claim_runs r WHERE period = '2025Q4'").fetchall())
        assert last.get("lcr-ageing-well") == "validated", last
        assert sum(1 for status in last.values() if status == "validated") == 1, last
    engine.dispose()


def test_generate_builds_the_same_shape_at_another_size(tmp_path):
    result = fuel("generate", "--participants", "120", "--quarters", "4", "--seed", "5",
                  "--out", str(tmp_path / "g.db"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "120 participants, 4 quarters (2024Q1-2024Q4), seed 5" in result.stdout
    assert "hash chain verified, trial balance nets to 0" in result.stdout
    refused = fuel("generate", "--participants", "120", "--quarters", "20", "--out", str(tmp_path / "h.db"), cwd=tmp_path)
    assert refused.returncode == 1 and "quarters must be between 4 and 12" in refused.stderr
