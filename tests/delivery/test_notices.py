"""Capital call and distribution notices end to end through the ``fuel`` command and a real SMTP
server: a preview freezes nothing; issuing sends one message per contact with the ``notice``
role, the attachment byte for byte the frozen document; the bank details appear in full only in
the investor's own capital call notice; the distribution notice's split is what the waterfall
then pays, to the penny; each notice's HTML matches its golden file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tests.web.conftest import post_login

FUND = "lcr-blended"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "notices"
SORT_CODE, NUMBER = "60-16-13", "31926819"
NOTICE_CONTACTS = {  # party -> (address, roles)
    "dockside-trust": ("grants@dockside.example.org", "statement,notice"),
    "lcr-combined": ("notices@combined.example.org", "notice"),
    "mersey-capital": ("finance@mersey.example.org", "notice"),
}
CALL = ["notices", "drawdown", "--tranche", "junior", "--amount", "45000.01", "--due", "2025-02-01",
        "--notice-date", "2025-01-10", "--format", "html"]
DISTRIBUTION = ["notices", "distribution", "--amount", "61234.57", "--date", "2025-01-31", "--notice-date", "2025-01-10"]


def _setup(fund_db):
    """The fund's bank account, two new junior commitments to call, and the notice contacts
    (in process: quicker than a command each)."""
    from datetime import date

    from ledger.funds import Commitment
    from models import delivery_store as store
    from models.bank_store import add_account
    from models.db import make_engine
    from models.flows_store import add_commitment

    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:
        add_account(conn, fund=FUND, account_id="lcr-main", name="LCR blended fund client account",
                    sort_code=SORT_CODE, account_number=NUMBER, currency="GBP", holds=["*"], bank=None, by="test")
        for cid, investor, pence in (("c-j2", "dockside-trust", 3_000_000), ("c-j3", "lcr-combined", 6_000_000)):
            add_commitment(conn, Commitment(cid, FUND, "junior", investor, pence, date(2025, 1, 5)), "test")
        for party, (address, roles) in NOTICE_CONTACTS.items():
            store.add_contact(conn, FUND, "investor", party, "notices", f"Notices {party}", address,
                              roles.split(","), "attachment", "test")
        store.add_contact(conn, FUND, "investor", "dockside-trust", "board", "Board", "board@dockside.example.org",
                          ["statement"], "attachment", "test")  # no notice role: receives none
    engine.dispose()


def _attachments(message) -> list[tuple[str, bytes]]:
    """Each attachment's name and exact bytes (an HTML one undecoded to text)."""
    return [(part.get_filename(), part.get_payload(decode=True)) for part in message.iter_attachments()]


def _rows(text: str) -> list[dict]:
    data = json.loads(text)
    return data["rows"] if isinstance(data, dict) else data


