"""Investor statements service: what the statements need, read from the ledger with SQL
aggregation, and distributions run through the fund's waterfall and posted.

Every function takes a ``Connection`` inside a transaction. Reading is set-based: postings are
summed per day, account and dimension in SQL; the pure rules (``ledger.capital_accounts``,
``ledger.statements``, ``ledger.waterfall``) do the rest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, and_, func, select, union_all

from ledger.capital_accounts import (
    ALLOCATED_ACCOUNTS,
    CAPITAL_ACCOUNTS,
    FundTerms,
    GroupTransfer,
    Movement,
    check_terms_match,
)
from ledger.errors import InvariantBroken, ValidationError
from ledger.flows import DISBURSED_ACCOUNTS, Disbursement, DrawdownNotice
from ledger.funds import FundBook
from ledger.money import allocate, format_amount
from ledger.periods import Period
from ledger.postings import EntryDraft, Posting
from ledger.statements import ImpactRow, RestrictionFigures, StatementInputs
from ledger.waterfall import (
    CATEGORY_OF_KIND,
    Contribution,
    Distribution,
    Position,
    RecipientHistory,
    WaterfallResult,
    WaterfallState,
    run_waterfall,
)
from models.flows_store import book_of, load_position
from models.ledger_store import (
    PostResult,
    account_types,
    current_tip,
    balances,
    entries_t,
    get_entry,
    lock_chain,
    post_entries,
    postings_t,
)
from models.evidence_store import seal
from models.statements_tables import DistributionLineRow

lines_t = DistributionLineRow.__table__
WATERFALL_EVENT = "waterfall_distribution"


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------------------- ledger reads


def fund_movements(conn: Connection, fund: str, end: date) -> list[Movement]:
    """Capital, distribution and income/expense postings of ``fund`` before ``end``, summed per
    day, account and dimension in SQL; waterfall distributions come split from their lines."""
    e, r, p = entries_t.alias("e"), entries_t.alias("r"), postings_t
    origin = func.coalesce(r.c.event_kind, e.c.event_kind)
    accounts = [*CAPITAL_ACCOUNTS, *ALLOCATED_ACCOUNTS, "distributions"]
    dims = [p.c.effective_date, p.c.account_code, p.c.source, p.c.tranche, p.c.restriction, p.c.counterparty,
            p.c.project]
    query = (
        select(*dims, func.sum(p.c.amount_pence))
        .select_from(p.join(e, e.c.id == p.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(p.c.fund == fund, p.c.effective_date < end, p.c.account_code.in_(accounts),
               ~and_(p.c.account_code == "distributions", origin == WATERFALL_EVENT))
        .group_by(*dims)
    )
    out = [Movement(_day(d), a, s, t, rs, c, int(amount), None, pr)
           for d, a, s, t, rs, c, pr, amount in conn.execute(query) if int(amount) != 0]
    # Waterfall lines at their date, and the lines of reversed runs negated at the reversal's date.
    rev = entries_t.alias("rev")
    line_dims = [lines_t.c.party, lines_t.c.source, lines_t.c.tranche, lines_t.c.restriction, lines_t.c.kind]
    originals = select(lines_t.c.effective_date.label("day"), *line_dims, lines_t.c.amount_pence.label("amount")) \
        .where(lines_t.c.fund == fund)
    reversals = (
        select(rev.c.effective_date.label("day"), *line_dims, (-lines_t.c.amount_pence).label("amount"))
        .select_from(lines_t.join(rev, rev.c.reverses_id == lines_t.c.entry_id))
        .where(lines_t.c.fund == fund)
    )
    both = union_all(originals, reversals).subquery("lines")
    group = [both.c.day, both.c.party, both.c.source, both.c.tranche, both.c.restriction, both.c.kind]
    for d, party, s, t, rs, kind, amount in conn.execute(
        select(*group, func.sum(both.c.amount)).where(both.c.day < end).group_by(*group)
    ):
        if int(amount) != 0:
            out.append(Movement(_day(d), "distributions", s, t, rs, party, int(amount), CATEGORY_OF_KIND[kind],
                                kind=kind))
    return sorted(out, key=lambda m: (m.day, m.account, *(((v is not None), v or "") for v in
                                                         (m.source, m.tranche, m.restriction, m.counterparty,
                                                          m.project, m.category, m.kind))))


def _origin_by_day(conn: Connection, fund: str, end: date, event_kind: str, accounts, by) -> list[tuple]:
    e, r, p = entries_t.alias("e"), entries_t.alias("r"), postings_t
    origin = func.coalesce(r.c.event_kind, e.c.event_kind)
    cols = [p.c.effective_date, *(p.c[name] for name in by)]
    query = (
        select(*cols, func.sum(p.c.amount_pence))
        .select_from(p.join(e, e.c.id == p.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(p.c.fund == fund, p.c.effective_date < end, origin == event_kind,
               p.c.account_code.in_(list(accounts)))
        .group_by(*cols).order_by(*cols)
    )
    return [(_day(row[0]), *row[1:-1], int(row[-1])) for row in conn.execute(query) if int(row[-1]) != 0]


def disbursed_movements(conn: Connection, fund: str, end: date) -> list[Movement]:
    rows = _origin_by_day(conn, fund, end, Disbursement.kind, DISBURSED_ACCOUNTS,
                          ("project", "source", "tranche", "restriction"))
    return [Movement(d, "disbursed", s, t, rs, None, amount, None, project) for d, project, s, t, rs, amount in rows]


def group_transfers(conn: Connection, fund: str, end: date) -> list[GroupTransfer]:
    """Money moved between funding groups by transfer events (and their reversals), per entry:
    the group its ``source_transfers`` debit is in gave it to the group of the credit."""
    e, r, p = entries_t.alias("e"), entries_t.alias("r"), postings_t
    origin = func.coalesce(r.c.event_kind, e.c.event_kind)
    query = (
        select(p.c.entry_id, p.c.effective_date, p.c.source, p.c.tranche, p.c.restriction, func.sum(p.c.amount_pence))
        .select_from(p.join(e, e.c.id == p.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(p.c.fund == fund, p.c.effective_date < end, origin == "transfer", p.c.account_code == "source_transfers")
        .group_by(p.c.entry_id, p.c.effective_date, p.c.source, p.c.tranche, p.c.restriction)
        .order_by(p.c.entry_id)
    )
    by_entry: dict[int, list[tuple]] = defaultdict(list)
    for entry_id, d, source, tranche, restriction, amount in conn.execute(query):
        by_entry[entry_id].append((_day(d), (source, tranche, restriction), int(amount)))
    out = []
    for parts in by_entry.values():
        gave = [(g, a) for _, g, a in parts if a > 0]
        took = [(g, -a) for _, g, a in parts if a < 0]
        for to_group, amount in took:  # one giver per transfer event; a reversal swaps the sides
            for from_group, given in gave:
                share = min(amount, given)
                if share:
                    out.append(GroupTransfer(parts[0][0], from_group, to_group, share))
    return out


def called_rows(conn: Connection, fund: str, end: date) -> list[tuple[date, str, str, int]]:
    """Capital called by drawdown notices: (day, investor, tranche, pence)."""
    return _origin_by_day(conn, fund, end, DrawdownNotice.kind, ["called_capital_receivable"],
                          ("counterparty", "tranche"))


def ledger_nav(conn: Connection, fund: str, as_of: date) -> int:
    """The fund's net assets in the ledger: assets less liabilities (debit balances positive)."""
    types = account_types(conn)
    rows = balances(conn, as_of, by=("account_code",), filters={"fund": fund})
    return sum(r.balance_pence for r in rows if types.get(r.key[0]) in ("asset", "liability"))


