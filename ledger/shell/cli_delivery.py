"""Contacts, issuing and delivery, registered onto the ``fuel`` app (one import line in cli.py):
``fuel contacts add|load|list|erase``, ``fuel issue statements|list|show``,
``fuel deliveries list|resend``. SMTP settings come from the environment (``FUEL_SMTP_*``,
docs/delivery.md), never the database."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.shell.cli_common import JsonFlag, UserOption, app, current_user, engine, read_text

contacts_app = typer.Typer(rich_markup_mode=None, help="Who receives a party's statements, claims and notices (erasable personal data).",
                           no_args_is_help=True)
issue_app = typer.Typer(rich_markup_mode=None, help="Issue documents: freeze each one (bytes, SHA-256, ledger tip), deliver, record.",
                        no_args_is_help=True)
deliveries_app = typer.Typer(rich_markup_mode=None, help="Deliveries of issued documents: the dashboard per quarter, and resend.",
                             no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")
app.add_typer(issue_app, name="issue")
app.add_typer(deliveries_app, name="deliveries")

FundOption = Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: the only fund in the database).")]
ChannelOption = Annotated[str, typer.Option("--channel", help="smtp (settings from FUEL_SMTP_*) or outbox (.eml files).")]
OutboxOption = Annotated[Optional[Path], typer.Option("--outbox", help="Folder for .eml files (with --channel outbox).")]


def _fund(conn, fund):
    from ledger.shell.cli_flows import _resolve_fund

    return _resolve_fund(conn, fund)


# ---------------------------------------------------------------------------- contacts


@contacts_app.command("add")
def contacts_add(
    party: Annotated[str, typer.Argument(help="Investor or payer id, or CONTRACT/PARTNER for a delivery partner.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address.")],
    name: Annotated[str, typer.Option("--name", help="Name to address the contact by.")],
    kind: Annotated[str, typer.Option("--kind", help="investor, payer or partner.")] = "investor",
    key: Annotated[str, typer.Option("--key", help="Your handle for this contact within the party.")] = "main",
    roles: Annotated[str, typer.Option("--roles", help="Comma-separated: statement, claim, notice.")] = "statement,notice",
    method: Annotated[str, typer.Option("--method", help="attachment (the PDF in the message) or link (sign-in link).")] = "attachment",
    fund: FundOption = None,
    user: UserOption = None,
) -> None:
    """Add a contact to a party (or change the one with the same --key)."""
    from models.delivery_store import add_contact

    with engine().begin() as conn:
        fund_id = _fund(conn, fund)
        contact_id, created = add_contact(conn, fund_id, kind, party, key, name, email,
                                          [r.strip() for r in roles.split(",") if r.strip()], method, current_user(user))
    typer.echo(f"contact {contact_id} ({party}/{key}) {'added' if created else 'updated'}")


@contacts_app.command("load")
def contacts_load(
    file: Annotated[Path, typer.Argument(help="TOML file of [[contact]] tables: party, kind, key, name, email, roles, method.")],
    fund: FundOption = None,
    user: UserOption = None,
) -> None:
    """Add or update every contact of a file, all or nothing."""
    from models.delivery_store import add_contact

    try:
        data = tomllib.loads(read_text(file))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{file}: not valid TOML: {exc}") from None
    items = data.get("contact")
    if not isinstance(items, list) or not items:
        raise ValidationError(f"{file}: no [[contact]] tables")
    added = 0
    with engine().begin() as conn:
        fund_id = _fund(conn, fund)
        for n, item in enumerate(items, start=1):
            where = f"{file.name} contact {n}"
            missing = [k for k in ("party", "name", "email") if not item.get(k)]
            if missing:
                raise ValidationError(f"{where}: missing {', '.join(missing)}")
            roles = item.get("roles", ["statement", "notice"])
            _, created = add_contact(conn, fund_id, item.get("kind", "investor"), item["party"], item.get("key", "main"),
                                     item["name"], item["email"], list(roles), item.get("method", "attachment"),
                                     current_user(user), where)
            added += created
    typer.echo(f"{len(items)} contact(s) from {file.name}: {added} added, {len(items) - added} updated")


@contacts_app.command("list")
def contacts_list(party: Annotated[Optional[str], typer.Option("--party", help="One party.")] = None,
                  fund: FundOption = None, as_json: JsonFlag = False) -> None:
    """Every contact of the fund (or of one party), with roles and method."""
    from models.delivery_store import list_contacts
    from reports.render import emit

    with engine().connect() as conn:
        rows = list_contacts(conn, _fund(conn, fund), party)
    for r in rows:
        r["status"] = "erased" if r.pop("erased_at") else "live"
        r.pop("added_at")
    emit(rows, ["id", "party_kind", "party_id", "contact_key", "name", "email", "roles", "method", "status"],
         "json" if as_json else "table", title="Contacts")


@contacts_app.command("erase")
def contacts_erase(contact_id: Annotated[int, typer.Argument(help="Contact id (`fuel contacts list`).")],
                   fund: FundOption = None) -> None:
    """Erase a contact's name and address (a data-subject request); delivery records keep its id."""
    from models.delivery_store import erase_contact

    with engine().begin() as conn:
        erase_contact(conn, _fund(conn, fund), contact_id)
    typer.echo(f"contact {contact_id} erased: name and address removed")


