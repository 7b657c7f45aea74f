"""Capital call and distribution notices: figures, documents and issuing (freeze + deliver +
record, as statements: ``ledger/shell/issuing.py``), before the money moves.

* :func:`drawdown_notices`: one notice per investor with a share of a call on a tranche, its
  share drafted by the drawdown rule itself, and the fund's bank account that holds the
  investor's money in that tranche (``models/bank_store.py``), sort code and account number in
  full: only in that investor's own notice.
* :func:`distribution_notices`: one notice per investor the waterfall pays, with the split per
  tier, tranche and recipient (community pool, carry) and its own share, from the very lines
  `fuel distribute` would post.

:func:`issue_notices` freezes the notices and queues their deliveries (to contacts with the
``notice`` role) in one transaction; nothing is posted to the ledger: the call is recorded by
`fuel record drawdown-notice`, the distribution by `fuel distribute`, once the notices are out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from sqlalchemy import Engine

from ledger.errors import NotFound, ValidationError
from ledger.periods import Period
from ledger.shell.issuing import FORMATS, MEDIA, IssueResult, issue_drafts
from models import delivery_store as store


@dataclass(frozen=True)
class Notices:
    """Notices drafted (not yet frozen): each one's figures and document."""

    kind: str
    subject: str
    figures: tuple[dict, ...]
    drafts: tuple[store.Draft, ...]
    split: dict | None = None  # a distribution's whole split (for the fund manager's preview)


def _party(book, investor_id: str) -> dict:
    party = book.investor(investor_id)
    return {"id": party.id, "name": party.name}


def _fund(book) -> dict:
    return {"id": book.fund.id, "name": book.fund.name, "currency": book.fund.currency}


def _document(figures: dict, fmt: str) -> bytes:
    from reports import notices as render

    html = render.render_html(figures)
    return html.encode("utf-8") if fmt == "html" else render.render_pdf(html)


def _check(fmt: str, investors: Sequence[str] | None, known: set[str]) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"--format {fmt!r}: choose pdf or html", field="format")
    unknown = sorted(set(investors or ()) - known)
    if unknown:
        raise ValidationError(f"--investor {', '.join(unknown)}: not among this notice's investors "
                              f"({', '.join(sorted(known)) or 'none'})", field="investor")


def bank_account_for(conn, fund_id: str, source: str, tranche: str, account_id: str | None):
    """The fund's bank account an investor pays a call into: ``account_id`` if given, else the one
    holding cash of the investor's source and the tranche (``ledger.bank.account_for``)."""
    from ledger.bank import account_for
    from models.bank_store import account, account_rows

    if account_id is not None:
        return account(conn, account_id, fund_id)
    accounts = account_rows(conn, fund_id)
    chosen = account_for([(a.id, a.buckets) for a in accounts], source, tranche, None)
    if chosen is None:
        raise ValidationError(f"fund {fund_id} has no bank account holding {source}/{tranche} cash, so a capital call "
                              "cannot say where to pay: add one (`fuel bank account add ID --name N --sort-code S "
                              "--number N`) or give --account", field="account")
    return next(a for a in accounts if a.id == chosen)


def drawdown_notices(conn, fund_id: str, tranche_id: str, amount_pence: int, due: date, *, notice_day: date,
                     investors: Sequence[str] | None = None, fmt: str = "pdf",
                     account_id: str | None = None) -> Notices:
    """Each investor's capital call notice for a call of ``amount_pence`` on a tranche, split as
    `fuel record drawdown-notice` will post it (refused as it would be: more than unfunded)."""
    from ledger.flows import DrawdownNotice, rule_drawdown_notice
    from ledger.money import format_amount
    from ledger.notices import call_shares, drawdown_figures
    from models.flows_store import book_of, load_position

    if due < notice_day:
        raise ValidationError(f"--due {due} is before the notice date {notice_day}", field="due")
    book = book_of(conn, fund_id)
    tranche = book.tranche(tranche_id)
    position = load_position(conn)
    event = DrawdownNotice(fund=fund_id, effective_date=notice_day, tranche=tranche_id, amount_pence=amount_pence)
    event.check()
    shares = call_shares(rule_drawdown_notice(event, book, position).postings)
    _check(fmt, investors, set(shares))
    committed: dict[str, int] = {}
    for c in book.commitments_of(tranche_id):
        committed[c.investor] = committed.get(c.investor, 0) + c.amount_pence
    subject = f"capital-call/{tranche_id}/{due.isoformat()}"
    figures, drafts = [], []
    for investor_id, share in shares.items():
        if investors and investor_id not in investors:
            continue
        party = book.investor(investor_id)
        bank = bank_account_for(conn, fund_id, party.source, tranche_id, account_id)
        reference = f"CALL-{tranche_id}-{due:%Y%m%d}-{investor_id}"[:60]
        f = drawdown_figures(
            fund=_fund(book), tranche={"id": tranche.id, "name": tranche.name}, investor=_party(book, investor_id),
            amount_pence=share, total_pence=amount_pence, commitment_pence=committed[investor_id],
            called_before_pence=position.called.get((fund_id, tranche_id, investor_id), 0),
            notice_date=notice_day.isoformat(), due_date=due.isoformat(),
            bank={"account": bank.id, "name": bank.name, "sort_code": bank.sort_code,
                  "account_number": bank.account_number}, reference=reference)
        figures.append(f)
        drafts.append(_draft("drawdown_notice", subject, notice_day, investor_id, fmt, f,
                             f"Capital call notice {tranche_id} due {due} for {investor_id}: "
                             f"{format_amount(share, book.fund.currency, separators=True)}"))
    return Notices("drawdown_notice", subject, tuple(figures), tuple(drafts))