def restriction_figures(conn: Connection, fund: str, quarter: Period) -> dict[str, tuple[RestrictionFigures, ...]]:
    """Per charitable funder: each restriction its money carries, applied in the quarter, the
    year and to date, and unapplied at the quarter end (from the restrictions report)."""
    from reports.flows_reports import restrictions

    contributors = conn.execute(
        select(postings_t.c.counterparty, postings_t.c.source, postings_t.c.tranche, postings_t.c.restriction).distinct()
        .where(postings_t.c.fund == fund, postings_t.c.counterparty.is_not(None),
               postings_t.c.account_code.in_(list(CAPITAL_ACCOUNTS)), postings_t.c.effective_date < quarter.end)
    ).all()
    funders = {(holder, restriction) for holder, _, _, restriction in contributors if restriction is not None}
    # Money that reached a restriction by a transfer is still its contributors' money.
    owners: dict[tuple, set[str]] = defaultdict(set)
    for holder, source, tranche, restriction in contributors:
        owners[(source, tranche, restriction)].add(holder)
    for transfer in group_transfers(conn, fund, quarter.end):
        if transfer.to_group[2] is not None:
            funders |= {(holder, transfer.to_group[2]) for holder in owners.get(tuple(transfer.from_group), ())}
    if not funders:
        return {}
    year_start = date(quarter.start.year, 1, 1)

    def by_restriction(as_of: date) -> dict[str, dict]:
        rows, _ = restrictions(conn, as_of, fund)
        return {row["restriction"]: row for row in rows}

    end_rows = by_restriction(quarter.last_day)
    q_rows = by_restriction(quarter.start - timedelta(days=1))
    y_rows = by_restriction(year_start - timedelta(days=1))
    book = book_of(conn, fund)
    out: dict[str, list[RestrictionFigures]] = defaultdict(list)
    for investor, restriction in sorted(funders):
        end_row = end_rows.get(restriction, {})
        applied = int(end_row.get("applied_pence", 0) or 0)
        out[investor].append(RestrictionFigures(
            restriction,
            book.restrictions[restriction].name if restriction in book.restrictions else restriction,
            int(end_row.get("received_pence", 0) or 0) + int(end_row.get("transferred_pence", 0) or 0),
            applied - int(q_rows.get(restriction, {}).get("applied_pence", 0) or 0),
            applied - int(y_rows.get(restriction, {}).get("applied_pence", 0) or 0),
            applied,
            int(end_row.get("unapplied_pence", 0) or 0),
        ))
    return {k: tuple(v) for k, v in out.items()}


