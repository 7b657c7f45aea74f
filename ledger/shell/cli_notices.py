"""Capital call and distribution notices, registered onto the ``fuel`` app (one import line in
cli.py): ``fuel notices drawdown`` and ``fuel notices distribution``. Each previews with
``--dry-run`` (the split, and the documents written to ``--out``; nothing frozen or sent), or
issues: freezes each investor's notice, delivers it to the contacts with the ``notice`` role
and records it, as ``fuel issue statements`` does (docs/delivery.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.shell.cli_common import JsonFlag, UserOption, app, current_user, engine
from ledger.shell.cli_delivery import ChannelOption, FundOption, OutboxOption, _fund, _report_sent, _send

notices_app = typer.Typer(rich_markup_mode=None, help="Capital call and distribution notices: preview, then issue before the money moves.",
                          no_args_is_help=True)
app.add_typer(notices_app, name="notices")

InvestorOption = Annotated[Optional[list[str]], typer.Option("--investor", help="Only this investor's notice (repeatable).")]
NoticeDate = Annotated[Optional[str], typer.Option("--notice-date", help="Date on the notice, YYYY-MM-DD (default today).")]
FormatOption = Annotated[str, typer.Option("--format", help="Frozen document format: pdf or html.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Preview only: show the split (and write the documents "
                                                          "to --out); freeze and send nothing.")]
OutDir = Annotated[Optional[Path], typer.Option("--out", help="With --dry-run: write each notice here to read.")]
Reason = Annotated[Optional[str], typer.Option("--reason", help="Re-issue changed notices as a new version, saying why.")]
SendFlag = Annotated[bool, typer.Option("--send/--no-send", help="Send now (default), or only freeze and queue.")]


def _day(text: str | None, what: str) -> date:
    from ledger.periods import parse_date

    return date.today() if text is None else parse_date(text, what)


def _pence(text: str) -> int:
    from ledger.money import parse_amount

    return parse_amount(text, "GBP", "--amount")


def _run(build, fund_id: str, *, dry_run: bool, out: Path | None, channel: str, outbox: Path | None, send: bool,
         reason: str | None, user: str | None, as_json: bool) -> None:
    from ledger.shell.issuing import channel_for
    from ledger.shell.mail import MailSettings
    from ledger.shell.notices import issue_notices

    if dry_run:
        with engine().connect() as conn:
            notices = build(conn)
        written = []
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for draft in notices.drafts:
                (out / draft.file_name).write_bytes(draft.content)
                written.append(str(out / draft.file_name))
        _show(notices, as_json, {"dry_run": True, "written": written})
        return
    by = current_user(user)
    channel_for(channel, outbox, MailSettings.from_env())  # refuse a bad channel before freezing anything
    notices, result = issue_notices(engine(), fund_id, build, channel=channel, by=by, reason=reason)
    sent = _send(fund_id, channel, outbox, by, None, list(result.queued)) if send and result.queued else []
    extra = {"dry_run": False, "missing_contacts": list(result.missing_contacts), "sent": sent,
             "documents": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()}
                           for d in result.documents]}
    if as_json:
        _show(notices, True, extra)
        return
    _show(notices, False, extra)
    for d in result.documents:
        state = f"version {d['version']} issued" if d["created"] else f"version {d['version']} already issued"
        typer.echo(f"  {d['title']}: {state} (SHA-256 {d['sha256'][:12]}, ledger entry {d['ledger_entry_id']}), "
                   f"{len(d['deliveries'])} new deliver{'y' if len(d['deliveries']) == 1 else 'ies'}")
    for line in result.missing_contacts:
        typer.echo(f"  no contact: {line}")
    if send:
        _report_sent(sent)
    else:
        typer.echo(f"{len(result.queued)} deliveries queued; send them with `fuel deliveries resend`")


def _show(notices, as_json: bool, extra: dict) -> None:
    from ledger.money import format_amount

    if as_json:
        typer.echo(json.dumps({"kind": notices.kind, "subject": notices.subject, "notices": list(notices.figures),
                               "split": notices.split, **extra}, indent=2, sort_keys=True, default=str))
        return
    money = lambda p: format_amount(p, "GBP", separators=True)  # noqa: E731
    typer.echo(f"{'Preview of ' if extra['dry_run'] else ''}{notices.kind.replace('_', ' ')} {notices.subject}:")
    if notices.split is not None:
        s = notices.split
        for tier in s["tiers"]:
            typer.echo(f"  tier {tier['index']} {tier['label']:<20} {money(tier['paid_pence']):>16}")
        for t in s["tranches"]:
            typer.echo(f"  investors in {t['tranche']:<20} {money(t['paid_pence']):>16}")
        for r in s["recipients"]:
            typer.echo(f"  recipient {r['party']:<23} {money(r['paid_pence']):>16}")
        typer.echo(f"  distributed {money(s['distributed_pence'])}, undistributed {money(s['undistributed_pence'])}")
    for f in notices.figures:
        amount = f["amount_pence"] if f["kind"] == "drawdown_notice" else f["own_total_pence"]
        typer.echo(f"  {f['investor']['id']:<24} {money(amount):>16}")
    for path in extra.get("written", []):
        typer.echo(f"  written {path}")


@notices_app.command("drawdown")
def notices_drawdown(
    tranche: Annotated[str, typer.Option("--tranche", help="The tranche called.")],
    amount: Annotated[str, typer.Option("--amount", help="The whole call, in pounds as text, e.g. 25000.00.")],
    due: Annotated[str, typer.Option("--due", help="Date the investors must pay by, YYYY-MM-DD.")],
    investor: InvestorOption = None,
    notice_date: NoticeDate = None,
    account: Annotated[Optional[str], typer.Option("--account", help="Bank account to pay into (default: the one "
                                                                     "holding the tranche's cash).")] = None,
    fmt: FormatOption = "pdf",
    dry_run: DryRun = False,
    out: OutDir = None,
    reason: Reason = None,
    channel: ChannelOption = "smtp",
    outbox: OutboxOption = None,
    send: SendFlag = True,
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A capital call notice to each investor of a tranche: its share of the call (pro rata to
    commitments, as `fuel record drawdown-notice` will post it), the due date and the fund's bank
    details to pay to. Record the call itself with `fuel record drawdown-notice` once issued."""
    from ledger.periods import parse_date
    from ledger.shell.notices import drawdown_notices

    pence, due_day, day = _pence(amount), parse_date(due, "--due"), _day(notice_date, "--notice-date")
    with engine().connect() as conn:
        fund_id = _fund(conn, fund)
    _run(lambda conn: drawdown_notices(conn, fund_id, tranche, pence, due_day, notice_day=day, investors=investor,
                                       fmt=fmt, account_id=account),
         fund_id, dry_run=dry_run, out=out, channel=channel, outbox=outbox, send=send, reason=reason, user=user,
         as_json=as_json)


