"""Capital accounts: the fund's ledger movements allocated to investors, quarter by quarter (pure).

DESIGN.md section 6; rules in ``docs/statements.md``. Input is plain values the service layer
aggregated in SQL (:class:`Movement` rows: one per day, ledger line and funding group); output
is every position's capital account movements per quarter (:class:`CapitalAccounts`).

A **position** is one capital holder's money in one funding group: (holder, source, tranche,
restriction). Holders are the counterparties of ``contributed_capital`` / ``grant_capital``
postings: investors, and any payer that gave the fund capital (a council grant). Each quarter:

* contributions and distributions belong to the position they were posted to;
* every other line (income, outcome payments, fees, grants to projects, gains, losses, and
  distributions paid to non-investors such as carry or a community pool) is allocated by the
  method the fund terms name for it (:data:`ALLOCATION_METHODS`), conserving every penny with
  :func:`ledger.money.allocate`;
* with ``losses = "first_loss"``, write-downs and realised losses on tranche money are pooled
  and absorbed by the most junior tranche first, up to each position's capital, through
  :func:`ledger.waterfall.allocate_loss`.

The sum of all positions' movements equals the fund's movements, line by line and quarter by
quarter; :func:`check_conservation` raises :class:`InvariantBroken` if it ever does not.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ledger.errors import ImportRejected, InvariantBroken, ValidationError
from ledger.money import allocate, parse_amount
from ledger.periods import Period
from ledger.waterfall import TrancheCapital, WaterfallTerms, allocate_loss, load_waterfall_toml

#: Capital account lines, in statement order (ILPA capital account layout). Signed from the
#: holder's point of view: positive increases the capital account.
LINES: tuple[str, ...] = (
    "contributions",
    "distributions_return_of_capital",
    "distributions_income",
    "distributions_gains",
    "fees_and_expenses",
    "grants_to_projects",
    "interest_income",
    "outcome_payments",
    "realised_gains_losses",
    "unrealised_gains_losses",
    "carry_and_community_pool",
)
LINE_LABELS: Mapping[str, str] = {
    "contributions": "Contributions",
    "distributions_return_of_capital": "Distributions: return of capital",
    "distributions_income": "Distributions: income",
    "distributions_gains": "Distributions: gains",
    "fees_and_expenses": "Management fees and fund expenses",
    "grants_to_projects": "Grants made to projects",
    "interest_income": "Interest income",
    "outcome_payments": "Outcome payments earned",
    "realised_gains_losses": "Realised gains (losses)",
    "unrealised_gains_losses": "Unrealised gains (losses), write-downs",
    "carry_and_community_pool": "Carried interest and community pool",
}
#: Ledger accounts whose postings become each allocated line (sign: ledger debit positive, so the
#: holder's amount is minus the posting).
ALLOCATED_ACCOUNTS: Mapping[str, str] = {
    "management_fees": "fees_and_expenses",
    "fund_expenses": "fees_and_expenses",
    "project_grants": "grants_to_projects",
    "interest_income": "interest_income",
    "outcome_income": "outcome_payments",
    # Joint-prime pass-through (docs/joint-prime.md): what the prime passes on to its delivery
    # partners (shares and fees) comes out of the outcome payments the fund keeps, per project.
    "partner_outcome_share": "outcome_payments",
    "partner_fees": "outcome_payments",
    "realised_losses": "realised_gains_losses",
    "valuation_gains": "unrealised_gains_losses",
    "write_downs": "unrealised_gains_losses",
}
CAPITAL_ACCOUNTS: tuple[str, ...] = ("contributed_capital", "grant_capital")
#: Loss accounts the ``first_loss`` method pools (gains and write-backs are never pooled).
LOSS_ACCOUNTS: tuple[str, ...] = ("write_downs", "realised_losses")
#: Allocation groups named in the terms file, and the lines each covers.
ALLOCATION_KEYS: Mapping[str, tuple[str, ...]] = {
    "income": ("interest_income", "outcome_payments"),
    "fees": ("fees_and_expenses",),
    "grants": ("grants_to_projects",),
    "gains": ("unrealised_gains_losses", "realised_gains_losses"),
    "losses": ("unrealised_gains_losses", "realised_gains_losses"),
    "recipients": ("carry_and_community_pool",),
}
ALLOCATION_METHODS: tuple[str, ...] = ("by_group", "by_project", "pro_rata_paid_in", "first_loss")
DEFAULT_ALLOCATION: Mapping[str, str] = {
    "income": "by_group", "fees": "by_group", "grants": "by_group", "gains": "by_group",
    "losses": "first_loss", "recipients": "pro_rata_paid_in",
}
DISTRIBUTION_CATEGORIES: tuple[str, ...] = ("return_of_capital", "income", "gains")


# ---------------------------------------------------------------------------- fund terms


@dataclass(frozen=True, slots=True)
class Target:
    """What a project aims to achieve: a count of one outcome, participants, or payments."""

    project: str
    outcome: str | None = None
    count: int | None = None
    participants: int | None = None
    payments_pence: int | None = None


@dataclass(frozen=True, slots=True)
class FundTerms:
    """A fund's statement terms: its waterfall, how each line is allocated, targets."""

    fund: str
    waterfall: WaterfallTerms
    allocation: Mapping[str, str]
    recallable_kinds: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    source_name: str = ""

    def method(self, key: str) -> str:
        return self.allocation[key]

    def tranche_rank(self, tranche: str | None) -> int | None:
        for t in self.waterfall.tranches:
            if t.id == tranche:
                return t.rank
        return None

    def is_repayable(self, tranche: str | None) -> bool:
        for t in self.waterfall.tranches:
            if t.id == tranche:
                return t.repayable
        return False


