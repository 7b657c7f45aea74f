"""Hypothetical liquidation at book value (HLBV): what each holder would receive if the fund's
net assets at book value were distributed through its own waterfall on a given day (pure).

DESIGN.md section 6; method and worked example in ``docs/statements.md``. Fund administrators
value capital accounts this way when a waterfall decides who gets what: a capped tranche then
never shows more than its capital plus its capped return, first-loss capital absorbs losses
first, and what exceeds every cap shows as the community pool's (or the manager's carry)
accrued share instead of as investor NAV.

The waterfall runs on the distribution history so far (:class:`~ledger.waterfall.WaterfallState`),
so a tranche already repaid or already paid its capped return is owed only the rest. Three
rules the waterfall itself does not need, because it only ever distributes cash:

* **first-loss capital stands before the excess.** A non-repayable (first-loss) tranche is
  never paid by a distribution, but in a liquidation its capital is what is left after every
  repayable tier is paid: it holds the remainder before the uncapped tiers (excess, carried
  interest), up to its contributed capital. Only what remains after that is the community
  pool's or the carry's. So the first loss is the first to shrink when the fund falls short.
* **net assets below zero** (liabilities above assets) are a deficit the most senior tranche's
  investors carry, pro rata to contributed capital, as the capital-account rule for a loss
  beyond all capital has it.
* **cash no tier can take** (every tier capped and no excess tier) goes to the first-loss
  tranche if there is one, else to every repayable position pro rata to contributed capital.

A deal-by-deal fund is valued as if all its deals were exited at book value together: the
tiers run once over the whole fund.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from ledger.errors import InvariantBroken
from ledger.money import allocate
from ledger.waterfall import CarriedInterest, Excess, WaterfallState, WaterfallTerms, run_waterfall

#: (party, tranche): an investor's holding in a tranche, or (recipient, None) for a pool or manager.
HolderKey = tuple[str, str | None]
_UNCAPPED_KINDS = (CarriedInterest.kind, Excess.kind)


@dataclass(frozen=True, slots=True)
class Liquidation:
    """What each holder would receive; ``values`` adds up to ``net_assets_pence`` exactly."""

    day: date
    net_assets_pence: int
    values: Mapping[HolderKey, int]
    #: What the first-loss tranche holds because it stands before the excess (see module doc).
    first_loss_reserve_pence: int = 0

    def value(self, party: str, tranche: str | None) -> int:
        return self.values.get((party, tranche), 0)


def _contributed(state: WaterfallState, day: date) -> dict[HolderKey, int]:
    return {(p.investor, p.tranche): sum(c.amount_pence for c in p.contributions if c.day <= day)
            for p in state.positions}


def _split(amount_pence: int, weights: Mapping[HolderKey, int], what: str) -> dict[HolderKey, int]:
    keys = sorted(k for k, w in weights.items() if w > 0)
    if amount_pence == 0:
        return {}
    if not keys:
        raise InvariantBroken(f"no contributed capital to carry {amount_pence} pence of {what}")
    return dict(zip(keys, allocate(amount_pence, [weights[k] for k in keys])))


def liquidate(terms: WaterfallTerms, net_assets_pence: int, day: date, state: WaterfallState) -> Liquidation:
    """Value every holder on ``day`` by running the waterfall on ``net_assets_pence``."""
    if terms.mode != "whole_fund":
        terms = dataclasses.replace(terms, mode="whole_fund")
    contributed = _contributed(state, day)
    repayable = {t.id for t in terms.tranches if t.repayable}
    first_loss = {k: v for k, v in contributed.items() if k[1] not in repayable}
    values: dict[HolderKey, int] = {}

    def add(key: HolderKey, amount: int) -> None:
        if amount:
            values[key] = values.get(key, 0) + amount

    if net_assets_pence <= 0:
        if net_assets_pence < 0:
            senior = min((t for t in terms.tranches if any(contributed.get((h, t.id), 0) > 0 for h, _ in contributed)),
                         key=lambda t: t.rank, default=None)
            weights = {k: v for k, v in contributed.items() if senior is not None and k[1] == senior.id}
            for key, share in _split(net_assets_pence, weights, "a deficit of net assets").items():
                add(key, share)
        return Liquidation(day, net_assets_pence, values)

    first = run_waterfall(terms, net_assets_pence, day, state)
    capped_paid = sum(t.paid_pence for t in first.tiers if t.kind not in _UNCAPPED_KINDS)
    remainder = net_assets_pence - capped_paid  # what the uncapped tiers took, or nobody did
    reserve = min(remainder, sum(first_loss.values()))
    result = run_waterfall(terms, net_assets_pence - reserve, day, state) if reserve else first
    for tier in result.tiers:
        for line in tier.lines:
            add((line.party, line.tranche), line.amount_pence)
    for key, share in _split(reserve, first_loss, "first-loss capital").items():
        add(key, share)
    if result.undistributed_pence:
        weights = first_loss or {k: v for k, v in contributed.items() if k[1] in repayable}
        for key, share in _split(result.undistributed_pence, weights, "cash no tier takes").items():
            add(key, share)
    if sum(values.values()) != net_assets_pence:
        raise InvariantBroken(
            f"liquidation on {day} values holders at {sum(values.values())} pence but net assets are "
            f"{net_assets_pence} pence"
        )
    return Liquidation(day, net_assets_pence, values, reserve)