@notices_app.command("distribution")
def notices_distribution(
    amount: Annotated[str, typer.Option("--amount", help="Cash to distribute, in pounds as text.")],
    day: Annotated[str, typer.Option("--date", help="Distribution date, YYYY-MM-DD.")],
    investor: InvestorOption = None,
    notice_date: NoticeDate = None,
    fmt: FormatOption = "pdf",
    dry_run: DryRun = False,
    out: OutDir = None,
    reason: Reason = None,
    channel: ChannelOption = "smtp",
    outbox: OutboxOption = None,
    send: SendFlag = True,
    fund: FundOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A distribution notice to each investor the waterfall pays: the split per tier, tranche and
    recipient (community pool, carry) and its own share, the lines `fuel distribute --amount X
    --date D` will then post."""
    from ledger.periods import parse_date
    from ledger.shell.notices import distribution_notices

    pence, when = _pence(amount), parse_date(day, "--date")
    notice_day = _day(notice_date, "--notice-date") if notice_date else min(date.today(), when)
    with engine().connect() as conn:
        fund_id = _fund(conn, fund)
    _run(lambda conn: distribution_notices(conn, fund_id, pence, when, notice_day=notice_day, investors=investor,
                                           fmt=fmt),
         fund_id, dry_run=dry_run, out=out, channel=channel, outbox=outbox, send=send, reason=reason, user=user,
         as_json=as_json)
