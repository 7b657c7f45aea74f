"""End to end through the ``fuel`` command and a real SMTP server: a closed quarter's statements
are frozen, one message reaches each contact with the frozen bytes attached (or a sign-in link),
issuing again is a no-op, a correction is version 2 with its reason, version 1 stays readable."""

from __future__ import annotations

import hashlib
import json

from tests.delivery.conftest import QUARTER
from tests.delivery.smtp_server import attachments

CONTACTS = [  # party, kind, key, address, roles, method
    ("mersey-capital", "investor", "finance", "finance@mersey.example.org", "statement,notice", "attachment"),
    ("mersey-capital", "investor", "board", "board@mersey.example.org", "statement", "attachment"),
    ("dockside-trust", "investor", "grants", "grants@dockside.example.org", "statement", "link"),
    ("liver-foundation", "investor", "finance", "finance@liver.example.org", "statement", "attachment"),
    ("lcr-combined", "investor", "notices", "notices@combined.example.org", "notice", "attachment"),  # no statements
    ("central-fund", "payer", "finance", "claims@central.example.org", "claim", "attachment"),
]


def add_contacts(fuel):
    for party, kind, key, address, roles, method in CONTACTS:
        fuel("contacts", "add", party, "--kind", kind, "--key", key, "--name", f"{key.title()} at {party}",
             "--email", address, "--roles", roles, "--method", method)


def _rows(text: str) -> list[dict]:
    data = json.loads(text)
    return data["rows"] if isinstance(data, dict) else data


def test_issue_sends_each_contact_its_frozen_statement_and_a_correction_is_version_2(fuel, smtp, tmp_path):
    smtp.start()
    add_contacts(fuel)
    out = fuel("issue", "statements", "--quarter", QUARTER, "--kind", "investor,council")
    docs = {(d["kind"], d["subject"], d["party_id"]): d for d in _rows(fuel("issue", "list", "--json").stdout)}
    mersey = docs[("investor_statement", QUARTER, "mersey-capital")]
    assert mersey["version"] == 1 and mersey["state"] == "current"

    # One message per contact with the role; the attachment is the frozen document, byte for byte.
    for address in ("finance@mersey.example.org", "board@mersey.example.org", "finance@liver.example.org"):
        [message] = smtp.box.to(address)
        party = "mersey-capital" if "mersey" in address else "liver-foundation"
        doc = docs[("investor_statement", QUARTER, party)]
        [(name, content)] = attachments(message)
        assert name == f"lcr-blended_{party}_{QUARTER}.pdf" and content.startswith(b"%PDF")
        assert hashlib.sha256(content).hexdigest() == doc["sha256"] == message["X-Fuel-Document-SHA256"]
        assert message["X-Fuel-Document-Version"] == "1" and QUARTER in message["Subject"]
        assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    [link] = smtp.box.to("grants@dockside.example.org")
    assert attachments(link) == [] and "https://fuel.example.org/ui/open/" in link.get_body(("plain",)).get_content()
    assert smtp.box.to("notices@combined.example.org") == []  # a notice-only contact gets no statement
    council = smtp.box.to("claims@central.example.org")  # one per contract the central fund pays into
    assert len(council) == sum(1 for d in docs.values() if d["party_id"] == "central-fund") >= 1
    assert {m["X-Fuel-Document-SHA256"] for m in council} == {d["sha256"] for d in docs.values()
                                                              if d["party_id"] == "central-fund"}
    assert len(smtp.box.messages) == 4 + len(council)
    assert f"Deliveries: {4 + len(council)} sent" in out.stdout

    # The frozen bytes read back equal what was attached.
    shown = tmp_path / "v1.pdf"
    fuel("issue", "show", str(mersey["id"]), "--out", str(shown))
    assert hashlib.sha256(shown.read_bytes()).hexdigest() == mersey["sha256"]

    # Issuing again: the same bytes, nothing new, nothing sent.
    again = fuel("issue", "statements", "--quarter", QUARTER, "--kind", "investor", "--format", "pdf")
    assert "version 1 already issued" in again.stdout and "nothing due" in again.stdout
    sent_before = len(smtp.box.messages)

    # A correction: version 2 with the reason, sent again to that party's contacts only.
    fix = fuel("issue", "statements", "--quarter", QUARTER, "--kind", "investor", "--party", "mersey-capital",
               "--reason", "management fee basis corrected")
    assert "version 2 issued" in fix.stdout
    assert len(smtp.box.messages) == sent_before + 2
    v2 = smtp.box.to("board@mersey.example.org")[-1]
    assert v2["X-Fuel-Document-Version"] == "2" and "version 2, corrected" in v2["Subject"]
    assert "management fee basis corrected" in v2.get_body(("plain",)).get_content()
    rows = [d for d in _rows(fuel("issue", "list", "--party", "mersey-capital", "--json").stdout)]
    assert [(d["version"], d["state"], d["reason"]) for d in rows] == [
        (2, "current", "management fee basis corrected"), (1, "superseded", None)]
    old = tmp_path / "old.pdf"
    fuel("issue", "show", str(mersey["id"]), "--out", str(old))  # the superseded version stays readable
    assert "superseded" in fuel("issue", "show", str(mersey["id"]), "--out", str(old)).stdout
    assert old.read_bytes() == shown.read_bytes()


def test_issue_refuses_an_open_quarter_and_bad_options(fuel):
    add_contacts(fuel)
    result = fuel("issue", "statements", "--quarter", "2025Q1", ok=False)
    assert result.returncode == 1 and "not closed" in result.stderr
    result = fuel("issue", "statements", "--quarter", QUARTER, "--channel", "pigeon", ok=False)
    assert result.returncode == 1 and "--channel" in result.stderr
    result = fuel("contacts", "add", "mersey-capital", "--name", "X", "--email", "not-an-address", ok=False)
    assert result.returncode == 1 and "not an address" in result.stderr
    assert _rows(fuel("issue", "list", "--json").stdout) == []  # nothing frozen by a refused run