def _golden(name: str, html: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FUEL_UPDATE_GOLDEN") == "1":
        path.write_text(html, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with FUEL_UPDATE_GOLDEN=1 once, on purpose"
    assert html == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_capital_call_notice_issued_before_the_call_each_contact_gets_its_own(fuel, smtp, fund_db, tmp_path):
    smtp.start()
    _setup(fund_db)
    preview = json.loads(fuel(*CALL, "--dry-run", "--json", "--out", str(tmp_path / "p")).stdout)
    shares = {n["investor"]["id"]: n["amount_pence"] for n in preview["notices"]}
    preview_called = {n["investor"]["id"]: n["called_before_pence"] for n in preview["notices"]}
    assert sum(shares.values()) == 4_500_001 and set(shares) == {"dockside-trust", "lcr-combined"}
    assert smtp.box.messages == [] and _rows(fuel("issue", "list", "--json").stdout) == []
    for name in ("lcr-blended_dockside-trust_capital-call_junior_2025-02-01.html",
                 "lcr-blended_lcr-combined_capital-call_junior_2025-02-01.html"):
        _golden(name, (tmp_path / "p" / name).read_text(encoding="utf-8"))

    out = fuel(*CALL)
    assert "Deliveries: 2 sent" in out.stdout
    docs = {d["party_id"]: d for d in _rows(fuel("issue", "list", "--json").stdout)}
    for party in ("dockside-trust", "lcr-combined"):
        [message] = smtp.box.to(NOTICE_CONTACTS[party][0])
        [(name, content)] = _attachments(message)
        assert name == f"lcr-blended_{party}_capital-call_junior_2025-02-01.html"
        assert hashlib.sha256(content).hexdigest() == docs[party]["sha256"] == message["X-Fuel-Document-SHA256"]
        assert content == (tmp_path / "p" / name).read_bytes()  # what was previewed is what was frozen and sent
        assert "Capital call notice" in message["Subject"]
        body = message.get_body(("plain",)).get_content()
        assert NUMBER not in body and SORT_CODE not in body  # only in the attached notice
    assert smtp.box.to("board@dockside.example.org") == [] and smtp.box.to("finance@mersey.example.org") == []
    assert len(smtp.box.messages) == 2

    # The bank details are in full in each investor's own notice, and in no other document.
    own = (tmp_path / "p" / "lcr-blended_dockside-trust_capital-call_junior_2025-02-01.html").read_text()
    assert SORT_CODE in own and NUMBER in own and "dockside-trust" in own and "lcr-combined" not in own

    assert "version 1 already issued" in fuel(*CALL).stdout  # the same call again: nothing new, nothing sent
    assert len(smtp.box.messages) == 2

    # The call the ledger then records is the split the notices gave.
    from datetime import date

    from ledger.flows import DrawdownNotice
    from models.db import make_engine
    from models.flows_store import load_position, record_event

    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:  # as `fuel record drawdown-notice --tranche junior --amount 45000.01` does
        record_event(conn, DrawdownNotice(fund=FUND, effective_date=date(2025, 1, 10), tranche="junior",
                                          amount_pence=4_500_001), "test")
        called = load_position(conn).called
    engine.dispose()
    for party, share in shares.items():
        assert called[(FUND, "junior", party)] - preview_called[party] == share

    # On the pages the investor sees its notice beside its statements, and only its own.
    from fastapi.testclient import TestClient

    from ledger.shell.api.app import create_app
    from ledger.shell.api.settings import Settings
    from models.api_store import create_token

    engine = make_engine(f"sqlite:///{fund_db}")
    with engine.begin() as conn:
        token = create_token(conn, "dockside", "investor", "dockside-trust")[0]
    client = TestClient(create_app(engine, Settings()), raise_server_exceptions=False)
    assert post_login(client, {"method": "token", "token": token}, follow_redirects=False).status_code == 303
    page = client.get("/ui/documents").text
    assert "Capital call notice junior due 2025-02-01 for dockside-trust" in page and "1 new document" in page
    assert "lcr-combined" not in page
    assert client.get(f"/ui/documents/{docs['lcr-combined']['id']}").status_code == 404
    engine.dispose()


def test_distribution_notice_split_is_what_the_waterfall_pays(fuel, smtp, fund_db, tmp_path):
    smtp.start()
    _setup(fund_db)
    closed = fuel("notices", "distribution", "--amount", "10", "--date", "2024-06-30", "--notice-date", "2024-06-01",
                  "--dry-run", ok=False)
    assert closed.returncode == 1 and "closed period" in closed.stderr  # `fuel distribute` could not post it
    preview = json.loads(fuel(*DISTRIBUTION, "--dry-run", "--json", "--format", "html", "--out",
                              str(tmp_path / "p")).stdout)
    split = preview["split"]
    for name in sorted(p.name for p in (tmp_path / "p").iterdir()):
        _golden(name, (tmp_path / "p" / name).read_text(encoding="utf-8"))
        text = (tmp_path / "p" / name).read_text()
        assert NUMBER not in text and SORT_CODE not in text  # no bank details in a distribution notice
    issued = fuel(*DISTRIBUTION, "--format", "html")
    paid = {n["investor"]["id"] for n in preview["notices"]}
    assert f"Deliveries: {len(paid)} sent" in issued.stdout
    docs = {d["party_id"]: d for d in _rows(fuel("issue", "list", "--json").stdout)}
    for party in paid:
        [message] = smtp.box.to(NOTICE_CONTACTS[party][0])
        [(_, content)] = _attachments(message)
        assert hashlib.sha256(content).hexdigest() == docs[party]["sha256"]

    # The money moves: the posted lines are the notice's split, to the penny.
    posted = json.loads(fuel("distribute", "--amount", "61234.57", "--date", "2025-01-31", "--json").stdout)
    assert posted["distributed_pence"] == split["distributed_pence"]
    assert split["distributed_pence"] + split["undistributed_pence"] == 6_123_457
    by_party: dict[str, dict] = {}
    for line in posted["lines"]:
        if line["is_investor"]:
            key = by_party.setdefault(line["party"], {}).setdefault(line["tranche"], {})
            key[line["category"]] = key.get(line["category"], 0) + line["amount_pence"]
    for notice in preview["notices"]:
        investor = notice["investor"]["id"]
        for row in notice["own"]:
            got = by_party[investor][row["tranche"]]
            assert {c: row[c] for c in ("return_of_capital", "income", "gains") if row[c]} == got
    recipients = {}
    for line in posted["lines"]:
        if not line["is_investor"]:
            recipients[line["party"]] = recipients.get(line["party"], 0) + line["amount_pence"]
    assert {r["party"]: r["paid_pence"] for r in split["recipients"]} == recipients
    assert sum(t["paid_pence"] for t in split["tranches"]) + sum(recipients.values()) == posted["distributed_pence"]
    assert sum(t["paid_pence"] for t in split["tiers"]) == posted["distributed_pence"]


def test_a_notice_renders_to_pdf_like_the_statements():
    from reports.notices import render_pdf

    pdf = render_pdf((GOLDEN / "lcr-blended_dockside-trust_capital-call_junior_2025-02-01.html").read_text())
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_a_changed_notice_needs_a_reason_and_is_version_2_the_old_one_superseded(fund_db):
    from datetime import date

    import pytest

    from ledger.errors import ValidationError
    from ledger.shell.notices import drawdown_notices, issue_notices
    from models import delivery_store as store
    from models.db import make_engine

    _setup(fund_db)
    engine = make_engine(f"sqlite:///{fund_db}")

    def call(pence: int):
        return lambda conn: drawdown_notices(conn, FUND, "junior", pence, date(2025, 2, 1),
                                             notice_day=date(2025, 1, 10), fmt="html", investors=["lcr-combined"])

    _, first = issue_notices(engine, FUND, call(4_500_001), channel="outbox", by="test")
    assert [d["version"] for d in first.documents] == [1] and len(first.queued) == 1
    with pytest.raises(ValidationError, match="--reason"):
        issue_notices(engine, FUND, call(4_000_000), channel="outbox", by="test")
    _, second = issue_notices(engine, FUND, call(4_000_000), channel="outbox", by="test", reason="call reduced")
    [doc] = second.documents
    assert doc["version"] == 2 and doc["reason"] == "call reduced" and len(second.queued) == 1
    with engine.connect() as conn:
        rows = store.documents(conn, FUND, party_id="lcr-combined")
        assert [(r["version"], r["superseded"]) for r in rows] == [(2, False), (1, True)]
        # pro rata to all its junior commitments: 40,000.00 x 143,300 / 223,300, largest remainder
        assert b"25,669.50" in bytes(store.document(conn, rows[0]["id"])["content"])
    with pytest.raises(ValidationError, match="unfunded"):  # refused as the drawdown rule refuses it
        issue_notices(engine, FUND, call(9_000_001), channel="outbox", by="test", reason="x")
    engine.dispose()