def impact_rows(conn: Connection, fund: str, quarter: Period) -> tuple[ImpactRow, ...]:
    """Outcomes achieved per project and outcome (accepted claim lines of the fund's outcomes
    contracts, quarter and to date), participants reached (registered with a start date by the
    quarter end), and outcome payments earned per project (``outcome_income`` in the ledger)."""
    from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrContractRow, PbrParticipantRow

    lines, runs, contracts = PbrClaimLineRow.__table__, PbrClaimRunRow.__table__, PbrContractRow.__table__
    participants = PbrParticipantRow.__table__
    in_quarter = func.sum(func.cast(lines.c.achieved_on >= quarter.start, _int_type()))
    outcome_query = (
        select(contracts.c.project, lines.c.outcome_id, in_quarter, func.count())
        .select_from(lines.join(runs, runs.c.id == lines.c.run_id).join(contracts, contracts.c.id == runs.c.contract_id))
        .where(contracts.c.fund == fund, lines.c.accepted.is_(True), lines.c.achieved_on < quarter.end)
        .group_by(contracts.c.project, lines.c.outcome_id)
    )
    rows: list[ImpactRow] = []
    for project, outcome, qtd, itd in conn.execute(outcome_query):
        rows.append(ImpactRow(project, outcome, int(qtd or 0), int(itd), None, None, None))
    participant_query = (
        select(contracts.c.project, func.count(func.distinct(participants.c.participant_id)))
        .select_from(participants.join(contracts, contracts.c.id == participants.c.contract_id))
        .where(contracts.c.fund == fund, participants.c.start_date < quarter.end)
        .group_by(contracts.c.project)
    )
    for project, count in conn.execute(participant_query):
        rows.append(ImpactRow(project, None, None, None, int(count), None, None))
    p = postings_t
    earned_query = (
        select(p.c.project, func.sum(func.cast(p.c.effective_date >= quarter.start, _int_type()) * p.c.amount_pence),
               func.sum(p.c.amount_pence))
        .where(p.c.fund == fund, p.c.account_code == "outcome_income", p.c.effective_date < quarter.end,
               p.c.project.is_not(None))
        .group_by(p.c.project)
    )
    for project, qtd, itd in conn.execute(earned_query):
        rows.append(ImpactRow(project, None, None, None, None, -int(qtd or 0), -int(itd or 0)))
    return tuple(rows)


