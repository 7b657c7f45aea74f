"""Capital accounts: the fund's ledger movements allocated to investors quarter by quarter, then
valued by the fund's waterfall (pure).

DESIGN.md section 6; rules and a worked example in ``docs/statements.md``. Input is plain values
the service layer aggregated in SQL (:class:`Movement` rows: one per day, ledger line and funding
group; :class:`GroupTransfer` rows for money moved between groups); output is every position's
capital account movements per quarter (:class:`CapitalAccounts`).

A **position** is one capital holder's money in one funding group: (holder, source, tranche,
restriction). Holders are the counterparties of ``contributed_capital`` / ``grant_capital``
postings (investors, and any payer that gave the fund capital) and the waterfall's recipients
(community pool, manager). Each quarter:

1. contributions and distributions belong to the position they were posted to; every other line
   (income, outcome payments, fees, expenses, delivery costs, grants, gains, losses) is
   allocated by the method the fund terms name for it (:data:`ALLOCATION_METHODS`), conserving
   every penny with :func:`ledger.money.allocate`;
2. each position's capital is then what the fund's waterfall would pay it in a liquidation at
   book value that day (:func:`ledger.liquidation.liquidate`); the difference is shown in the
   two :data:`WATERFALL_LINES`, each summing to zero over the fund.

The sum of all positions' movements equals the fund's movements, line by line and quarter by
quarter (:func:`check_conservation`), and each position ends at its liquidation value; either
failing raises :class:`InvariantBroken`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping, Sequence

from ledger.errors import InvariantBroken
from ledger.fund_terms import (  # noqa: F401 - the terms' names are also read from here
    ALLOCATED_ACCOUNTS,
    ALLOCATION_KEYS,
    ALLOCATION_METHODS,
    CAPITAL_ACCOUNTS,
    DEFAULT_ALLOCATION,
    DISTRIBUTION_CATEGORIES,
    LINE_LABELS,
    LINES,
    LOSS_ACCOUNTS,
    WATERFALL_LINES,
    FundTerms,
    Target,
    check_terms_match,
    fund_terms_from_mapping,
    load_fund_terms,
)
from ledger.liquidation import liquidate
from ledger.money import allocate
from ledger.periods import Period
from ledger.waterfall import Contribution, Distribution, Position, RecipientHistory, WaterfallState


# ---------------------------------------------------------------------------- inputs


PositionKey = tuple  # (holder, source, tranche, restriction)


@dataclass(frozen=True, slots=True)
class Movement:
    """Ledger postings summed per day, account and group, as the service layer reads them.

    ``amount_pence`` is the ledger's signed sum (debit positive). ``counterparty`` matters for
    capital and distribution accounts; ``category`` splits an investor's distribution
    (``return_of_capital`` / ``income`` / ``gains``; None for a distribution with no split) and
    ``kind`` is the waterfall tier kind that paid it (:data:`ledger.waterfall.DISTRIBUTION_KINDS`).
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
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class GroupTransfer:
    """Money moved by a transfer event from one funding group to another (amount positive).

    It stays the money of whoever owned it in the group it left: this is how restricted money
    reached by a transfer is traced to its investor."""

    day: date
    from_group: tuple  # (source, tranche, restriction)
    to_group: tuple
    amount_pence: int


@dataclass(frozen=True, slots=True)
class CapitalAccounts:
    """Every position's movements per quarter: ``moves[quarter][position][line]`` in pence."""

    quarters: tuple[Period, ...]
    positions: tuple[PositionKey, ...]
    moves: Mapping[str, Mapping[PositionKey, Mapping[str, int]]]
    #: The fund's own totals per quarter and line (what the allocation must conserve).
    fund_totals: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: Holders that are not investors: the waterfall's recipients (community pool, manager).
    recipients: frozenset[str] = frozenset()

    def ending(self, position: PositionKey, through: Period) -> int:
        return sum(
            sum(self.moves[q.name].get(position, {}).values()) for q in self.quarters if q.start <= through.start
        )


def quarters_between(first: date, last_quarter: Period) -> tuple[Period, ...]:
    out = [Period.containing(first)] if first < last_quarter.end else []
    while out and out[-1].start < last_quarter.start:
        out.append(out[-1].next())
    return tuple(out) if out else (last_quarter,)


def _sort_key(values: Sequence) -> tuple:
    return tuple((v is not None, v or "") for v in values)


# ---------------------------------------------------------------------------- waterfall state