_TERMS_FIELDS = {"fund", "waterfall", "allocation", "commitments", "targets"}


def load_fund_terms(path: Path) -> FundTerms:
    """Read a terms file (``fixtures/funds/*_terms.toml``); its ``waterfall`` path is relative to it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"{path}: terms file not found", field="terms") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{path.name}: not valid TOML", [f"{path.name}: {exc}"]) from None
    waterfall_path = data.get("waterfall")
    waterfall_text = None
    if isinstance(waterfall_path, str):
        try:
            waterfall_text = (path.parent / waterfall_path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ImportRejected(f"{path.name}: fund terms rejected",
                                 [f"{path.name}.waterfall: file {waterfall_path!r} not found next to the terms"]) from None
    return fund_terms_from_mapping(data, path.name, waterfall_text, waterfall_path or "")


def fund_terms_from_mapping(data: Mapping, where: str, waterfall_text: str | None, waterfall_name: str) -> FundTerms:
    problems: list[str] = []
    for key in sorted(set(data) - _TERMS_FIELDS):
        problems.append(f"{where}.{key}: unknown field (known: {', '.join(sorted(_TERMS_FIELDS))})")
    fund = data.get("fund")
    if not isinstance(fund, str) or not fund:
        problems.append(f"{where}.fund: missing: give the fund id")
    waterfall = None
    if waterfall_text is None:
        problems.append(f"{where}.waterfall: missing: give the path of the waterfall terms file")
    else:
        try:
            waterfall = load_waterfall_toml(waterfall_text, waterfall_name)
        except ImportRejected as exc:
            problems += list(exc.problems)
    allocation = dict(DEFAULT_ALLOCATION)
    given = data.get("allocation", {})
    if not isinstance(given, Mapping):
        problems.append(f"{where}.allocation: expected a table")
        given = {}
    for key, method in given.items():
        if key not in ALLOCATION_KEYS:
            problems.append(f"{where}.allocation.{key}: unknown (known: {', '.join(ALLOCATION_KEYS)})")
        elif method not in (allowed := ALLOCATION_METHODS if key == "losses" else ALLOCATION_METHODS[:3]):
            problems.append(f"{where}.allocation.{key}: {method!r} is not one of {', '.join(allowed)}")
        else:
            allocation[key] = method
    commitments = data.get("commitments", {})
    recallable = commitments.get("recallable_kinds", []) if isinstance(commitments, Mapping) else []
    for kind in recallable:
        if kind not in DISTRIBUTION_CATEGORIES:
            problems.append(f"{where}.commitments.recallable_kinds: {kind!r} is not one of "
                            f"{', '.join(DISTRIBUTION_CATEGORIES)}")
    targets: list[Target] = []
    for index, row in enumerate(data.get("targets", [])):
        at = f"{where}.targets[{index}]"
        if not isinstance(row, Mapping) or not isinstance(row.get("project"), str):
            problems.append(f"{at}: give a table with a project id")
            continue
        unknown = set(row) - {"project", "outcome", "count", "participants", "payments"}
        if unknown:
            problems.append(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
        ints = {}
        for name in ("count", "participants"):
            value = row.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                problems.append(f"{at}.{name}: must be a whole number >= 0, got {value!r}")
                value = None
            ints[name] = value
        if ints["count"] is not None and not row.get("outcome"):
            problems.append(f"{at}.count: a count target needs the outcome it counts")
        payments = None
        if "payments" in row:
            try:
                payments = parse_amount(row["payments"], "GBP", "payments")
            except Exception as exc:  # MoneyError carries the message
                problems.append(f"{at}.payments: {getattr(exc, 'message', exc)}")
        targets.append(Target(row["project"], row.get("outcome"), ints["count"], ints["participants"], payments))
    if problems:
        raise ImportRejected(f"{where}: fund terms rejected", problems)
    return FundTerms(fund, waterfall, allocation, tuple(recallable), tuple(targets), where)


def check_terms_match(terms: FundTerms, fund_tranches: Mapping[str, int]) -> None:
    """The waterfall's tranches must be the fund's tranches (same ids and ranks)."""
    waterfall = {t.id: t.rank for t in terms.waterfall.tranches}
    if waterfall != dict(fund_tranches):
        raise ValidationError(
            f"terms {terms.source_name}: waterfall tranches {sorted(waterfall.items())} do not match fund "
            f"{terms.fund}'s tranches {sorted(fund_tranches.items())}",
            field="waterfall",
        )


# ---------------------------------------------------------------------------- inputs


PositionKey = tuple  # (holder, source, tranche, restriction)


@dataclass(frozen=True, slots=True)
class Movement:
    """Ledger postings summed per day, account and group, as the service layer reads them.

    ``amount_pence`` is the ledger's signed sum (debit positive). ``counterparty`` matters for
    capital and distribution accounts; ``category`` splits an investor's distribution
    (``return_of_capital`` / ``income`` / ``gains``; None for a distribution with no split).
    """

    day: date
    account: str
    source: str | None
    tranche: str | None
    restriction: str | None
    counterparty: str | None
    amount_pence: int
    category: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class CapitalAccounts:
    """Every position's movements per quarter: ``moves[quarter][position][line]`` in pence."""

    quarters: tuple[Period, ...]
    positions: tuple[PositionKey, ...]
    moves: Mapping[str, Mapping[PositionKey, Mapping[str, int]]]
    #: Loss absorbed by a non-repayable (first-loss) position beyond its own group's losses.
    first_loss_absorbed: Mapping[str, Mapping[PositionKey, int]] = field(default_factory=dict)
    #: The fund's own totals per quarter and line (what the allocation must conserve).
    fund_totals: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def ending(self, position: PositionKey, through: Period) -> int:
        return sum(
            sum(self.moves[q.name].get(position, {}).values()) for q in self.quarters if q.start <= through.start
        )