# ---------------------------------------------------------------------------- issue


def _send(fund_id: str, channel: str, outbox: Path | None, by: str, quarter: str | None, ids=None) -> list[dict]:
    from ledger.shell.issuing import channel_for, deliver
    from ledger.shell.mail import MailSettings

    settings = MailSettings.from_env()
    return deliver(engine(), fund_id, channel_for(channel, outbox, settings), settings, by=by, quarter=quarter,
                   delivery_ids=ids)


def _report_sent(results: list[dict]) -> None:
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        if r["status"] != "sent":
            typer.echo(f"  {r['status'].upper()}: delivery {r['delivery']} {r['party']}/{r['contact']}: {r['detail']}")
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing due"
    typer.echo(f"Deliveries: {summary}")
    if counts.get("failed") or counts.get("deferred"):
        typer.echo("See `fuel deliveries list --status failed`; fix the address or the server, then "
                   "`fuel deliveries resend`.")


@issue_app.command("statements")
def issue_statements(
    quarter: Annotated[str, typer.Option("--quarter", help="A closed quarter, e.g. 2026Q3.")],
    kinds: Annotated[str, typer.Option("--kind", help="Comma-separated: investor, council, partner.")] = "investor,council,partner",
    party: Annotated[Optional[list[str]], typer.Option("--party", help="Only this party (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Frozen document format: pdf or html.")] = "pdf",
    reason: Annotated[Optional[str], typer.Option("--reason", help="Re-issue as a new version, saying what was corrected.")] = None,
    channel: ChannelOption = "smtp",
    outbox: OutboxOption = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Send now (default), or only freeze and queue.")] = True,
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Freeze a closed quarter's statements (investor, council, partner), queue one delivery per
    contact with the right role, and send them. Same bytes again: nothing new."""
    from ledger.shell.issuing import channel_for, issue_quarter
    from ledger.shell.mail import MailSettings

    by = current_user(user)
    channel_for(channel, outbox, MailSettings.from_env())  # refuse a bad channel before freezing anything
    with engine().connect() as conn:
        fund_id = _fund(conn, fund)
    result = issue_quarter(engine(), fund_id, quarter, kinds=[k.strip() for k in kinds.split(",") if k.strip()],
                           fmt=fmt, channel=channel, by=by, reason=reason, parties=party)
    sent = _send(fund_id, channel, outbox, by, None, list(result.queued)) if send and result.queued else []
    if as_json:
        typer.echo(json.dumps({"documents": [{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                               for k, v in d.items()} for d in result.documents],
                               "missing_contacts": list(result.missing_contacts), "sent": sent}, indent=2))
        return
    for d in result.documents:
        state = f"version {d['version']} issued" if d["created"] else f"version {d['version']} already issued"
        typer.echo(f"  {d['title']}: {state} (SHA-256 {d['sha256'][:12]}, ledger entry {d['ledger_entry_id']}), "
                   f"{len(d['deliveries'])} new deliver{'y' if len(d['deliveries']) == 1 else 'ies'}")
    for line in result.missing_contacts:
        typer.echo(f"  no contact: {line}")
    if send:
        _report_sent(sent)
    else:
        typer.echo(f"{len(result.queued)} deliveries queued; send them with `fuel deliveries resend --quarter {quarter}`")


@issue_app.command("list")
def issue_list(quarter: Annotated[Optional[str], typer.Option("--quarter", help="One quarter.")] = None,
               party: Annotated[Optional[str], typer.Option("--party", help="One party.")] = None,
               fund: FundOption = None, as_json: JsonFlag = False) -> None:
    """Issued documents with version, date, SHA-256 and whether a later version superseded them."""
    from models.delivery_store import documents
    from reports.render import emit

    with engine().connect() as conn:
        rows = documents(conn, _fund(conn, fund), party_id=party, quarter=quarter)
    for r in rows:
        r["issued_at"] = r["issued_at"].isoformat(timespec="seconds")
        r["state"] = "superseded" if r["superseded"] else "current"
    emit(rows, ["id", "kind", "subject", "party_id", "version", "state", "issued_at", "sha256", "reason"],
         "json" if as_json else "table", title="Issued documents")


@issue_app.command("show")
def issue_show(document_id: Annotated[int, typer.Argument(help="Document id (`fuel issue list`).")],
               out: Annotated[Path, typer.Option("--out", help="Write the frozen bytes to this file.")]) -> None:
    """Write an issued document's frozen bytes (any version, superseded or not) and check its SHA-256."""
    import hashlib

    from models.delivery_store import document

    with engine().connect() as conn:
        doc = document(conn, document_id)
    content = bytes(doc["content"])
    if hashlib.sha256(content).hexdigest() != doc["sha256"]:
        raise ValidationError(f"document {document_id}: stored bytes do not match their SHA-256")
    out.write_bytes(content)
    state = "superseded" if doc["superseded"] else "current"
    typer.echo(f"{doc['title']} version {doc['version']} ({state}) written to {out}; SHA-256 {doc['sha256']}")


# ---------------------------------------------------------------------------- deliveries


@deliveries_app.command("list")
def deliveries_list(quarter: Annotated[Optional[str], typer.Option("--quarter", help="One quarter.")] = None,
                    status: Annotated[Optional[str], typer.Option("--status", help="queued, sent, deferred, failed or opened.")] = None,
                    fund: FundOption = None, as_json: JsonFlag = False) -> None:
    """Every delivery: document, version, contact, channel, state, attempts, opened."""
    from models.delivery_store import deliveries
    from reports.render import emit

    with engine().connect() as conn:
        rows = deliveries(conn, _fund(conn, fund), quarter=quarter)
    if status == "failed":  # what needs the fund manager: permanent and temporary failures
        rows = [r for r in rows if r["status"] in ("failed", "deferred")]
    elif status == "opened":
        rows = [r for r in rows if r["opened_at"] is not None]
    elif status:
        rows = [r for r in rows if r["status"] == status]
    for r in rows:
        r["contact"] = f"{r['contact_key']} (erased)" if r["erased_at"] else f"{r['contact_key']} <{r['email']}>"
        for k in ("status_at", "opened_at", "erased_at"):
            r[k] = r[k].isoformat(timespec="seconds") if r[k] else None
    emit(rows, ["id", "kind", "party_id", "version", "contact", "channel", "method", "status", "attempts",
                "opened_at", "detail"], "json" if as_json else "table", title="Deliveries")


@deliveries_app.command("resend")
def deliveries_resend(
    quarter: Annotated[Optional[str], typer.Option("--quarter", help="Every due delivery of this quarter.")] = None,
    delivery: Annotated[Optional[list[int]], typer.Option("--delivery", help="Only this delivery id (repeatable).")] = None,
    channel: ChannelOption = "smtp",
    outbox: OutboxOption = None,
    fund: FundOption = None,
    user: UserOption = None,
) -> None:
    """Send every delivery not yet sent (queued, deferred, failed) once; sent ones are left alone."""
    if quarter is None and not delivery:
        raise ValidationError("give --quarter or --delivery")
    with engine().connect() as conn:
        fund_id = _fund(conn, fund)
    _report_sent(_send(fund_id, channel, outbox, current_user(user), quarter, delivery))
