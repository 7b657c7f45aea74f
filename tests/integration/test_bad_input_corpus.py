"""The bad-input corpus: every file in tests/data/bad_inputs/<kind>/ is refused with a clear,
specific message, no traceback, and nothing written.

Kinds and how each case is submitted (in-process, through the same ``main()`` as ``fuel``):

* ``flows/<case>.csv``: ``fuel import flows`` against the example fund with its flows posted;
* ``outcomes/<case>.csv``: ``fuel outcomes import --contract lcr-housing`` (contract and
  participants of tests/data/pbr loaded);
* ``participants/<case>.csv``: ``fuel participants import --contract lcr-housing``;
* ``contracts/<case>.toml``: ``fuel contracts load``;
* ``terms/<case>.toml``: ``fuel terms load`` (a waterfall path is relative to the case);
* ``api/<case>.json``: ``{"method", "path", "body" | "body_text", "status", "message"}``, sent
  with a fund manager's token for lcr-outcomes; the answer must be a problem detail with that
  status whose detail or errors contain the message.

A CLI case's expected message is in ``<case>.expected`` beside it: every non-blank line must
appear in stderr (a line starting ``re:`` is a regular expression). Big inputs are generated
at test time from ``<case>.gen`` (JSON: ext, header, row with ``{i}`` / ``{big}``, count, big)
so no big file is committed. Adding a case is adding a file and its expected message.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, table

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "bad_inputs"
PBR = ROOT / "tests" / "data" / "pbr"
CONTRACT = "lcr-housing"
INPUT_SUFFIXES = {".csv", ".toml", ".json", ".gen"}


def corpus_cases() -> list[tuple[str, Path]]:
    return [(kind.name, path) for kind in sorted(CORPUS.iterdir()) if kind.is_dir()
            for path in sorted(kind.iterdir()) if path.suffix in INPUT_SUFFIXES]  # fmt: skip


CASES = corpus_cases()


@pytest.fixture(scope="module")
def base_db(sqlite_template, tmp_path_factory) -> tuple[Path, str]:
    """The example fund with its flows posted, the PbR contract and participants, an FM token."""
    from ledger.funds import fund_setup_from_mapping
    from models.api_store import create_token
    from models.db import make_engine
    from ledger.funds import Party
    from models.flows_store import import_flows, save_party, save_setup
    from models.pbr_store import import_participants, load_contract

    path = tmp_path_factory.mktemp("corpus") / "base.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    setup = fund_setup_from_mapping(
        tomllib.loads((ROOT / "fixtures" / "funds" / "example_fund.toml").read_text()), "example_fund.toml")
    with engine.begin() as conn:
        save_setup(conn, setup)
        import_flows(conn, (ROOT / "fixtures" / "flows" / "example_flows.csv").read_text(), "example_flows.csv")
        for payer in ("council", "central"):  # the contract's payers are parties
            save_party(conn, Party(payer, payer.title(), "payer"))
        contract = (PBR / "contract.toml").read_text()  # booked in the example fund, for one of its projects
        contract = contract.replace('fund = "fuel-lcr"', 'fund = "lcr-outcomes"').replace('"PRJ-LCR-1"', '"aw-homecare"')
        load_contract(conn, contract, "contract.toml")
        import_participants(conn, CONTRACT, (PBR / "participants.csv").read_text(), "participants.csv")
        token, _ = create_token(conn, "corpus", "fund_manager", "lcr-outcomes")
    engine.dispose()
    return path, token


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in sorted(inspect(conn).get_table_names())}  # fmt: skip


def materialise(path: Path, tmp_path: Path) -> Path:
    """The file to submit: the case itself, or the big file its ``.gen`` describes."""
    if path.suffix != ".gen":
        return path
    spec = json.loads(path.read_text())
    big = "x" * int(spec.get("big", 0))
    target = tmp_path / f"{path.stem}.{spec['ext']}"
    with target.open("w", encoding="utf-8") as handle:
        handle.write(spec["header"] + "\n")
        for i in range(int(spec["count"])):
            handle.write(spec["row"].format(i=i, big=big) + "\n")
    return target


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    from ledger.shell.cli import main

    monkeypatch.setattr(sys, "argv", ["fuel", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def expected_lines(path: Path) -> list[str]:
    stem = path.with_suffix("")
    lines = [line for line in stem.with_suffix(".expected").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines, f"{stem}.expected is empty"
    return lines


def matches(expected: str, text: str) -> bool:
    if expected.startswith("re:"):
        return re.search(expected[3:].strip(), text) is not None
    return expected in text


def test_the_corpus_is_big_and_every_case_has_an_expected_message():
    assert len(CASES) >= 40
    kinds = {kind for kind, _ in CASES}
    assert {"flows", "outcomes", "contracts", "terms", "api"} <= kinds
    for kind, path in CASES:
        if kind != "api":
            assert path.with_suffix(".expected").exists(), f"{path} has no .expected file"
    orphans = [p for p in CORPUS.rglob("*.expected")
               if not any(p.with_suffix(s).exists() for s in INPUT_SUFFIXES)]  # fmt: skip
    assert not orphans, f"expected-message files without an input: {orphans}"


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}/{p.name}" for k, p in CASES])
def test_bad_input_gives_a_clear_error_and_writes_nothing(kind, path, base_db, tmp_path, monkeypatch, capsys):
    from models.db import make_engine

    db_path = tmp_path / "fuel.db"
    shutil.copyfile(base_db[0], db_path)
    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    before = row_counts(engine)
    try:
        if kind == "api":
            _check_api_case(path, engine, base_db[1])
        else:
            submitted = materialise(path, tmp_path)
            args = {
                "flows": ["import", "flows", str(submitted)],
                "outcomes": ["outcomes", "import", str(submitted), "--contract", CONTRACT,
                             "--submitted-on", "2026-10-05"],
                "participants": ["participants", "import", str(submitted), "--contract", CONTRACT],
                "contracts": ["contracts", "load", str(submitted)],
                "terms": ["terms", "load", str(submitted)],
            }[kind]
            code, stderr = run_cli(["--db", url, *args], monkeypatch, capsys)
            assert "Traceback" not in stderr
            assert code == 1, f"exit status {code}; stderr: {stderr[:2000]}"
            assert stderr.startswith("error: "), stderr[:2000]
            assert len(stderr) < 20_000, "the message should be short enough to read"
            for line in expected_lines(path):
                assert matches(line, stderr), f"expected {line!r} in:\n{stderr[:3000]}"
        assert row_counts(engine) == before
    finally:
        engine.dispose()


def _check_api_case(path: Path, engine, token: str) -> None:
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings

    case = json.loads(path.read_text(encoding="utf-8"))
    client = TestClient(create_app(engine, Settings()), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if "body_text" in case:
        response = client.request(case["method"], case["path"], content=case["body_text"].encode(), headers=headers)
    else:
        response = client.request(case["method"], case["path"], json=case.get("body"), headers=headers)
    assert response.status_code == case["status"], response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    texts = [problem["detail"], *(item["message"] for item in problem.get("errors") or [])]
    assert any(matches(case["message"], t) for t in texts), f"expected {case['message']!r} in {texts}"
    assert "Traceback" not in response.text
