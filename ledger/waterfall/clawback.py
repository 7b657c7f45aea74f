"""Clawback of deal-by-deal carry against the whole-fund result (pure).

A deal-by-deal (American) waterfall pays the manager carry on each profitable deal as it exits,
before the fund as a whole has returned everyone's capital and preferred return; a loss on a
later deal can leave the manager with more carry than a whole-fund (European) waterfall of the
same cash would have given it. The fund's terms then oblige it to return the excess: the GP
clawback. ILPA Principles 3.0 (2019, "Clawback", p. 11) asks that clawback amounts be gross of
taxes paid, and where that is impractical that the tax rates used reflect the actual marginal
rates of the GP's members: hence gross by default and an explicit ``clawback_tax_rate``.

:func:`compute_clawback` replays every distribution of the fund's history up to a date through
the same tiers run over the whole fund (the same cash on the same days, each run with the
replayed history as its state) and compares the carry:

    excess   = max(0, carry received deal by deal (net of earlier clawbacks) - whole-fund carry)
    clawback = min(excess, net-of-tax cap, the investors' total shortfall)

where the net-of-tax cap (``clawback_tax_rate`` in the terms, 0 by default: gross) limits what
the recipient ever returns to the carry it received times ``1 - rate``, and an investor's
shortfall is what the whole-fund replay gives it less what it actually received. The clawback is
returned to the investors pro rata to their shortfalls (largest remainder, so it conserves the
pence and no investor gets more than it was short).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ledger.errors import InvariantBroken, ValidationError
from ledger.money import allocate, round_minor
from ledger.waterfall.run import (
    Distribution,
    Position,
    RecipientHistory,
    WaterfallResult,
    WaterfallState,
    run_waterfall,
)
from ledger.waterfall.terms import CarriedInterest, CatchUp, WaterfallTerms

#: Kinds of a recipient's distribution that are carry, for the comparison.
_CARRY = ("catch_up", "carry")


@dataclass(frozen=True, slots=True)
class ClawbackShare:
    """One investor position: what it got deal by deal, what the whole fund would give it, and
    its part of the clawback."""

    investor: str
    tranche: str
    deal_by_deal_pence: int  # every distribution it received up to the date, earlier clawbacks included
    whole_fund_pence: int  # what the whole-fund replay of the same cash pays it
    returned_pence: int  # its part of this clawback

    @property
    def shortfall_pence(self) -> int:
        return max(0, self.whole_fund_pence - self.deal_by_deal_pence)


@dataclass(frozen=True, slots=True)
class Clawback:
    terms_name: str
    recipient: str
    as_of: date
    carry_by_deal: tuple[tuple[str | None, int], ...]  # (project, catch-up + carry received), None untagged
    returned_before_pence: int  # carry the recipient already returned by earlier clawbacks
    whole_fund_carry_pence: int
    excess_carry_pence: int  # deal-by-deal carry (net) above the whole-fund carry, never negative
    tax_rate: Decimal
    tax_cap_pence: int | None  # what the recipient may still return on the net-of-tax basis; None if gross
    investors_shortfall_pence: int
    clawback_pence: int
    shares: tuple[ClawbackShare, ...]
    replay: tuple[WaterfallResult, ...]  # the whole-fund runs, one per distribution day

    @property
    def received_pence(self) -> int:
        return sum(amount for _, amount in self.carry_by_deal)

    @property
    def deal_by_deal_carry_pence(self) -> int:
        """Carry received deal by deal, net of what earlier clawbacks returned."""
        return self.received_pence - self.returned_before_pence


def carry_recipient(terms: WaterfallTerms) -> str:
    """The one recipient the terms pay catch-up or carry to."""
    recipients = sorted({t.recipient for t in terms.tiers if isinstance(t, (CatchUp, CarriedInterest))})
    if len(recipients) != 1:
        raise ValidationError(
            f"waterfall {terms.name}: a clawback needs exactly one carry recipient, the terms name "
            f"{', '.join(recipients) or 'none'}",
            field="recipient",
        )
    return recipients[0]


def compute_clawback(terms: WaterfallTerms, state: WaterfallState, as_of: date, *,
                     whole_fund_terms: WaterfallTerms | None = None) -> Clawback:
    """The clawback due on ``as_of`` from the history in ``state`` (everything dated after it is
    ignored). ``whole_fund_terms`` default to the same tiers run with ``mode = "whole_fund"``."""
    if terms.mode != "deal_by_deal":
        raise ValidationError(
            f"waterfall {terms.name} is {terms.mode}: its carry is already computed over the whole fund, "
            "so there is no deal-by-deal carry to claw back",
            field="mode",
        )
    recipient = carry_recipient(terms)
    whole = whole_fund_terms or replace(terms, mode="whole_fund")
    if whole.mode != "whole_fund":
        raise ValidationError(f"whole_fund_terms {whole.name} must be whole_fund, not {whole.mode}", field="mode")

    cash_by_day: dict[date, int] = defaultdict(int)
    histories = [p.distributions for p in state.positions] + [r.distributions for r in state.recipients]
    for history in histories:
        for dist in history:
            if dist.day <= as_of and dist.kind != "clawback":  # a clawback moves carry, it is not new cash
                cash_by_day[dist.day] += dist.amount_pence
    replay = _replay(whole, state, as_of, cash_by_day)

    by_deal: dict[str | None, int] = defaultdict(int)
    returned_before = 0
    for history in state.recipients:
        if history.recipient != recipient:
            continue
        for dist in history.distributions:
            if dist.day > as_of:
                continue
            if dist.kind in _CARRY:
                by_deal[dist.project] += dist.amount_pence
            elif dist.kind == "clawback":
                returned_before -= dist.amount_pence
    carry_by_deal = tuple(sorted(by_deal.items(), key=lambda item: (item[0] is None, item[0] or "")))
    received = sum(by_deal.values())
    whole_carry = sum(line.amount_pence for r in replay for tier in r.tiers for line in tier.lines
                      if line.party == recipient and line.tranche is None and line.kind in _CARRY)
    excess = max(0, received - returned_before - whole_carry)

    tax_cap = None
    due = excess
    if terms.clawback_tax_rate:
        net_of_tax = round_minor(Decimal(received) * (1 - terms.clawback_tax_rate), terms.rounding)
        tax_cap = max(0, net_of_tax - returned_before)
        due = min(due, tax_cap)

    got = {(p.investor, p.tranche): sum(d.amount_pence for d in p.distributions if d.day <= as_of)
           for p in state.positions}
    would_get = {key: 0 for key in got}
    for result in replay:
        for party in result.parties:
            if party.tranche is not None:
                would_get[(party.party, party.tranche)] += party.total_pence
    keys = [(p.investor, p.tranche) for p in state.positions]
    shortfalls = [max(0, would_get[key] - got[key]) for key in keys]
    due = min(due, sum(shortfalls))
    returned = allocate(due, shortfalls) if due else [0] * len(keys)
    shares = tuple(ClawbackShare(key[0], key[1], got[key], would_get[key], share)
                   for key, share in zip(keys, returned))
    if sum(returned) != due or any(s.returned_pence > s.shortfall_pence for s in shares):
        raise InvariantBroken("clawback shares do not add up to the clawback or exceed a shortfall")
    return Clawback(terms.name, recipient, as_of, carry_by_deal, returned_before, whole_carry, excess,
                    terms.clawback_tax_rate, tax_cap, sum(shortfalls), due, shares, tuple(replay))


def _replay(whole: WaterfallTerms, state: WaterfallState, as_of: date,
            cash_by_day: dict[date, int]) -> list[WaterfallResult]:
    """Run each day's cash through the whole-fund terms, in date order, each run's state being the
    contributions so far and the replayed (not the actual) distributions before it."""
    contributions = {(p.investor, p.tranche): tuple(c for c in p.contributions if c.day <= as_of)
                     for p in state.positions}
    commitments = {(p.investor, p.tranche): p.commitment_pence for p in state.positions}
    paid: dict[tuple[str, str | None], list[Distribution]] = defaultdict(list)
    results: list[WaterfallResult] = []
    for day in sorted(cash_by_day):
        if cash_by_day[day] <= 0:
            continue
        replay_state = WaterfallState(
            tuple(Position(investor, tranche, commitments[(investor, tranche)], contributions[(investor, tranche)],
                           tuple(paid[(investor, tranche)]))
                  for investor, tranche in contributions),
            tuple(RecipientHistory(party, tuple(history)) for (party, tranche), history in paid.items()
                  if tranche is None),
        )
        result = run_waterfall(whole, cash_by_day[day], day, replay_state)
        for tier in result.tiers:
            for line in tier.lines:
                paid[(line.party, line.tranche)].append(Distribution(day, line.kind, line.amount_pence))
        results.append(result)
    return results
