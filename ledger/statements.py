"""Investor quarterly statements: the figures, as frozen values, and their identity checks (pure).

DESIGN.md section 6; layout and definitions in ``docs/statements.md``. The service layer
(``models/statements_store.py``) reads :class:`StatementInputs` from the ledger; here
:func:`assemble_statements` turns them into one :class:`Statement` per investor:

* capital account (all tranches, and each tranche) in quarter-to-date, year-to-date and
  since-inception columns: beginning capital, each movement line, ending capital;
* commitment roll-forward in the same three columns;
* performance since inception for the investor and the fund (paid-in, distributed, NAV, DPI,
  RVPI, TVPI, net IRR as XIRR with NAV as a final flow on the statement date, ACT/365F);
* restrictions applied and unapplied (charitable investors); impact against targets.

Every statement is checked on the way out (:func:`check_statement`): each column rolls
forward, the ending capital is the same in every column, the commitment roll-forward
balances, TVPI = DPI + RVPI; and the fund's capital accounts add up to the ledger's net assets
(:func:`check_fund_capital`). A broken identity raises :class:`InvariantBroken`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from ledger.capital_accounts import (
    CAPITAL_ACCOUNTS,
    LINES,
    CapitalAccounts,
    FundTerms,
    Movement,
    PositionKey,
    GroupTransfer,
    build_capital_accounts,
)
from ledger.errors import InvariantBroken
from ledger.funds import Commitment, Fund, Party, Project, Tranche
from ledger.periods import Period
from ledger.returns import multiples, xirr

COLUMNS: tuple[str, ...] = ("qtd", "ytd", "itd")
COLUMN_LABELS: Mapping[str, str] = {"qtd": "Quarter to date", "ytd": "Year to date", "itd": "Since inception"}
IRR_PLACES = 6


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class RestrictionFigures:
    restriction: str
    name: str
    received_pence: int
    applied_qtd_pence: int
    applied_ytd_pence: int
    applied_itd_pence: int
    unapplied_pence: int


@dataclass(frozen=True, slots=True)
class ImpactRow:
    """One fact about a project: outcomes achieved (per outcome), participants, or payments."""

    project: str
    outcome: str | None
    achieved_qtd: int | None
    achieved_itd: int | None
    participants: int | None
    payments_qtd_pence: int | None
    payments_itd_pence: int | None


@dataclass(frozen=True, slots=True)
class StatementInputs:
    fund: Fund
    parties: tuple[Party, ...]
    tranches: tuple[Tranche, ...]
    projects: tuple[Project, ...]
    commitments: tuple[Commitment, ...]
    quarter: Period
    terms: FundTerms
    movements: tuple[Movement, ...]
    disbursed: tuple[Movement, ...]
    called: tuple[tuple[date, str, str, int], ...]  # (day, investor, tranche, pence)
    ledger_nav_pence: int
    restrictions: Mapping[str, tuple[RestrictionFigures, ...]]
    impact: tuple[ImpactRow, ...]
    transfers: tuple[GroupTransfer, ...] = ()  # money moved between funding groups, traced to owners
    #: the ledger tip (``COUNT:HASH``, ledger/anchors.py) the figures were drawn from
    ledger_tip: str = ""
    forecast: Any = None  # ledger.forecast.FundForecast, or None: no contract has two quarters of claims


# ---------------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class AccountColumn:
    beginning_pence: int
    lines: tuple[tuple[str, int], ...]  # (line, pence) in LINES order
    ending_pence: int

    def line(self, name: str) -> int:
        return dict(self.lines)[name]


@dataclass(frozen=True, slots=True)
class CapitalAccount:
    tranche: str | None  # None: all the investor's tranches
    label: str
    qtd: AccountColumn
    ytd: AccountColumn
    itd: AccountColumn

    def column(self, name: str) -> AccountColumn:
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class CommitmentColumn:
    total_commitment_pence: int
    beginning_unfunded_pence: int
    new_commitments_pence: int
    contributions_pence: int  # called in the period (shown as "less")
    recallable_pence: int
    ending_unfunded_pence: int


@dataclass(frozen=True, slots=True)
class Performance:
    paid_in_pence: int
    distributed_pence: int
    nav_pence: int
    dpi: Decimal | None
    rvpi: Decimal | None
    tvpi: Decimal | None
    multiples_reason: str | None
    irr: Decimal | None  # annual, as a fraction (0.0734 = 7.34%)
    irr_reason: str | None


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    project: str
    project_name: str
    outcome: str
    achieved_qtd: int
    achieved_itd: int
    target: int | None


@dataclass(frozen=True, slots=True)
class ProjectLine:
    project: str
    project_name: str
    participants: int
    participants_target: int | None
    payments_qtd_pence: int
    payments_itd_pence: int
    payments_target_pence: int | None


@dataclass(frozen=True, slots=True)
class Statement:
    fund: str
    fund_name: str
    currency: str
    investor: str
    investor_name: str
    investor_type: str
    quarter: str
    period_start: date
    statement_date: date
    year_start: date
    capital_account: CapitalAccount
    tranche_accounts: tuple[CapitalAccount, ...]
    commitments: tuple[tuple[str, CommitmentColumn], ...]  # per column name
    performance: Performance
    fund_performance: Performance
    restrictions: tuple[RestrictionFigures, ...]
    outcomes: tuple[OutcomeLine, ...]
    projects: tuple[ProjectLine, ...]
    nav_history: tuple[tuple[str, int], ...]  # (quarter, the investor's capital at its end)
    ledger_tip: str = ""  # printed in the footer: an auditor checks it with `fuel verify --tip`
    forecast: Any = None  # ledger.forecast.FundForecast of the fund (None: none can be made yet)
    forecast_investor: Any = None  # this investor's ledger.forecast.InvestorProjection

    def commitment(self, column: str) -> CommitmentColumn:
        return dict(self.commitments)[column]


# ---------------------------------------------------------------------------- assembly


def _column(accounts: CapitalAccounts, positions: Sequence[PositionKey], quarters: Sequence[Period],
            before: Sequence[Period]) -> AccountColumn:
    beginning = sum(
        amount for q in before for p in positions for amount in accounts.moves[q.name].get(p, {}).values()
    )
    sums = {line: 0 for line in LINES}
    for q in quarters:
        for p in positions:
            for line, amount in accounts.moves[q.name].get(p, {}).items():
                sums[line] += amount
    return AccountColumn(beginning, tuple((line, sums[line]) for line in LINES), beginning + sum(sums.values()))


def _columns(accounts: CapitalAccounts, positions: Sequence[PositionKey], quarter: Period) -> dict[str, AccountColumn]:
    upto = [q for q in accounts.quarters if q.start <= quarter.start]
    spans = {
        "qtd": [q for q in upto if q.name == quarter.name],
        "ytd": [q for q in upto if q.start.year == quarter.start.year],
        "itd": upto,
    }
    return {
        name: _column(accounts, positions, span, [q for q in upto if q.start < (span[0].start if span else quarter.start)])
        for name, span in spans.items()
    }


def _performance(flows: list[tuple[date, int]], paid_in: int, distributed: int, nav: int, day: date) -> Performance:
    m = multiples(max(paid_in, 0), max(distributed, 0), nav)
    irr = xirr([*flows, (day, nav)]) if flows else None
    if irr is None:
        rate, reason = None, "no flows"
    else:
        rate, reason = irr.rate_decimal(IRR_PLACES), irr.reason
    return Performance(paid_in, distributed, nav, m.dpi, m.rvpi, m.tvpi, m.reason, rate, reason)


def assemble_statements(inputs: StatementInputs, investors: Iterable[str] | None = None) -> tuple[Statement, ...]:
    """One statement per investor with capital in the fund (or the ``investors`` asked for)."""
    quarter = inputs.quarter
    investor_parties = {p.id: p for p in inputs.parties if p.kind == "investor"}
    committed: dict[tuple[str, str], int] = defaultdict(int)
    for c in inputs.commitments:
        if c.commitment_date <= quarter.last_day:
            committed[(c.investor, c.tranche)] += c.amount_pence
    accounts = build_capital_accounts(inputs.movements, inputs.terms, quarter, frozenset(investor_parties),
                                      inputs.disbursed, committed, inputs.transfers)
    check_fund_capital(accounts, quarter, inputs.ledger_nav_pence)
    wanted = sorted(set(investors) if investors is not None else
                    {p[0] for p in accounts.positions if p[0] in investor_parties})
    tranche_names = {t.id: t.name for t in inputs.tranches}
    tranche_rank = {t.id: t.rank for t in inputs.tranches}

    # Flows for IRR: contributions (negative) and distributions (positive) per holder.
    flows: dict[str, list[tuple[date, int]]] = defaultdict(list)
    recallable: dict[str, list[tuple[date, int]]] = defaultdict(list)
    holders = {p[0] for p in accounts.positions}
    for m in inputs.movements:
        if m.counterparty not in holders:
            continue
        if m.account in CAPITAL_ACCOUNTS:
            flows[m.counterparty].append((m.day, m.amount_pence))
        elif m.account == "distributions":
            flows[m.counterparty].append((m.day, m.amount_pence))
            if m.category in inputs.terms.recallable_kinds:
                recallable[m.counterparty].append((m.day, m.amount_pence))

    fund_columns = _columns(accounts, accounts.positions, quarter)
    fund_itd = fund_columns["itd"]
    fund_flows = sorted(f for h in holders for f in flows[h])
    fund_perf = _performance(
        fund_flows, fund_itd.line("contributions"),
        -sum(fund_itd.line(f"distributions_{c}") for c in ("return_of_capital", "income", "gains")),
        fund_itd.ending_pence, quarter.last_day,
    )
    outcomes, projects = _impact(inputs)
    statements = []
    for investor_id in wanted:
        party = investor_parties.get(investor_id)
        if party is None:
            raise InvariantBroken(f"{investor_id!r} is not an investor of fund {inputs.fund.id}")
        mine = [p for p in accounts.positions if p[0] == investor_id]
        columns = _columns(accounts, mine, quarter)
        combined = CapitalAccount(None, "All tranches", columns["qtd"], columns["ytd"], columns["itd"])
        tranche_ids = sorted({p[2] for p in mine}, key=lambda t: (t is None, tranche_rank.get(t, 0), t or ""))
        per_tranche = []
        for tranche in tranche_ids:
            cols = _columns(accounts, [p for p in mine if p[2] == tranche], quarter)
            label = tranche_names.get(tranche, tranche) if tranche else "No tranche (grants)"
            per_tranche.append(CapitalAccount(tranche, label, cols["qtd"], cols["ytd"], cols["itd"]))
        itd = columns["itd"]
        perf = _performance(
            sorted(flows[investor_id]), itd.line("contributions"),
            -sum(itd.line(f"distributions_{c}") for c in ("return_of_capital", "income", "gains")),
            itd.ending_pence, quarter.last_day,
        )
        nav_history = tuple(
            (q.name, sum(accounts.ending(p, q) for p in mine))
            for q in accounts.quarters if q.start <= quarter.start
        )
        statement = Statement(
            fund=inputs.fund.id, fund_name=inputs.fund.name, currency=inputs.fund.currency,
            investor=investor_id, investor_name=party.name, investor_type=party.investor_type or "",
            quarter=quarter.name, period_start=quarter.start, statement_date=quarter.last_day,
            year_start=date(quarter.start.year, 1, 1),
            capital_account=combined, tranche_accounts=tuple(per_tranche),
            commitments=_commitments(inputs, investor_id, recallable[investor_id]),
            performance=perf, fund_performance=fund_perf,
            restrictions=inputs.restrictions.get(investor_id, ()),
            outcomes=outcomes, projects=projects, nav_history=nav_history, ledger_tip=inputs.ledger_tip,
            forecast=inputs.forecast,
            forecast_investor=inputs.forecast.investors.get(investor_id) if inputs.forecast else None,
        )
        check_statement(statement)
        statements.append(statement)
    return tuple(statements)


def _commitments(inputs: StatementInputs, investor: str, recallable: list[tuple[date, int]]
                 ) -> tuple[tuple[str, CommitmentColumn], ...]:
    quarter = inputs.quarter
    commitments = [c for c in inputs.commitments if c.investor == investor]
    called = [(d, amount) for d, who, _, amount in inputs.called if who == investor]

    def committed(through: date) -> int:
        return sum(c.amount_pence for c in commitments if c.commitment_date <= through)

    def unfunded(through: date) -> int:
        return (committed(through) - sum(a for d, a in called if d <= through)
                + sum(a for d, a in recallable if d <= through))

    out = []
    for name, start in (("qtd", quarter.start), ("ytd", date(quarter.start.year, 1, 1)), ("itd", date.min)):
        before = start - timedelta(days=1) if start > date.min else None
        in_span = lambda d: start <= d <= quarter.last_day  # noqa: E731
        out.append((name, CommitmentColumn(
            total_commitment_pence=committed(quarter.last_day),
            beginning_unfunded_pence=unfunded(before) if before else 0,
            new_commitments_pence=sum(c.amount_pence for c in commitments if in_span(c.commitment_date)),
            contributions_pence=sum(a for d, a in called if in_span(d)),
            recallable_pence=sum(a for d, a in recallable if in_span(d)),
            ending_unfunded_pence=unfunded(quarter.last_day),
        )))
    return tuple(out)


def _impact(inputs: StatementInputs) -> tuple[tuple[OutcomeLine, ...], tuple[ProjectLine, ...]]:
    names = {p.id: p.name for p in inputs.projects}
    achieved: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    participants: dict[str, int] = defaultdict(int)
    payments: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in inputs.impact:
        if row.outcome is not None:
            achieved[(row.project, row.outcome)][0] += row.achieved_qtd or 0
            achieved[(row.project, row.outcome)][1] += row.achieved_itd or 0
        if row.participants is not None:
            participants[row.project] += row.participants
        if row.payments_itd_pence is not None:
            payments[row.project][0] += row.payments_qtd_pence or 0
            payments[row.project][1] += row.payments_itd_pence
    count_targets = {(t.project, t.outcome): t.count for t in inputs.terms.targets if t.count is not None}
    participant_targets = {t.project: t.participants for t in inputs.terms.targets if t.participants is not None}
    payment_targets = {t.project: t.payments_pence for t in inputs.terms.targets if t.payments_pence is not None}
    outcome_keys = sorted(set(achieved) | set(count_targets))
    outcomes = tuple(
        OutcomeLine(project, names.get(project, project), outcome, achieved[(project, outcome)][0],
                    achieved[(project, outcome)][1], count_targets.get((project, outcome)))
        for project, outcome in outcome_keys
    )
    project_ids = sorted(set(names) | set(participants) | set(payments))
    projects = tuple(
        ProjectLine(p, names.get(p, p), participants.get(p, 0), participant_targets.get(p),
                    payments[p][0], payments[p][1], payment_targets.get(p))
        for p in project_ids
    )
    return outcomes, projects


# ---------------------------------------------------------------------------- identities


def check_statement(statement: Statement) -> None:
    """Every identity a statement must satisfy; raises InvariantBroken naming the broken one."""
    where = f"statement {statement.fund}/{statement.investor}/{statement.quarter}"
    for account in (statement.capital_account, *statement.tranche_accounts):
        endings = set()
        for name in COLUMNS:
            column = account.column(name)
            moved = sum(amount for _, amount in column.lines)
            if column.beginning_pence + moved != column.ending_pence:
                raise InvariantBroken(
                    f"{where}: {account.label} {name}: beginning {column.beginning_pence} + movements {moved} "
                    f"!= ending {column.ending_pence}"
                )
            endings.add(column.ending_pence)
        if len(endings) != 1:
            raise InvariantBroken(f"{where}: {account.label}: ending capital differs between columns: {sorted(endings)}")
        if account.itd.beginning_pence != 0:
            raise InvariantBroken(f"{where}: {account.label}: since-inception beginning capital is not zero")
    if sum(a.itd.ending_pence for a in statement.tranche_accounts) != statement.capital_account.itd.ending_pence:
        raise InvariantBroken(f"{where}: tranche capital accounts do not add up to the investor's")
    for name, c in statement.commitments:
        rolled = c.beginning_unfunded_pence + c.new_commitments_pence - c.contributions_pence + c.recallable_pence
        if rolled != c.ending_unfunded_pence:
            raise InvariantBroken(
                f"{where}: commitments {name}: beginning unfunded {c.beginning_unfunded_pence} + new "
                f"{c.new_commitments_pence} - contributions {c.contributions_pence} + recallable {c.recallable_pence} "
                f"!= ending unfunded {c.ending_unfunded_pence}"
            )
    for perf in (statement.performance, statement.fund_performance):
        if perf.tvpi is not None and perf.dpi + perf.rvpi != perf.tvpi:
            raise InvariantBroken(f"{where}: TVPI {perf.tvpi} != DPI {perf.dpi} + RVPI {perf.rvpi}")
        if (perf.irr is None) == (perf.irr_reason is None):
            raise InvariantBroken(f"{where}: an IRR is either a rate or n/a with a reason")
    if statement.performance.nav_pence != statement.capital_account.itd.ending_pence:
        raise InvariantBroken(f"{where}: NAV in performance differs from the ending capital")
    if statement.nav_history and statement.nav_history[-1][1] != statement.capital_account.itd.ending_pence:
        raise InvariantBroken(f"{where}: NAV history does not end at the ending capital")


def check_fund_capital(accounts: CapitalAccounts, quarter: Period, ledger_nav_pence: int) -> None:
    """The sum of every holder's capital account equals the fund's net assets in the ledger."""
    total = sum(accounts.ending(p, quarter) for p in accounts.positions)
    if total != ledger_nav_pence:
        raise InvariantBroken(
            f"{quarter.name}: capital accounts add up to {total} pence but the ledger's net assets are "
            f"{ledger_nav_pence} pence"
        )