def _draft(kind: str, subject: str, notice_day: date, investor_id: str, fmt: str, figures: dict, title: str):
    from reports.notices import file_stem

    return store.Draft(kind, subject, Period.containing(notice_day).name, "investor", investor_id, title[:300],
                       f"{file_stem(figures)}.{fmt}", MEDIA[fmt], _document(figures, fmt))


def distribution_split(conn, fund_id: str, amount_pence: int, day: date):
    """(book, split) of a distribution of ``amount_pence`` on ``day``: the waterfall run on the
    stored terms and the entry lines ``models.statements_store.distribute`` would post."""
    from ledger.notices import distribution_split as summarise
    from ledger.waterfall import run_waterfall
    from models.flows_store import book_of, load_position
    from models.statements_store import build_distribution_entry, distribution_key, waterfall_state
    from ledger.fund_terms import check_terms_match
    from models.terms_store import terms_for

    from models.ledger_store import closed_through

    if amount_pence <= 0:
        raise ValidationError("the amount to distribute must be more than zero", field="amount")
    closed = closed_through(conn)
    if closed is not None and day < closed:
        raise ValidationError(f"--date {day} is in a closed period (nothing may be dated before {closed}): the distribution could "
                              "not be posted on that date, so no notice says it will be", field="date")
    book = book_of(conn, fund_id)
    terms = terms_for(conn, fund_id, day)
    check_terms_match(terms, {t.id: t.rank for t in book.tranches.values()})
    result = run_waterfall(terms.waterfall, amount_pence, day, waterfall_state(conn, book, terms, day))
    cash = {(k[2], k[3], k[4]): v for k, v in load_position(conn).cash.items()
            if k[0] == fund_id and k[1] == book.fund.currency and k[4] is None}
    _, lines = build_distribution_entry(book, result, cash, distribution_key(fund_id, amount_pence, day))
    return book, summarise(result.tiers, lines, result.cash_pence, result.undistributed_pence)


def distribution_notices(conn, fund_id: str, amount_pence: int, day: date, *, notice_day: date,
                         investors: Sequence[str] | None = None, fmt: str = "pdf") -> Notices:
    """Each paid investor's distribution notice for ``amount_pence`` distributed on ``day``."""
    from ledger.money import format_amount
    from ledger.notices import distribution_figures

    if day < notice_day:
        raise ValidationError(f"--date {day} is before the notice date {notice_day}: a notice comes before the money",
                              field="date")
    book, split = distribution_split(conn, fund_id, amount_pence, day)
    _check(fmt, investors, set(split["investor_shares"]))
    names = {t.id: t.name for t in book.tranches.values()}
    subject = f"distribution/{day.isoformat()}"
    figures, drafts = [], []
    for investor_id in split["investor_shares"]:
        if investors and investor_id not in investors:
            continue
        f = distribution_figures(fund=_fund(book), investor=_party(book, investor_id), split=split,
                                 date=day.isoformat(), notice_date=notice_day.isoformat(), tranche_names=names)
        figures.append(f)
        drafts.append(_draft("distribution_notice", subject, notice_day, investor_id, fmt, f,
                             f"Distribution notice {day} for {investor_id}: "
                             f"{format_amount(f['own_total_pence'], book.fund.currency, separators=True)}"))
    if not drafts:
        raise ValidationError(f"the waterfall pays no investor from {amount_pence} pence on {day}", field="amount")
    return Notices("distribution_notice", subject, tuple(figures), tuple(drafts), split)


def issue_notices(engine: Engine, fund_id: str, build, *, channel: str, by: str,
                  reason: str | None = None) -> tuple[Notices, IssueResult]:
    """Draft (``build(conn)`` returns :class:`Notices`), freeze and queue, all or nothing."""
    if reason is not None and not reason.strip():
        raise ValidationError("--reason is empty: say what was corrected", field="reason")
    with engine.begin() as conn:
        notices = build(conn)
        if not notices.drafts:
            raise NotFound("no investor to send a notice to", field="investor")
        return notices, issue_drafts(conn, fund_id, notices.drafts, channel, by, reason)
