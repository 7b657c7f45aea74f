"""The e-mail a reader receives for an issued document: subject, plain text and HTML parts from
jinja2 templates per document kind (``reports/templates/mail``, ``StrictUndefined``), and the
frozen document attached, or a sign-in link instead. Headers name the document, its version and
its SHA-256, so a reader (or a test) can check the attachment against the frozen document.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates" / "mail"
#: SMTP line endings; headers up to 120 characters stay on one line (a SHA-256 header is 86)
POLICY = policy.SMTP.clone(max_line_length=120)


@lru_cache(maxsize=2)
def _environment(autoescape: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, autoescape=autoescape,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def compose(doc: dict, contact: dict, *, fund_name: str, sender: str, delivery_id: int,
            link: str | None = None) -> EmailMessage:
    """One message for one contact: ``doc`` is an issued document with its ``content``."""
    context = {"doc": doc, "contact_name": contact["name"] or "reader", "fund_name": fund_name, "link": link,
               "issued_on": f"{doc['issued_at']:%Y-%m-%d}"}
    kind = doc["kind"]
    subject = _environment(False).get_template(f"{kind}.subject.j2").render(**context).strip()
    if doc["version"] > 1:
        subject = f"{subject} (version {doc['version']}, corrected)"
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((contact["name"] or "", contact["email"]))
    message["Message-ID"] = make_msgid(f"delivery-{delivery_id}", sender.rpartition("@")[2].strip("> ") or "fuel.local")
    message["X-Fuel-Delivery"] = str(delivery_id)
    message["X-Fuel-Document"] = str(doc["id"])
    message["X-Fuel-Document-Version"] = str(doc["version"])
    message["X-Fuel-Document-SHA256"] = doc["sha256"]
    message.set_content(_environment(False).get_template(f"{kind}.txt.j2").render(**context))
    message.add_alternative(_environment(True).get_template(f"{kind}.html.j2").render(subject=subject, **context),
                            subtype="html")
    if link is None:
        maintype, _, subtype = doc["media_type"].partition("/")
        message.add_attachment(bytes(doc["content"]), maintype=maintype, subtype=subtype, filename=doc["file_name"])
    return message
