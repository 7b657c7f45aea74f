"""Issue = freeze + deliver + record: the service the CLI, the API, the pages and the demo call.

:func:`issue_quarter` renders a quarter's statements (investors', councils' outcome payment
statements, joint-prime partners'), freezes each one (``models.delivery_store.freeze``) and
queues one delivery per contact with the right role, all in one transaction: either every
document of the run is frozen and queued, or none is. :func:`deliver` then sends what is due,
one message per delivery, committing each attempt's event as it happens, so a crash or an
unreachable server loses nothing: what was not sent stays due for ``fuel deliveries resend``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from sqlalchemy import Engine, select

from ledger.errors import ValidationError
from ledger.periods import Period
from models import delivery_store as store

STATEMENT_KINDS = ("investor", "council", "partner")
FORMATS = ("pdf", "html")
MEDIA = {"pdf": "application/pdf", "html": "text/html"}


@dataclass(frozen=True)
class IssueResult:
    documents: tuple[dict, ...]  # each with "created" (a new version) and "deliveries" (new ones queued)
    queued: tuple[int, ...]      # delivery ids created by this run
    missing_contacts: tuple[str, ...]  # documents frozen for parties with no contact of the right role


def _as_bytes(html: str, fmt: str, base: Path | None = None) -> bytes:
    if fmt == "html":
        return html.encode("utf-8")
    from reports.html import render_pdf

    return render_pdf(html, base) if base is not None else render_pdf(html)


def investor_drafts(conn, fund_id: str, period: Period, fmt: str, only: Sequence[str] | None) -> list[store.Draft]:
    from ledger.statements import assemble_statements
    from models.statements_store import statement_inputs
    from models.terms_store import terms_for
    from reports.statements import TEMPLATES, file_stem, render_html

    inputs = statement_inputs(conn, fund_id, period, terms_for(conn, fund_id, period.last_day))
    drafts = []
    for s in assemble_statements(inputs, list(only) if only else None):
        drafts.append(store.Draft("investor_statement", period.name, period.name, "investor", s.investor,
                                  f"Quarterly statement {period.name} for {s.investor}", f"{file_stem(s)}.{fmt}",
                                  MEDIA[fmt], _as_bytes(render_html(s), fmt, TEMPLATES)))
    return drafts


def council_drafts(conn, fund_id: str, period: Period, fmt: str) -> list[store.Draft]:
    from models import pbr_store
    from models.pbr_tables import PbrClaimRunRow, PbrContractRow
    from reports.council import TEMPLATES, file_stem, render_html, statement_for

    runs, contracts = PbrClaimRunRow.__table__, PbrContractRow.__table__
    ids = [c for (c,) in conn.execute(select(runs.c.contract_id).join(contracts, contracts.c.id == runs.c.contract_id)
                                      .where(contracts.c.fund == fund_id, runs.c.period == period.name)
                                      .order_by(runs.c.contract_id))]
    drafts = []
    for contract_id in ids:
        for payer in pbr_store.get_contract(conn, contract_id).payers:
            s = statement_for(conn, contract_id, period.name, payer.payer_id, None, period.last_day)
            drafts.append(store.Draft("council_statement", f"{contract_id}/{period.name}", period.name, "payer",
                                      payer.payer_id, f"Outcome payment statement {contract_id} {period.name} for {payer.payer_id}",
                                      f"{file_stem(s)}.{fmt}", MEDIA[fmt], _as_bytes(render_html(s), fmt, TEMPLATES)))
    return drafts


def partner_drafts(conn, fund_id: str, period: Period, fmt: str) -> list[store.Draft]:
    from models import partners_store
    from models.partner_tables import PbrPassThroughRow
    from models.pbr_tables import PbrContractRow
    from reports.partner_reports import TEMPLATES, render_statement, statement_file_name

    passes, contracts = PbrPassThroughRow.__table__, PbrContractRow.__table__
    ids = [c for (c,) in conn.execute(select(passes.c.contract_id).join(contracts, contracts.c.id == passes.c.contract_id)
                                      .where(contracts.c.fund == fund_id, passes.c.period == period.name)
                                      .order_by(passes.c.contract_id))]
    drafts = []
    for contract_id in ids:
        for partner in partners_store.list_partners(conn, contract_id):
            figures = partners_store.partner_statement(conn, contract_id, partner["partner_id"], period.name)
            party = f"{contract_id}/{partner['partner_id']}"
            drafts.append(store.Draft("partner_statement", f"{contract_id}/{period.name}", period.name, "partner", party,
                                      f"Partner statement {contract_id} {period.name} for {partner['partner_id']}",
                                      statement_file_name(figures, fmt), MEDIA[fmt],
                                      _as_bytes(render_statement(figures, "html"), fmt, TEMPLATES)))
    return drafts


def _check_closed(conn, period: Period) -> None:
    from models.ledger_store import closed_through

    end = closed_through(conn)
    if end is None or end < period.end:
        raise ValidationError(f"quarter {period.name} is not closed: close it first (`fuel close-period "
                              f"{period.name}`), so what is issued cannot change under it", field="quarter")


def issue_drafts(conn, fund_id: str, drafts: Iterable[store.Draft], channel: str, by: str,
                 reason: str | None) -> IssueResult:
    """Freeze each draft and queue its deliveries, in the caller's transaction."""
    out, queued, missing = [], [], []
    for draft in drafts:
        doc, created = store.freeze(conn, fund_id, draft, by, reason)
        new = []
        contacts = store.recipients(conn, fund_id, draft.party_id, draft.kind)
        if not contacts:
            missing.append(f"{draft.title}: no contact of {draft.party_id} receives {store.ROLE_OF_KIND[draft.kind]}s")
        for contact in contacts:
            delivery_id, fresh = store.queue(conn, doc["id"], contact, channel, by)
            if fresh:
                new.append(delivery_id)
        queued += new
        out.append({**{k: v for k, v in doc.items() if k != "content"}, "created": created, "deliveries": new})
    return IssueResult(tuple(out), tuple(queued), tuple(missing))