def waterfall_state_from(movements: Iterable[Movement], terms: FundTerms, investors: frozenset[str],
                         commitments: Mapping[tuple[str, str], int] | None = None) -> WaterfallState:
    """The waterfall's history (dated contributions per investor and tranche, distributions by
    tier kind) from the same movements the capital accounts use.

    A distribution recorded without the waterfall counts as return of capital up to what is
    unreturned, the rest as the tranche's return (so its cap still holds). A reversal (a negative
    amount) cancels the latest distributions of the same kind to the same holder.
    """
    tranches = {t.id for t in terms.waterfall.tranches}
    contributions: dict[tuple[str, str], list[Contribution]] = defaultdict(list)
    paid_net: dict[tuple[str, str], int] = defaultdict(int)
    for m in sorted(movements, key=lambda m: m.day):
        if m.account in CAPITAL_ACCOUNTS and m.counterparty and m.tranche in tranches:
            key = (m.counterparty, m.tranche)
            if m.amount_pence < 0:
                contributions[key].append(Contribution(m.day, -m.amount_pence))
            elif m.amount_pence > 0:  # a reversed contribution: cancel the latest first
                _cancel(contributions[key], m.amount_pence, Contribution)
            paid_net[key] -= m.amount_pence
    history: dict[tuple[str, str | None], list[Distribution]] = defaultdict(list)
    for m in sorted(movements, key=lambda m: m.day):
        if m.account != "distributions" or not m.counterparty:
            continue
        key = (m.counterparty, m.tranche if m.counterparty in investors else None)
        if key[1] is not None and key[1] not in tranches:
            continue
        kinds: list[tuple[str, int]]
        if m.kind is not None:
            kinds = [(m.kind, m.amount_pence)]
        elif m.category is not None:
            kinds = [({"return_of_capital": "return_of_capital", "income": "preferred_return"}.get(m.category, "excess"),
                      m.amount_pence)]
        else:  # a plain distribution: capital first; the rest counts against the tranche's return
            returned = sum(d.amount_pence for d in history[key] if d.kind == "return_of_capital")
            roc = max(0, min(m.amount_pence, paid_net.get(key, 0) - returned)) if m.amount_pence > 0 else 0
            kinds = [("return_of_capital", roc), ("preferred_return" if key[1] else "excess", m.amount_pence - roc)]
        for kind, amount in kinds:
            if amount > 0:
                history[key].append(Distribution(m.day, kind, amount))
            elif amount < 0:
                _cancel_kind(history[key], kind, -amount)
    committed = dict(commitments or {})
    keys = sorted(set(contributions) | {k for k in committed if k[1] in tranches} |
                  {k for k in history if k[1] is not None})
    positions = tuple(
        Position(investor, tranche, committed.get((investor, tranche), 0), tuple(contributions.get((investor, tranche), ())),
                 tuple(sorted(history.get((investor, tranche), ()), key=lambda d: (d.day, d.kind))))
        for investor, tranche in keys
    )
    recipients = tuple(RecipientHistory(party, tuple(sorted(h, key=lambda d: (d.day, d.kind))))
                       for (party, tranche), h in sorted(history.items()) if tranche is None)
    return WaterfallState(positions, recipients)


def _cancel(items: list, amount_pence: int, make) -> None:
    while amount_pence > 0 and items:
        last = items.pop()
        if last.amount_pence > amount_pence:
            items.append(make(last.day, last.amount_pence - amount_pence))
        amount_pence -= min(amount_pence, last.amount_pence)


def _cancel_kind(items: list[Distribution], kind: str, amount_pence: int) -> None:
    for index in range(len(items) - 1, -1, -1):
        if amount_pence <= 0:
            return
        d = items[index]
        if d.kind != kind:
            continue
        taken = min(amount_pence, d.amount_pence)
        items[index] = Distribution(d.day, kind, d.amount_pence - taken, d.project)
        amount_pence -= taken
    items[:] = [d for d in items if d.amount_pence > 0]


# ---------------------------------------------------------------------------- allocation


def _split(amount: int, keys: Sequence[PositionKey], weights: Sequence[int], what: str) -> dict[PositionKey, int]:
    if amount == 0:
        return {}
    if not keys or sum(weights) <= 0:
        raise InvariantBroken(f"no capital to allocate {amount} pence of {what} to")
    return {k: s for k, s in zip(keys, allocate(amount, list(weights))) if s}