def _int_type():
    from sqlalchemy import Integer

    return Integer


def statement_inputs(conn: Connection, fund: str, quarter: Period, terms: FundTerms) -> StatementInputs:
    """Everything ``ledger.statements.assemble_statements`` needs, read in a few SQL queries."""
    book = book_of(conn, fund)
    check_terms_match(terms, {t.id: t.rank for t in book.tranches.values()})
    return StatementInputs(
        fund=book.fund,
        parties=tuple(sorted(book.parties.values(), key=lambda party: party.id)),
        tranches=tuple(book.tranches.values()),
        projects=tuple(sorted(book.projects.values(), key=lambda project: project.id)),
        commitments=tuple(book.commitments),
        quarter=quarter,
        terms=terms,
        movements=tuple(fund_movements(conn, fund, quarter.end)),
        disbursed=tuple(disbursed_movements(conn, fund, quarter.end)),
        transfers=tuple(group_transfers(conn, fund, quarter.end)),
        called=tuple(called_rows(conn, fund, quarter.end)),
        ledger_nav_pence=ledger_nav(conn, fund, quarter.last_day),
        restrictions=restriction_figures(conn, fund, quarter),
        impact=impact_rows(conn, fund, quarter),
        ledger_tip=current_tip(conn).text,
        forecast=_forecast(conn, fund, quarter, terms),
    )


def _forecast(conn: Connection, fund: str, quarter: Period, terms: FundTerms):
    from models.forecast_store import fund_projection

    return fund_projection(conn, fund, quarter.last_day, terms)


# ---------------------------------------------------------------------------- distributions


def waterfall_state(conn: Connection, book: FundBook, terms: FundTerms, day: date) -> WaterfallState:
    """Each investor's dated contributions and prior distributions by kind, per tranche."""
    end = day + timedelta(days=1)
    fund = book.fund.id
    tranche_ids = {t.id for t in terms.waterfall.tranches}
    committed: dict[tuple[str, str], int] = defaultdict(int)
    for c in book.commitments:
        committed[(c.investor, c.tranche)] += c.amount_pence
    contributions: dict[tuple[str, str], list[Contribution]] = defaultdict(list)
    for d, investor, tranche, amount in _capital_rows(conn, fund, end):
        if tranche in tranche_ids and amount > 0:
            contributions[(investor, tranche)].append(Contribution(d, amount))
    prior: dict[tuple[str, str | None], list[Distribution]] = defaultdict(list)
    query = (
        select(lines_t.c.effective_date, lines_t.c.party, lines_t.c.tranche, lines_t.c.kind,
               func.sum(lines_t.c.amount_pence))
        .where(lines_t.c.fund == fund, lines_t.c.effective_date < end,
               ~lines_t.c.entry_id.in_(select(entries_t.c.reverses_id).where(entries_t.c.reverses_id.is_not(None))))
        .group_by(lines_t.c.effective_date, lines_t.c.party, lines_t.c.tranche, lines_t.c.kind)
        .order_by(lines_t.c.effective_date, lines_t.c.party, lines_t.c.tranche, lines_t.c.kind)
    )
    for d, party, tranche, kind, amount in conn.execute(query):
        prior[(party, tranche)].append(Distribution(_day(d), kind, int(amount)))
    # Distributions recorded without the waterfall: return of capital up to what is unreturned.
    plain = select(postings_t.c.effective_date, postings_t.c.counterparty, postings_t.c.tranche,
                   func.sum(postings_t.c.amount_pence)).select_from(
        postings_t.join(entries_t, entries_t.c.id == postings_t.c.entry_id)
    ).where(postings_t.c.fund == fund, postings_t.c.account_code == "distributions", postings_t.c.effective_date < end,
            entries_t.c.event_kind == "distribution").group_by(
        postings_t.c.effective_date, postings_t.c.counterparty, postings_t.c.tranche)
    for d, investor, tranche, amount in conn.execute(plain):
        key = (investor, tranche)
        paid = sum(c.amount_pence for c in contributions[key])
        back = sum(x.amount_pence for x in prior[key] if x.kind == "return_of_capital")
        roc = max(0, min(int(amount), paid - back))
        if roc:
            prior[key].append(Distribution(_day(d), "return_of_capital", roc))
        if int(amount) - roc > 0:
            prior[key].append(Distribution(_day(d), "excess", int(amount) - roc))
    keys = sorted(set(contributions) | {k for k in committed if k[1] in tranche_ids})
    positions = tuple(
        Position(investor, tranche, committed.get((investor, tranche), 0), tuple(contributions[(investor, tranche)]),
                 tuple(sorted(prior[(investor, tranche)], key=lambda x: (x.day, x.kind))))
        for investor, tranche in keys
    )
    recipients = tuple(
        RecipientHistory(party, tuple(history)) for (party, tranche), history in sorted(prior.items(), key=str)
        if tranche is None
    )
    return WaterfallState(positions, recipients)