def issue_quarter(engine: Engine, fund_id: str, quarter: str, *, kinds: Sequence[str] = STATEMENT_KINDS,
                  fmt: str = "pdf", channel: str = "smtp", by: str = "fuel", reason: str | None = None,
                  parties: Sequence[str] | None = None) -> IssueResult:
    """Render, freeze and queue a closed quarter's statements (all-or-nothing)."""
    period = Period.parse(quarter)
    bad = sorted(set(kinds) - set(STATEMENT_KINDS))
    if bad or not kinds:
        raise ValidationError(f"--kind {', '.join(bad) or '(none)'}: choose from {', '.join(STATEMENT_KINDS)}", field="kind")
    if fmt not in FORMATS:
        raise ValidationError(f"--format {fmt!r}: choose pdf or html", field="format")
    if reason is not None and not reason.strip():
        raise ValidationError("--reason is empty: say what was corrected", field="reason")
    with engine.begin() as conn:
        _check_closed(conn, period)
        drafts: list[store.Draft] = []
        if "investor" in kinds:
            drafts += investor_drafts(conn, fund_id, period, fmt, None)
        if "council" in kinds:
            drafts += council_drafts(conn, fund_id, period, fmt)
        if "partner" in kinds:
            drafts += partner_drafts(conn, fund_id, period, fmt)
        if parties:
            drafts = [d for d in drafts if d.party_id in parties]
        if not drafts:
            raise ValidationError(f"nothing to issue for {fund_id} {period.name} ({', '.join(kinds)})", field="quarter")
        return issue_drafts(conn, fund_id, drafts, channel, by, reason)


# ---------------------------------------------------------------------------- sending


def channel_for(name: str, outbox: Path | None, settings):
    from ledger.shell.mail import OutboxChannel, SmtpChannel

    if name == "outbox":
        if outbox is None:
            raise ValidationError("--outbox DIR is needed with --channel outbox", field="outbox")
        return OutboxChannel(outbox)
    if name == "smtp":
        return SmtpChannel(settings)
    raise ValidationError(f"--channel {name!r}: choose smtp or outbox", field="channel")


def _fund_name(conn, fund_id: str) -> str:
    from models.fund_tables import FundRow

    return conn.execute(select(FundRow.__table__.c.name).where(FundRow.__table__.c.id == fund_id)).scalar() or fund_id


def deliver(engine: Engine, fund_id: str, channel, settings, *, by: str = "fuel", quarter: str | None = None,
            delivery_ids: Sequence[int] | None = None, sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Send every due delivery (queued, deferred or failed) once, each attempt recorded as it
    happens; returns each delivery's final state."""
    from ledger.shell.mail import RateLimiter, send_with_retries
    from reports.mail import compose

    with engine.connect() as conn:
        due = store.due(conn, fund_id, quarter, list(delivery_ids) if delivery_ids is not None else None)
        fund_name = _fund_name(conn, fund_id)
    limiter = RateLimiter(settings.rate_per_second, sleep=sleep)
    results = []
    for row in due:
        with engine.connect() as conn:
            doc = store.document(conn, row["document_id"])
            contact = next(c for c in store.list_contacts(conn, fund_id, row["party_id"]) if c["id"] == row["contact_id"])
        token = secrets.token_urlsafe(24) if row["method"] == "link" else None
        link = f"{settings.public_url.rstrip('/')}/ui/open/{token}" if token else None
        message = compose(doc, contact, fund_name=fund_name, sender=settings.sender, delivery_id=row["id"], link=link)
        label = (row["party_id"], f"{doc['file_name']}__{contact['contact_key']}")
        base_attempt = row["attempts"]

        def on_attempt(attempt, outcome, row=row, message=message, base=base_attempt):
            with engine.begin() as conn:
                store.record(conn, row["id"], outcome.status, base + attempt, outcome.detail, by,
                             smtp_code=outcome.smtp_code, message_id=message["Message-ID"],
                             link_token_sha256=hashlib.sha256(token.encode()).hexdigest() if token else None)

        limiter.wait()
        outcome = send_with_retries(channel, message, label, settings, on_attempt=on_attempt, sleep=sleep)
        results.append({"delivery": row["id"], "document": doc["id"], "party": row["party_id"],
                        "contact": contact["contact_key"], "status": outcome.status, "detail": outcome.detail})
    return results