def build_capital_accounts(movements: Iterable[Movement], terms: FundTerms, through: Period,
                           investors: frozenset[str] | None = None,
                           disbursed: Iterable[Movement] = (),
                           commitments: Mapping[tuple[str, str], int] | None = None,
                           transfers: Iterable[GroupTransfer] = ()) -> CapitalAccounts:
    """Allocate the fund's movements to positions quarter by quarter up to ``through``, then
    value every position by the fund's waterfall (hypothetical liquidation at book value).

    Two steps each quarter (docs/statements.md):

    1. **By the terms**: contributions and distributions to their own position; income, fees,
       expenses, delivery costs, grants, gains and losses by the allocation method the terms
       name for each (:data:`ALLOCATION_METHODS`).
    2. **By the waterfall**: each position's capital at the quarter end is what
       :func:`ledger.liquidation.liquidate` says the waterfall would pay it if the fund's net
       assets were distributed that day. The difference from step 1 is shown as two lines that
       each sum to zero over the fund: what moved to or from the community pool / carry
       (``carry_and_community_pool``) and what moved between investors because of rank
       (``first_loss_protection``).

    ``investors``: holders that are investors (a distribution to anyone else goes to that
    recipient's own position); None treats every capital holder as an investor. ``disbursed``:
    capital disbursed to projects, the weights of ``by_project``. ``commitments``: committed
    pence per (investor, tranche), the weights of ``by_commitment``. ``transfers``: money moved
    between funding groups by transfer events, traced to its owners.
    """
    disbursed = sorted((d for d in disbursed if d.day < through.end), key=lambda d: d.day)
    transfers = sorted((t for t in transfers if t.day < through.end), key=lambda t: t.day)
    committed = dict(commitments or {})
    project_groups: dict[str, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    rows = [m for m in movements if m.day < through.end]
    by_quarter: dict[str, list[Movement]] = defaultdict(list)
    for m in rows:
        by_quarter[Period.containing(m.day).name].append(m)
    quarters = quarters_between(min((m.day for m in rows), default=through.start), through)

    holders_seen: set[str] = {m.counterparty for m in rows if m.account in CAPITAL_ACCOUNTS and m.counterparty}
    investor_ids = frozenset(holders_seen) if investors is None else frozenset(investors)
    waterfall_recipients = {t.recipient for t in terms.waterfall.tiers if hasattr(t, "recipient")}
    positions: set[PositionKey] = set()
    for m in rows:
        if m.account in CAPITAL_ACCOUNTS and m.counterparty:
            positions.add((m.counterparty, m.source, m.tranche, m.restriction))
        elif m.account == "distributions" and m.counterparty:
            positions.add(_distribution_position(m, investor_ids))
    positions |= {(r, None, None, None) for r in waterfall_recipients}
    recipients = frozenset(p[0] for p in positions if p[0] not in holders_seen)
    ordered = tuple(sorted(positions, key=_sort_key))
    in_waterfall = {t.id for t in terms.waterfall.tranches}
    by_holder_tranche: dict[tuple, list[PositionKey]] = defaultdict(list)
    for p in ordered:
        by_holder_tranche[(p[0], p[2])].append(p)
    state = waterfall_state_from(rows, terms, investor_ids, committed)

    paid_in: dict[PositionKey, int] = defaultdict(int)
    group_paid_in: dict[tuple, dict[PositionKey, int]] = defaultdict(lambda: defaultdict(int))
    owners: dict[tuple, dict[PositionKey, int]] = defaultdict(lambda: defaultdict(int))
    balance: dict[PositionKey, int] = defaultdict(int)
    moves: dict[str, dict[PositionKey, dict[str, int]]] = {}
    fund_totals: dict[str, dict[str, int]] = {}
    next_disbursed = next_transfer = 0

    for quarter in quarters:
        q_moves: dict[PositionKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        totals: dict[str, int] = defaultdict(int)
        items = sorted(by_quarter.get(quarter.name, []), key=lambda m: m.day)

        def add(position: PositionKey, line: str, amount: int) -> None:
            if amount:
                q_moves[position][line] += amount

        # 1. contributions: credits to capital accounts, holder's own position and group.
        for m in items:
            if m.account in CAPITAL_ACCOUNTS and m.counterparty:
                key = (m.counterparty, m.source, m.tranche, m.restriction)
                add(key, "contributions", -m.amount_pence)
                totals["contributions"] += -m.amount_pence
                paid_in[key] += -m.amount_pence
                group_paid_in[key[1:]][key] += -m.amount_pence
                owners[key[1:]][key] += -m.amount_pence
        while next_disbursed < len(disbursed) and disbursed[next_disbursed].day < quarter.end:
            d = disbursed[next_disbursed]
            project_groups[d.project][(d.source, d.tranche, d.restriction)] += d.amount_pence
            next_disbursed += 1
        while next_transfer < len(transfers) and transfers[next_transfer].day < quarter.end:
            t = transfers[next_transfer]
            source_owners = owners[tuple(t.from_group)]
            keys = sorted((k for k, v in source_owners.items() if v > 0), key=_sort_key)
            if keys:
                for key, share in zip(keys, allocate(t.amount_pence, [source_owners[k] for k in keys])):
                    source_owners[key] -= share
                    owners[tuple(t.to_group)][key] += share
            next_transfer += 1

        def weights_all() -> tuple[list[PositionKey], list[int]]:
            keys = [p for p in ordered if paid_in[p] > 0]
            return keys, [paid_in[p] for p in keys]

        def weights_group(group: tuple) -> tuple[list[PositionKey], list[int]]:
            """The group's owners (its contributors, and the owners of money transferred in)."""
            for table in (owners[group], group_paid_in[group]):
                keys = sorted((k for k, v in table.items() if v > 0), key=_sort_key)
                if keys:
                    return keys, [table[k] for k in keys]
            return weights_all()  # money in a group nobody can be traced to

        commitment_weights: list[tuple[list[PositionKey], list[int]]] = []

        def weights_commitment() -> tuple[list[PositionKey], list[int]]:
            """Commitments per (investor, tranche), over its positions pro rata to paid-in; the
            same all quarter (contributions come first), so computed once."""
            if commitment_weights:
                return commitment_weights[0]
            out: dict[PositionKey, int] = {}
            for (holder, tranche), amount in sorted(committed.items()):
                mine = [p for p in by_holder_tranche.get((holder, tranche), ()) if paid_in[p] > 0]
                if mine and amount > 0:
                    for key, share in zip(mine, allocate(amount, [paid_in[p] for p in mine])):
                        out[key] = out.get(key, 0) + share
            keys = [k for k in ordered if out.get(k, 0) > 0]
            commitment_weights.append((keys, [out[k] for k in keys]) if keys else weights_all())
            return commitment_weights[0]

        def split_method(method: str, m: Movement, amount: int, what: str) -> dict[PositionKey, int]:
            """Split ``amount`` (holder's sign) of movement ``m`` by an allocation method."""
            if method == "by_project" and m.project and any(v > 0 for v in project_groups[m.project].values()):
                groups = sorted((g for g, v in project_groups[m.project].items() if v > 0), key=_sort_key)
                out: dict[PositionKey, int] = defaultdict(int)
                for group, part in zip(groups, allocate(amount, [project_groups[m.project][g] for g in groups])):
                    keys, weights = weights_group(group)
                    for key, share in _split(part, keys, weights, what).items():
                        out[key] += share
                return out
            if method in ("by_group", "by_project"):
                keys, weights = weights_group((m.source, m.tranche, m.restriction))
            elif method == "by_commitment":
                keys, weights = weights_commitment()
            else:
                keys, weights = weights_all()
            return _split(amount, keys, weights, what)

        # 2. distributions to their own position; every other line by the terms.
        for m in items:
            if m.account == "distributions" and m.counterparty:
                key = _distribution_position(m, investor_ids)
                amount = m.amount_pence
                category = m.category
                if category is None:  # no waterfall split: capital first, then gains
                    returned = -sum(moves[q].get(key, {}).get("distributions_return_of_capital", 0) for q in moves)
                    returned += -q_moves[key].get("distributions_return_of_capital", 0)
                    unreturned = max(0, paid_in[key] - returned)
                    roc = min(amount, unreturned) if amount > 0 else amount
                    parts = (("return_of_capital", roc), ("gains", amount - roc))
                else:
                    parts = ((category, amount),)
                for part, value in parts:
                    add(key, f"distributions_{part}", -value)
                    totals[f"distributions_{part}"] += -value
            elif m.account in ALLOCATED_ACCOUNTS:
                line = ALLOCATED_ACCOUNTS[m.account]
                totals[line] += -m.amount_pence
                key_name = "losses" if m.account in LOSS_ACCOUNTS else next(
                    k for k, lines in ALLOCATION_KEYS.items() if line in lines and k != "losses")
                for key, share in split_method(terms.method(key_name), m, -m.amount_pence, line).items():
                    add(key, line, share)

        # 3. the waterfall: each position holds what a liquidation at book value would pay it.
        by_terms = {p: balance[p] + sum(q_moves[p].values()) for p in ordered}
        outside = {p for p in ordered if p[0] not in recipients and p[2] not in in_waterfall}
        net_assets = sum(by_terms.values())
        liquidation = liquidate(terms.waterfall, net_assets - sum(by_terms[p] for p in outside),
                                quarter.last_day, state)
        values = _position_values(liquidation.values, ordered, by_holder_tranche, outside, by_terms, paid_in,
                                  recipients)
        change = {p: values[p] - by_terms[p] for p in ordered}
        for line, parts in _waterfall_lines(change, recipients, ordered).items():
            for key, amount in parts.items():
                add(key, line, amount)

        moves[quarter.name] = {p: {line: v for line, v in lines.items() if v} for p, lines in q_moves.items()}
        moves[quarter.name] = {p: lines for p, lines in moves[quarter.name].items() if lines}
        for p, lines in moves[quarter.name].items():
            balance[p] += sum(lines.values())
        fund_totals[quarter.name] = dict(totals)
        check_conservation(quarter.name, moves[quarter.name], fund_totals[quarter.name])
        for p in ordered:
            if balance[p] != values[p]:
                raise InvariantBroken(f"{quarter.name}: position {p} ends at {balance[p]} pence but the waterfall "
                                      f"values it at {values[p]} pence")

    return CapitalAccounts(quarters, ordered, moves, fund_totals, recipients)


def _distribution_position(m: Movement, investors: frozenset[str]) -> PositionKey:
    """An investor's distribution is in its own group; a recipient's (pool, manager) has no group."""
    if m.counterparty in investors:
        return (m.counterparty, m.source, m.tranche, m.restriction)
    return (m.counterparty, None, None, None)


def _position_values(values: Mapping[tuple[str, str | None], int], ordered: Sequence[PositionKey],
                     by_holder_tranche: Mapping[tuple, Sequence[PositionKey]],
                     outside: set[PositionKey], by_terms: Mapping[PositionKey, int],
                     paid_in: Mapping[PositionKey, int], recipients: frozenset[str]) -> dict[PositionKey, int]:
    """The liquidation's value per (holder, tranche) split over the holder's positions in that
    tranche pro rata to paid-in (one position each, in most funds); capital outside the
    waterfall keeps its by-terms figure."""
    out = {p: (by_terms[p] if p in outside else 0) for p in ordered}
    for (party, tranche), value in sorted(values.items(), key=lambda kv: _sort_key(kv[0])):
        if tranche is None:
            key = (party, None, None, None)
            if key not in out:
                raise InvariantBroken(f"waterfall recipient {party!r} has no position")
            out[key] += value
            continue
        mine = [p for p in by_holder_tranche.get((party, tranche), ()) if p not in outside and p[0] not in recipients]
        if not mine:
            if value:
                raise InvariantBroken(f"the waterfall values {party!r} in tranche {tranche!r} at {value} pence "
                                      "but it holds no position there")
            continue
        weights = [max(0, paid_in.get(p, 0)) for p in mine]
        for key, share in zip(mine, allocate(value, weights if sum(weights) else [1] * len(mine))):
            out[key] += share
    return out


def _waterfall_lines(change: Mapping[PositionKey, int], recipients: frozenset[str],
                     ordered: Sequence[PositionKey]) -> dict[str, dict[PositionKey, int]]:
    """Split each position's waterfall change into the two lines, each summing to zero.

    The recipients' (pool, carry) change is ``carry_and_community_pool``; the investors who gave
    it (their change negative) carry it pro rata to what they gave, or, when the pool's share
    shrinks, the investors who gained receive it pro rata. What is left of each investor's change
    moved between investors by rank: ``first_loss_protection``.
    """
    pool = {p: v for p, v in change.items() if p[0] in recipients and v}
    people = [p for p in ordered if p[0] not in recipients]
    pool_change = sum(pool.values())
    share: dict[PositionKey, int] = {}
    if pool_change:
        sign = 1 if pool_change > 0 else -1
        side = [p for p in people if change[p] * sign < 0]
        weights = [abs(change[p]) for p in side]
        if sum(weights) < abs(pool_change):
            raise InvariantBroken("the waterfall moved more to the community pool than investors gave")
        for key, part in zip(side, allocate(-pool_change, weights)):
            share[key] = part
    lines: dict[str, dict[PositionKey, int]] = {"carry_and_community_pool": dict(pool), "first_loss_protection": {}}
    for p in people:
        if share.get(p):
            lines["carry_and_community_pool"][p] = share[p]
        if change[p] - share.get(p, 0):
            lines["first_loss_protection"][p] = change[p] - share.get(p, 0)
    return lines


def check_conservation(quarter: str, moves: Mapping[PositionKey, Mapping[str, int]], totals: Mapping[str, int]) -> None:
    """Allocated movements add up to the fund's, line by line (else InvariantBroken); the
    waterfall lines add up to zero."""
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