def _capital_rows(conn: Connection, fund: str, end: date) -> list[tuple[date, str, str, int]]:
    p = postings_t
    cols = [p.c.effective_date, p.c.counterparty, p.c.tranche]
    query = (select(*cols, -func.sum(p.c.amount_pence))
             .where(p.c.fund == fund, p.c.effective_date < end, p.c.account_code.in_(list(CAPITAL_ACCOUNTS)),
                    p.c.tranche.is_not(None))
             .group_by(*cols).order_by(*cols))
    return [(_day(d), c, t, int(a)) for d, c, t, a in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class DistributionRecorded:
    """A posted (or replayed) waterfall distribution: its entry and its lines as stored."""

    post: PostResult
    created: bool
    lines: tuple[dict, ...]
    distributed_pence: int
    undistributed_pence: int


def distribution_key(fund: str, amount_pence: int, day: date) -> str:
    canonical = json.dumps({"fund": fund, "amount_pence": amount_pence, "date": day.isoformat()}, sort_keys=True)
    return "waterfall:" + hashlib.sha256(canonical.encode()).hexdigest()


def build_distribution_entry(book: FundBook, result: WaterfallResult, cash: dict[tuple, int], key: str,
                             description: str | None = None) -> tuple[EntryDraft, list[dict]]:
    """The entry a waterfall run posts, and its lines (pure).

    The cash comes out of the fund's unrestricted cash buckets pro rata to their balances. An
    investor is paid in its own group (its source, its tranche); a recipient (manager, community
    pool) is paid from the funding groups pro rata to what each gives. Each group balances
    through ``source_transfers``: the visible record of money moving between groups.
    """
    fund, currency = book.fund.id, book.fund.currency
    total = result.distributed_pence
    groups = sorted((g for g, v in cash.items() if v > 0), key=lambda g: tuple((x is not None, x or "") for x in g))
    available = sum(cash[g] for g in groups)
    if total > available:
        raise ValidationError(
            f"not enough unrestricted cash in fund {fund}: {format_amount(total, currency)} {currency} to distribute, "
            f"{format_amount(available, currency)} {currency} available",
            field="amount",
        )
    given = dict(zip(groups, allocate(total, [cash[g] for g in groups]))) if total else {}
    net: dict[tuple, int] = defaultdict(int)  # per group: cash given less paid out in the group
    paid: list[tuple[tuple, str, str | None, str, int, bool]] = []  # group, party, tranche, kind, amount, investor
    for tier in result.tiers:
        for line in tier.lines:
            if line.is_investor:
                investor = book.investor(line.party)
                group = (investor.source, line.tranche, None)
                paid.append((group, line.party, line.tranche, line.kind, line.amount_pence, True))
            else:
                weights = [given[g] for g in groups if given.get(g)]
                funding = [g for g in groups if given.get(g)]
                for group, share in zip(funding, allocate(line.amount_pence, weights)):
                    if share:
                        paid.append((group, line.party, None, line.kind, share, False))
    postings: list[Posting] = []
    for group, amount in given.items():
        net[group] += amount
    for group, party, tranche, kind, amount, _ in paid:
        net[group] -= amount
    # Merge lines per (group, party, tranche, kind) so the entry stays small and sorted.
    merged: dict[tuple, int] = defaultdict(int)
    for group, party, tranche, kind, amount, is_investor in paid:
        merged[(group, party, tranche, kind, is_investor)] += amount
    for (group, party, tranche, kind, is_investor), amount in sorted(merged.items(), key=lambda kv: str(kv[0])):
        postings.append(Posting("distributions", amount, currency, fund, group[0], group[1], group[2], None, party))
    for group in sorted(set(given) | set(net), key=lambda g: tuple((x is not None, x or "") for x in g)):
        if given.get(group):
            postings.append(Posting("cash", -given[group], currency, fund, *group))
        if net.get(group):
            postings.append(Posting("source_transfers", net[group], currency, fund, *group))
    lines = [
        {"line_no": i + 1, "party": party, "is_investor": is_investor, "source": group[0], "tranche": tranche,
         "restriction": group[2], "kind": kind, "category": CATEGORY_OF_KIND[kind], "amount_pence": amount}
        for i, ((group, party, tranche, kind, is_investor), amount) in
        enumerate(sorted(merged.items(), key=lambda kv: str(kv[0])))
    ]
    data = {"fund": fund, "amount_pence": result.cash_pence, "date": result.day.isoformat(),
            "waterfall": result.terms_name, "distributed_pence": total,
            "undistributed_pence": result.undistributed_pence,
            "lines": [{k: v for k, v in line.items() if k != "line_no"} for line in lines]}
    draft = EntryDraft(
        effective_date=result.day,
        description=(description or f"Distribution of {format_amount(total, currency, separators=True)} {currency} through the "
                                    f"waterfall ({result.terms_name})")[:500],
        idempotency_key=key,
        postings=tuple(postings),
        event_kind=WATERFALL_EVENT,
        event_data=data,
    )
    if sum(p.amount_pence for p in postings) != 0 or sum(l["amount_pence"] for l in lines) != total:
        raise InvariantBroken("waterfall distribution entry does not balance or does not pay the cash distributed")
    return draft, lines


def distribute(conn: Connection, fund: str, amount_pence: int, day: date, terms: FundTerms, *,
               key: str | None = None, description: str | None = None,
               recorded_by: str = "fuel") -> DistributionRecorded:
    """Run the waterfall for ``amount_pence`` on ``day`` and post the distribution entry with its
    lines, in the caller's transaction. The same key again returns the original entry."""
    if amount_pence <= 0:
        raise ValidationError("the amount to distribute must be more than zero", field="amount")
    lock_chain(conn)
    key = key or distribution_key(fund, amount_pence, day)
    existing = conn.execute(select(entries_t.c.id, entries_t.c.event_data).where(entries_t.c.idempotency_key == key)).first()
    book = book_of(conn, fund)
    check_terms_match(terms, {t.id: t.rank for t in book.tranches.values()})
    if existing is not None:
        data = json.loads(existing.event_data)
        if (data.get("fund"), data.get("amount_pence"), data.get("date")) != (fund, amount_pence, day.isoformat()):
            from ledger.errors import IdempotencyConflict

            raise IdempotencyConflict(f"key {key!r} was already used for entry {existing.id} with different content",
                                      field="key")
        return DistributionRecorded(PostResult(get_entry(conn, existing.id), False), False, tuple(data["lines"]),
                                    data["distributed_pence"], data["undistributed_pence"])
    state = waterfall_state(conn, book, terms, day)
    result = run_waterfall(terms.waterfall, amount_pence, day, state)
    position = load_position(conn)
    cash = {(k[2], k[3], k[4]): v for k, v in position.cash.items()
            if k[0] == fund and k[1] == book.fund.currency and k[4] is None}
    draft, lines = build_distribution_entry(book, result, cash, key, description)
    post = post_entries(conn, [draft], recorded_by)[0]
    if post.created and lines:
        conn.execute(lines_t.insert(), [{**line, "entry_id": post.entry.id, "fund": fund, "effective_date": day}
                                        for line in lines])
        seal(conn, "distribution_line", lines_t.c.entry_id == post.entry.id)
    return DistributionRecorded(post, post.created, tuple({k: v for k, v in line.items() if k != "line_no"}
                                                          for line in lines),
                                result.distributed_pence, result.undistributed_pence)
