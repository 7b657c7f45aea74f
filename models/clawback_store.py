"""GP clawback of deal-by-deal carry, computed from the ledger's history and posted.

The history is read exactly as ``fuel distribute`` reads it
(:func:`models.statements_store.waterfall_state`: dated contributions and the waterfall
distribution lines per party and kind); :func:`ledger.waterfall.compute_clawback` does the
arithmetic. Posting records one balanced entry: the manager's ``distributions`` are reduced by
the clawback (a credit, counterparty the manager) and each investor receives its part as a
distribution (a debit, counterparty the investor), with distribution lines of kind ``clawback``
(category gains) like a waterfall run's, so capital accounts and later waterfall runs see it.
The manager's credit sits in each receiving investor's funding group (source, tranche), so every
(fund, source, restriction) group balances on its own and no cash moves between sources.

Every function takes a ``Connection`` inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from ledger.capital_accounts import FundTerms, check_terms_match
from ledger.errors import IdempotencyConflict, InvariantBroken
from ledger.funds import FundBook
from ledger.money import format_amount
from ledger.postings import EntryDraft, Posting
from ledger.waterfall import CATEGORY_OF_KIND, Clawback, compute_clawback
from models.evidence_store import seal
from models.flows_store import book_of
from models.ledger_store import PostResult, entries_t, get_entry, lock_chain, post_entries
from models.statements_store import WATERFALL_EVENT, lines_t, waterfall_state

CLAWBACK_KIND = "clawback"


@dataclass(frozen=True, slots=True)
class ClawbackRecorded:
    """The computation and, when posted (or posted before under the same key), its entry."""

    clawback: Clawback
    post: PostResult | None  # None: nothing was due, or it was not asked to post
    created: bool
    lines: tuple[dict, ...]


def clawback_key(fund: str, day: date) -> str:
    canonical = json.dumps({"fund": fund, "date": day.isoformat(), "kind": CLAWBACK_KIND}, sort_keys=True)
    return "clawback:" + hashlib.sha256(canonical.encode()).hexdigest()


def compute(conn: Connection, fund: str, day: date, terms: FundTerms) -> tuple[FundBook, Clawback]:
    """The clawback due on ``day`` from the fund's history up to and including ``day``."""
    book = book_of(conn, fund)
    check_terms_match(terms, {t.id: t.rank for t in book.tranches.values()})
    state = waterfall_state(conn, book, terms, day)
    return book, compute_clawback(terms.waterfall, state, day)


def build_clawback_entry(book: FundBook, clawback: Clawback, key: str) -> tuple[EntryDraft, list[dict]]:
    """The entry that records ``clawback`` and its distribution lines (pure)."""
    fund, currency = book.fund.id, book.fund.currency
    returned: dict[tuple, int] = defaultdict(int)  # (source, tranche, investor) -> pence
    for share in clawback.shares:
        if share.returned_pence:
            returned[(book.investor(share.investor).source, share.tranche, share.investor)] += share.returned_pence
    postings: list[Posting] = []
    lines: list[dict] = []
    by_group: dict[tuple, int] = defaultdict(int)
    for (source, tranche, investor), amount in sorted(returned.items(), key=lambda kv: str(kv[0])):
        postings.append(Posting("distributions", amount, currency, fund, source, tranche, None, None, investor))
        lines.append(_line(investor, True, source, tranche, amount))
        by_group[(source, tranche)] += amount
    for (source, tranche), amount in sorted(by_group.items(), key=str):
        postings.append(Posting("distributions", -amount, currency, fund, source, tranche, None, None,
                                clawback.recipient))
        lines.append(_line(clawback.recipient, False, source, None, -amount))
    for number, line in enumerate(lines, start=1):
        line["line_no"] = number
    if sum(p.amount_pence for p in postings) != 0 or sum(returned.values()) != clawback.clawback_pence:
        raise InvariantBroken("clawback entry does not balance or does not return the clawback")
    data = {
        "fund": fund, "date": clawback.as_of.isoformat(), "kind": CLAWBACK_KIND, "waterfall": clawback.terms_name,
        "recipient": clawback.recipient, "clawback_pence": clawback.clawback_pence,
        "deal_by_deal_carry_pence": clawback.deal_by_deal_carry_pence,
        "whole_fund_carry_pence": clawback.whole_fund_carry_pence,
        "excess_carry_pence": clawback.excess_carry_pence, "tax_cap_pence": clawback.tax_cap_pence,
        "lines": [{k: v for k, v in line.items() if k != "line_no"} for line in lines],
    }
    draft = EntryDraft(
        effective_date=clawback.as_of,
        description=(f"Clawback: {clawback.recipient} returns {format_amount(clawback.clawback_pence, currency)} "
                     f"{currency} of deal-by-deal carry, distributed to investors ({clawback.terms_name})")[:500],
        idempotency_key=key,
        postings=tuple(postings),
        # A waterfall event, so capital accounts read its distribution lines instead of its postings.
        event_kind=WATERFALL_EVENT,
        event_data=data,
    )
    return draft, lines


def _line(party: str, is_investor: bool, source: str | None, tranche: str | None, amount: int) -> dict:
    return {"party": party, "is_investor": is_investor, "source": source, "tranche": tranche, "restriction": None,
            "kind": CLAWBACK_KIND, "category": CATEGORY_OF_KIND[CLAWBACK_KIND], "amount_pence": amount}


def clawback(conn: Connection, fund: str, day: date, terms: FundTerms, *, post: bool = False,
             key: str | None = None, recorded_by: str = "fuel") -> ClawbackRecorded:
    """Compute the clawback due on ``day``; with ``post``, record it once.

    The same key again returns the entry first posted under it (its computation as it stands
    now shows nothing more due, because the posted clawback is part of the history).
    """
    if post:
        lock_chain(conn)
    key = key or clawback_key(fund, day)
    existing = conn.execute(select(entries_t.c.id, entries_t.c.event_data)
                            .where(entries_t.c.idempotency_key == key)).first()
    if post and existing is not None:
        data = json.loads(existing.event_data)
        if (data.get("fund"), data.get("date"), data.get("kind")) != (fund, day.isoformat(), CLAWBACK_KIND):
            raise IdempotencyConflict(f"key {key!r} was already used for entry {existing.id} with different content",
                                      field="key")
    # The history up to and including ``day``: a clawback posted then is part of it.
    book, result = compute(conn, fund, day, terms)
    if not post:
        return ClawbackRecorded(result, None, False, ())
    if existing is not None:
        data = json.loads(existing.event_data)
        return ClawbackRecorded(result, PostResult(get_entry(conn, existing.id), False), False, tuple(data["lines"]))
    if result.clawback_pence == 0:
        return ClawbackRecorded(result, None, False, ())
    draft, lines = build_clawback_entry(book, result, key)
    posted = post_entries(conn, [draft], recorded_by)[0]
    if posted.created:
        conn.execute(lines_t.insert(), [{**line, "entry_id": posted.entry.id, "fund": fund, "effective_date": day}
                                        for line in lines])
        seal(conn, "distribution_line", lines_t.c.entry_id == posted.entry.id)
    return ClawbackRecorded(result, posted, posted.created,
                            tuple({k: v for k, v in line.items() if k != "line_no"} for line in lines))