def quarters_between(first: date, last_quarter: Period) -> tuple[Period, ...]:
    out = [Period.containing(first)] if first < last_quarter.end else []
    while out and out[-1].start < last_quarter.start:
        out.append(out[-1].next())
    return tuple(out) if out else (last_quarter,)


# ---------------------------------------------------------------------------- allocation


def _split(amount: int, keys: Sequence[PositionKey], weights: Sequence[int], what: str) -> dict[PositionKey, int]:
    if amount == 0:
        return {}
    if not keys or sum(weights) <= 0:
        raise InvariantBroken(f"no capital to allocate {amount} pence of {what} to")
    return {k: s for k, s in zip(keys, allocate(amount, list(weights))) if s}


def build_capital_accounts(movements: Iterable[Movement], terms: FundTerms, through: Period,
                           investors: frozenset[str] | None = None,
                           disbursed: Iterable[Movement] = ()) -> CapitalAccounts:
    """Allocate the fund's movements to positions quarter by quarter up to ``through``.

    ``investors``: holders that are investors (a distribution to anyone else is carry or a
    community pool, an allocated line); None treats every capital holder as an investor.
    ``disbursed``: capital disbursed to projects (``project`` and group set, amount positive),
    the weights of the ``by_project`` method.
    """
    disbursed = sorted((d for d in disbursed if d.day < through.end), key=lambda d: d.day)
    project_groups: dict[str, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    next_disbursed = 0
    rows = [m for m in movements if m.day < through.end]
    by_quarter: dict[str, list[Movement]] = defaultdict(list)
    for m in rows:
        by_quarter[Period.containing(m.day).name].append(m)
    quarters = quarters_between(min((m.day for m in rows), default=through.start), through)

    holders_seen: set[str] = {m.counterparty for m in rows if m.account in CAPITAL_ACCOUNTS and m.counterparty}
    positions: set[PositionKey] = set()
    for m in rows:
        if m.account in CAPITAL_ACCOUNTS and m.counterparty:
            positions.add((m.counterparty, m.source, m.tranche, m.restriction))

    def is_holder_distribution(m: Movement) -> bool:
        if m.counterparty is None:
            return False
        return m.counterparty in holders_seen if investors is None else m.counterparty in investors
    for m in rows:
        if m.account == "distributions" and is_holder_distribution(m):
            positions.add((m.counterparty, m.source, m.tranche, m.restriction))
    ordered = tuple(sorted(positions, key=lambda p: tuple((v is not None, v or "") for v in p)))

    paid_in: dict[PositionKey, int] = defaultdict(int)
    returned: dict[PositionKey, int] = defaultdict(int)  # capital returned so far (plain split rule)
    balance: dict[PositionKey, int] = defaultdict(int)
    moves: dict[str, dict[PositionKey, dict[str, int]]] = {}
    absorbed_memo: dict[str, dict[PositionKey, int]] = {}
    fund_totals: dict[str, dict[str, int]] = {}

    for quarter in quarters:
        q_moves: dict[PositionKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        totals: dict[str, int] = defaultdict(int)
        items = sorted(by_quarter.get(quarter.name, []), key=lambda m: m.day)

        def add(position: PositionKey, line: str, amount: int) -> None:
            if amount:
                q_moves[position][line] += amount

        # 1. contributions: credits to capital accounts, holder's own position.
        for m in items:
            if m.account in CAPITAL_ACCOUNTS and m.counterparty:
                key = (m.counterparty, m.source, m.tranche, m.restriction)
                add(key, "contributions", -m.amount_pence)
                totals["contributions"] += -m.amount_pence
                paid_in[key] += -m.amount_pence

        def weights_all() -> tuple[list[PositionKey], list[int]]:
            keys = [p for p in ordered if paid_in[p] > 0]
            return keys, [paid_in[p] for p in keys]

        nonlocal_index = [next_disbursed]
        while nonlocal_index[0] < len(disbursed) and disbursed[nonlocal_index[0]].day < quarter.end:
            d = disbursed[nonlocal_index[0]]
            project_groups[d.project][(d.source, d.tranche, d.restriction)] += d.amount_pence
            nonlocal_index[0] += 1
        next_disbursed = nonlocal_index[0]

        def split_method(method: str, m: Movement, amount: int, what: str) -> dict[PositionKey, int]:
            """Split ``amount`` (holder's sign) of movement ``m`` by an allocation method."""
            if method == "by_project" and m.project and any(v > 0 for v in project_groups[m.project].values()):
                groups = sorted((g for g, v in project_groups[m.project].items() if v > 0),
                                key=lambda g: tuple((v is not None, v or "") for v in g))
                out: dict[PositionKey, int] = defaultdict(int)
                for group, part in zip(groups, allocate(amount, [project_groups[m.project][g] for g in groups])):
                    keys, weights = weights_group(*group)
                    for key, share in _split(part, keys, weights, what).items():
                        out[key] += share
                return out
            keys, weights = (weights_group(m.source, m.tranche, m.restriction) if method in ("by_group", "by_project")
                             else weights_all())
            return _split(amount, keys, weights, what)

        def weights_group(source, tranche, restriction) -> tuple[list[PositionKey], list[int]]:
            keys = [p for p in ordered if p[1:] == (source, tranche, restriction) and paid_in[p] > 0]
            if not keys:  # money in a group nobody contributed to (reached by a transfer)
                return weights_all()
            return keys, [paid_in[p] for p in keys]

        # 2. distributions to holders, split; to anyone else: carry / community pool, allocated.
        pooled_losses: dict[str, int] = defaultdict(int)
        for m in items:
            if m.account == "distributions":
                if is_holder_distribution(m):
                    key = (m.counterparty, m.source, m.tranche, m.restriction)
                    category = m.category
                    amount = m.amount_pence
                    if category is None:  # no waterfall split: capital first, then gains
                        unreturned = max(0, paid_in[key] - returned[key])
                        roc = min(amount, unreturned) if amount > 0 else amount
                        add(key, "distributions_return_of_capital", -roc)
                        add(key, "distributions_gains", -(amount - roc))
                        returned[key] += roc
                        totals["distributions_return_of_capital"] += -roc
                        totals["distributions_gains"] += -(amount - roc)
                    else:
                        if category == "return_of_capital":
                            returned[key] += amount
                        add(key, f"distributions_{category}", -amount)
                        totals[f"distributions_{category}"] += -amount
                else:
                    method = terms.method("recipients")
                    for key, share in split_method(method, m, -m.amount_pence, "carry / community pool").items():
                        add(key, "carry_and_community_pool", share)
                    totals["carry_and_community_pool"] += -m.amount_pence
            elif m.account in ALLOCATED_ACCOUNTS:
                line = ALLOCATED_ACCOUNTS[m.account]
                totals[line] += -m.amount_pence
                if m.account in LOSS_ACCOUNTS:
                    key_name = "losses"
                else:
                    key_name = next(k for k, lines in ALLOCATION_KEYS.items() if line in lines and k != "losses")
                method = terms.method(key_name)
                if method == "first_loss" and m.tranche is not None and terms.tranche_rank(m.tranche) is not None:
                    pooled_losses[line] += m.amount_pence  # a debit: the loss, positive
                    continue
                for key, share in split_method(method, m, -m.amount_pence, line).items():
                    add(key, line, share)

        # 3. pooled losses: the most junior tranche first, up to each position's capital.
        memo: dict[PositionKey, int] = {}
        for line in ("realised_gains_losses", "unrealised_gains_losses"):
            loss = pooled_losses.get(line, 0)
            if loss == 0:
                continue
            if loss < 0:  # a write-back: allocated by paid-in within tranche money
                keys = [p for p in ordered if p[2] is not None and terms.tranche_rank(p[2]) is not None and paid_in[p] > 0]
                for key, share in _split(-loss, keys, [paid_in[k] for k in keys], line).items():
                    add(key, line, share)
                continue
            by_tranche: dict[str, list[tuple[str, int]]] = defaultdict(list)
            index_of: dict[str, PositionKey] = {}
            for i, p in enumerate(ordered):
                if p[2] is None or terms.tranche_rank(p[2]) is None:
                    continue
                capital = balance[p] + sum(q_moves[p].values())
                by_tranche[p[2]].append((str(i), max(0, capital)))
                index_of[str(i)] = p
            tranche_capital = [TrancheCapital(t, terms.tranche_rank(t), tuple(caps)) for t, caps in sorted(by_tranche.items())]
            result = allocate_loss(loss, tranche_capital)
            for loss_line in result.lines:
                position = index_of[loss_line.investor]
                add(position, line, -loss_line.absorbed_pence)
                if not terms.is_repayable(position[2]):
                    memo[position] = memo.get(position, 0) + loss_line.absorbed_pence
            if result.unabsorbed_pence:  # beyond all capital: the most senior tranche, pro rata paid-in
                senior = min(by_tranche, key=lambda t: terms.tranche_rank(t))
                keys = [index_of[i] for i, _ in by_tranche[senior]]
                for key, share in _split(-result.unabsorbed_pence, keys, [max(1, paid_in[k]) for k in keys], line).items():
                    add(key, line, share)

        frozen_moves = {p: {line: v for line, v in lines.items() if v} for p, lines in q_moves.items()}
        moves[quarter.name] = {p: lines for p, lines in frozen_moves.items() if lines}
        for p, lines in moves[quarter.name].items():
            balance[p] += sum(lines.values())
        absorbed_memo[quarter.name] = memo
        fund_totals[quarter.name] = dict(totals)
        check_conservation(quarter.name, moves[quarter.name], fund_totals[quarter.name])

    return CapitalAccounts(quarters, ordered, moves, absorbed_memo, fund_totals)


def check_conservation(quarter: str, moves: Mapping[PositionKey, Mapping[str, int]], totals: Mapping[str, int]) -> None:
    """Allocated movements add up to the fund's, line by line (else InvariantBroken)."""
    allocated: dict[str, int] = defaultdict(int)
    for lines in moves.values():
        for line, amount in lines.items():
            allocated[line] += amount
    for line in LINES:
        if allocated.get(line, 0) != totals.get(line, 0):
            raise InvariantBroken(
                f"{quarter}: {line} allocated {allocated.get(line, 0)} pence but the fund's total is "
                f"{totals.get(line, 0)} pence"
            )
