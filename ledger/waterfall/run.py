"""The waterfall run: investors' history in, every tier's payments out, conserving the cash.

:func:`run_waterfall` is pure: terms, cash, date and state (:class:`WaterfallState`) in, a
:class:`WaterfallResult` out. :func:`allocate_loss` charges a write-down first loss first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Mapping, Sequence

from ledger.errors import InvariantBroken, ValidationError
from ledger.money import allocate, check_pence, round_minor
from ledger.waterfall.terms import (
    CATEGORY_OF_KIND,
    DISTRIBUTION_KINDS,
    Accrual,
    CappedReturn,
    CarriedInterest,
    CatchUp,
    Excess,
    PreferredReturn,
    ReturnOfCapital,
    Tier,
    WaterfallTerms,
    year_fraction,
)

#: Decimal digits used for accruals; far beyond a penny on any realistic fund.
_ACCRUAL_PRECISION = 50


# --------------------------------------------------------------------------------------------
# State: what each investor put in and has had back
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """Capital drawn from an investor on ``day``; ``project`` tags it for deal-by-deal runs."""

    day: date
    amount_pence: int
    project: str | None = None

    def __post_init__(self) -> None:
        if check_pence(self.amount_pence, "contribution amount_pence") < 0:
            raise ValidationError(f"contribution on {self.day} is negative ({self.amount_pence} pence)")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A past distribution of one kind (:data:`DISTRIBUTION_KINDS`)."""

    day: date
    kind: str
    amount_pence: int
    project: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTION_KINDS:
            raise ValidationError(
                f"distribution kind {self.kind!r} is not one of {', '.join(DISTRIBUTION_KINDS)}", field="kind"
            )
        if check_pence(self.amount_pence, "distribution amount_pence") < 0 and self.kind != "clawback":
            raise ValidationError(f"distribution on {self.day} is negative ({self.amount_pence} pence); only a "
                                  "clawback (carry returned) may be")


@dataclass(frozen=True, slots=True)
class Position:
    """One investor's holding in one tranche."""

    investor: str
    tranche: str
    commitment_pence: int
    contributions: tuple[Contribution, ...] = ()
    distributions: tuple[Distribution, ...] = ()

    def __post_init__(self) -> None:
        check_pence(self.commitment_pence, "commitment_pence")


@dataclass(frozen=True, slots=True)
class RecipientHistory:
    """Past catch-up, carry or excess paid to a non-investor recipient (manager, community pool)."""

    recipient: str
    distributions: tuple[Distribution, ...] = ()


@dataclass(frozen=True, slots=True)
class Exit:
    """One deal's exit in a deal-by-deal run: the proceeds distributed and the day they are.

    Accruals of that deal run to ``day``, and only the deal's history up to ``day`` counts.
    """

    day: date
    proceeds_pence: int

    def __post_init__(self) -> None:
        if not isinstance(self.day, date):
            raise ValidationError(f"exit day must be a date, got {self.day!r}", field="day")
        if check_pence(self.proceeds_pence, "exit proceeds_pence") < 0:
            raise ValidationError(f"exit on {self.day} has negative proceeds ({self.proceeds_pence} pence)",
                                  field="proceeds_pence")


@dataclass(frozen=True, slots=True)
class WaterfallState:
    positions: tuple[Position, ...]
    recipients: tuple[RecipientHistory, ...] = ()


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierLine:
    """One payment of one tier to one party. ``tranche`` is None for a recipient."""

    party: str
    tranche: str | None
    kind: str  # one of DISTRIBUTION_KINDS
    amount_pence: int

    @property
    def category(self) -> str:
        return CATEGORY_OF_KIND[self.kind]

    @property
    def is_investor(self) -> bool:
        return self.tranche is not None


@dataclass(frozen=True, slots=True)
class TierResult:
    index: int  # position of the tier in the terms
    kind: str  # tier kind (TIER_KINDS)
    project: str | None  # the deal in a deal-by-deal run, else None
    available_pence: int  # cash left when the tier started
    lines: tuple[TierLine, ...]
    day: date | None = None  # the date this tier ran at (a deal's exit date in a deal-by-deal run)

    @property
    def paid_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)


@dataclass(frozen=True, slots=True)
class PartyTotal:
    """One party's whole distribution, split as an investor statement shows it."""

    party: str
    tranche: str | None
    return_of_capital_pence: int
    income_pence: int
    gains_pence: int

    @property
    def total_pence(self) -> int:
        return self.return_of_capital_pence + self.income_pence + self.gains_pence


@dataclass(frozen=True, slots=True)
class WaterfallResult:
    terms_name: str
    mode: str
    day: date
    cash_pence: int
    tiers: tuple[TierResult, ...]
    parties: tuple[PartyTotal, ...]
    undistributed_pence: int
    undistributed_reason: str | None

    @property
    def distributed_pence(self) -> int:
        return sum(tier.paid_pence for tier in self.tiers)

    def party(self, party: str, tranche: str | None = None) -> PartyTotal:
        for total in self.parties:
            if total.party == party and total.tranche == tranche:
                return total
        return PartyTotal(party, tranche, 0, 0, 0)

    def paid_by_tier(self, index: int, party: str, tranche: str | None = None) -> int:
        return sum(
            line.amount_pence
            for tier in self.tiers
            if tier.index == index
            for line in tier.lines
            if line.party == party and line.tranche == tranche
        )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

_Key = tuple[str, str | None]  # (party, tranche); tranche None for a recipient
#: Distribution kinds that are profit (not capital) in a catch-up's test; a clawback moves carry
#: from the recipient to the investors, so it counts on both sides.
_PROFIT_KINDS = ("preferred_return", "catch_up", "carry", "clawback")
_CARRY_KINDS = ("catch_up", "carry", "clawback")


class _Book:
    """Everything one scope (the fund, or one deal) knows while its tiers run.

    Local and discarded when the run ends: the run as a whole stays a pure function.
    """

    def __init__(self, terms: WaterfallTerms, state: WaterfallState, day: date, project: str | None) -> None:
        self.terms = terms
        self.day = day

        def keep(item: Contribution | Distribution) -> bool:
            # Only history up to the distribution date counts; a deal-by-deal run sees one deal.
            return item.day <= day and (project is None or item.project == project)

        self.positions = [
            (p.investor, p.tranche, tuple(c for c in p.contributions if keep(c)),
             tuple(d for d in p.distributions if keep(d)))
            for p in state.positions
        ]
        self.recipient_prior: dict[tuple[str, str], int] = {}
        for history in state.recipients:
            for dist in history.distributions:
                if keep(dist):
                    key = (history.recipient, dist.kind)
                    self.recipient_prior[key] = self.recipient_prior.get(key, 0) + dist.amount_pence
        self.paid_now: dict[tuple[str, str | None, str], int] = {}
        #: (recipient, scope) pairs a catch-up tier brings up to their carry share of all profits.
        self.caught_up_by = {(t.recipient, t.scope) for t in terms.tiers if isinstance(t, CatchUp)}

    # -- figures per position -------------------------------------------------------------

    def in_scope(self, scope: str) -> list[tuple[str, str, tuple[Contribution, ...], tuple[Distribution, ...]]]:
        tranches = self.terms.in_scope(scope)
        return [p for p in self.positions if p[1] in tranches]

    def now(self, party: str, tranche: str | None, kind: str) -> int:
        return self.paid_now.get((party, tranche, kind), 0)

    def contributed(self, position) -> int:
        return sum(c.amount_pence for c in position[2])

    def prior(self, position, kind: str) -> int:
        return sum(d.amount_pence for d in position[3] if d.kind == kind)

    def unreturned(self, position) -> int:
        returned = self.prior(position, "return_of_capital") + self.now(position[0], position[1], "return_of_capital")
        return max(0, self.contributed(position) - returned)

    def income_due(self, position, accrual: Accrual) -> int:
        """Accrued income on dated capital net of returned capital, less income already paid.

        Simple: sum(e * r * t) - sum(P). Compound: sum(e * ((1+r)^t - 1)) - sum(P * (1+r)^t),
        where e are contributions (+) and returns of capital (-), P income paid, and t the year
        fraction from each to the distribution date. The compound form is the one under which an
        investor paid its unreturned capital plus this amount has earned exactly ``r`` a year.
        """
        capital_events = [(c.day, Decimal(c.amount_pence)) for c in position[2]]
        capital_events += [(d.day, -Decimal(d.amount_pence)) for d in position[3] if d.kind == "return_of_capital"]
        income_paid = [(d.day, Decimal(d.amount_pence)) for d in position[3] if d.kind == "preferred_return"]
        income_paid.append((self.day, Decimal(self.now(position[0], position[1], "preferred_return"))))
        with localcontext() as ctx:
            ctx.prec = _ACCRUAL_PRECISION

            def years(day: date) -> Decimal:
                fraction = year_fraction(day, self.day, accrual.day_count)
                return Decimal(fraction.numerator) / Decimal(fraction.denominator)

            rate = accrual.rate
            if accrual.compounding == "simple":
                accrued = sum((amount * rate * years(day) for day, amount in capital_events), Decimal(0))
                accrued -= sum((amount for _, amount in income_paid), Decimal(0))
            else:
                growth = Decimal(1) + rate
                accrued = sum((amount * (growth ** years(day) - 1) for day, amount in capital_events), Decimal(0))
                accrued -= sum((amount * growth ** years(day) for day, amount in income_paid), Decimal(0))
            due = round_minor(accrued, self.terms.rounding)
        return max(0, due)

    def profits_to_investors(self, scope: str, kinds: tuple[str, ...] = _PROFIT_KINDS) -> int:
        return sum(
            self.prior(p, kind) + self.now(p[0], p[1], kind)
            for p in self.in_scope(scope)
            for kind in kinds
        )

    def recipient_carry(self, recipient: str, kinds: tuple[str, ...] = _CARRY_KINDS) -> int:
        return sum(
            self.recipient_prior.get((recipient, kind), 0) + self.now(recipient, None, kind)
            for kind in kinds
        )

    def carry_share_of(self, share: Fraction, base_pence: int) -> int:
        """``share`` of ``base_pence`` to the penny; the fraction of a penny goes where the terms'
        ``residue`` says: to the investors (rounded down) or to the recipient (rounded up)."""
        exact = share * max(0, base_pence)
        down = round_minor(exact, "down")
        return down if self.terms.residue == "investors" or down == exact else down + 1

    # -- paying ---------------------------------------------------------------------------

    def pay(self, party: str, tranche: str | None, kind: str, amount_pence: int, lines: list[TierLine]) -> None:
        if amount_pence <= 0:
            return
        key = (party, tranche, kind)
        self.paid_now[key] = self.paid_now.get(key, 0) + amount_pence
        lines.append(TierLine(party, tranche, kind, amount_pence))

    def pay_due(self, positions, dues: list[int], available_pence: int, kind: str, lines: list[TierLine]) -> int:
        """Pay what is due, pro rata to it when cash runs short; a share never exceeds its due."""
        total_due = sum(dues)
        paying = min(available_pence, total_due)
        if paying <= 0:
            return 0
        shares = dues if paying == total_due else allocate(paying, dues)
        for position, share in zip(positions, shares):
            self.pay(position[0], position[1], kind, share, lines)
        return paying

    def pay_investors_pro_rata_capital(self, scope: str, amount_pence: int, kind: str, lines: list[TierLine]) -> None:
        if amount_pence <= 0:
            return
        positions = self.in_scope(scope)
        weights = [self.contributed(p) for p in positions]
        if sum(weights) == 0:
            raise ValidationError(
                f"waterfall {self.terms.name}: {kind} has {amount_pence} pence for investors in tranche scope "
                f"{scope!r} but none has contributed capital to share it by"
            )
        for position, share in zip(positions, allocate(amount_pence, weights)):
            self.pay(position[0], position[1], kind, share, lines)

    def catch_up(self, tier: CatchUp, available_pence: int, lines: list[TierLine]) -> int:
        """Pay ``percentage`` of each pound to the recipient until it holds exactly its carry share.

        With P the profits of investors in scope and G the recipient's carry so far, the catch-up
        is complete at the cash c* solving G + p*c = X*(P + G + c), i.e. c* = (X*(P+G) - G)/(p - X).
        The tier pays c = ceil(c*) pence and gives the recipient exactly its share of the profits
        then, X*(P + G + c) to the penny less G, so it ends caught up; the investors take the rest
        of c (within a penny of 1 - p of it). Short of c, all the cash is split p : 1 - p (the
        recipient's part rounded as ``residue`` says, never past its share).
        """
        if available_pence <= 0:
            return 0
        profits = self.profits_to_investors(tier.scope)
        carry = self.recipient_carry(tier.recipient)
        share, percentage = Fraction(tier.carry_share), Fraction(tier.percentage)
        if carry >= self.carry_share_of(share, profits + carry):
            return 0  # caught up already (to the penny)
        needed = (share * (profits + carry) - carry) / (percentage - share)
        complete_pence = round_minor(needed, "down") + (0 if needed.denominator == 1 else 1)
        paying = min(available_pence, complete_pence)
        to_recipient = self.carry_share_of(share, profits + carry + paying) - carry
        if paying < complete_pence:
            to_recipient = min(to_recipient, self.carry_share_of(percentage, paying))
        if not 0 <= to_recipient <= paying:
            raise InvariantBroken(f"catch-up of {paying} pence would pay the recipient {to_recipient}")
        self.pay(tier.recipient, None, "catch_up", to_recipient, lines)
        self.pay_investors_pro_rata_capital(tier.scope, paying - to_recipient, "catch_up", lines)
        return paying

    def carried_interest(self, tier: CarriedInterest, available_pence: int, lines: list[TierLine]) -> int:
        """Split all the cash ``carry_share`` to the recipient, exactly over the fund's life.

        After a catch-up (same recipient and scope) the recipient's target is its share of all
        profits, so it ends holding exactly X * (P + G + cash) to the penny. Without one, its
        target is its share of all cash that ever reached this tier. Either way the rounding of
        earlier distributions is made good now, and the penny residue goes where ``residue`` says.
        """
        if available_pence <= 0:
            return 0
        share = Fraction(tier.carry_share)
        if (tier.recipient, tier.scope) in self.caught_up_by:
            base = self.profits_to_investors(tier.scope) + self.recipient_carry(tier.recipient)
            held = self.recipient_carry(tier.recipient)
        else:
            kinds = ("carry", "clawback")
            held = self.recipient_carry(tier.recipient, kinds)
            base = self.profits_to_investors(tier.scope, kinds) + held
        to_recipient = min(available_pence, max(0, self.carry_share_of(share, base + available_pence) - held))
        self.pay(tier.recipient, None, "carry", to_recipient, lines)
        self.pay_investors_pro_rata_capital(tier.scope, available_pence - to_recipient, "carry", lines)
        return available_pence

    def run_tier(self, tier: Tier, available_pence: int, lines: list[TierLine]) -> int:
        """Run one tier; returns the pence it paid."""
        if isinstance(tier, ReturnOfCapital):
            positions = self.in_scope(tier.scope)
            return self.pay_due(positions, [self.unreturned(p) for p in positions], available_pence,
                                "return_of_capital", lines)
        if isinstance(tier, PreferredReturn) or (isinstance(tier, CappedReturn) and tier.accrual is not None):
            positions = self.in_scope(tier.scope)
            dues = [self.income_due(p, tier.accrual) for p in positions]
            return self.pay_due(positions, dues, available_pence, "preferred_return", lines)
        if isinstance(tier, CappedReturn):
            positions = self.in_scope(tier.scope)
            weights = [self.contributed(p) for p in positions]
            caps = allocate(tier.cap_amount_pence, weights) if sum(weights) else [0] * len(positions)
            dues = [
                max(0, cap - self.prior(p, "preferred_return") - self.now(p[0], p[1], "preferred_return"))
                for p, cap in zip(positions, caps)
            ]
            return self.pay_due(positions, dues, available_pence, "preferred_return", lines)
        if isinstance(tier, CatchUp):
            return self.catch_up(tier, available_pence, lines)
        if isinstance(tier, CarriedInterest):
            return self.carried_interest(tier, available_pence, lines)
        if isinstance(tier, Excess):
            self.pay(tier.recipient, None, "excess", available_pence, lines)
            return max(0, available_pence)
        raise InvariantBroken(f"unknown tier {tier!r}")


def _check_state(terms: WaterfallTerms, state: WaterfallState) -> None:
    known = {t.id for t in terms.tranches}
    seen: set[tuple[str, str]] = set()
    for position in state.positions:
        if position.tranche not in known:
            raise ValidationError(
                f"waterfall {terms.name}: investor {position.investor!r} holds unknown tranche "
                f"{position.tranche!r} (known: {', '.join(sorted(known))})",
                field="tranche",
            )
        key = (position.investor, position.tranche)
        if key in seen:
            raise ValidationError(f"waterfall {terms.name}: investor {position.investor!r} has two positions in "
                                  f"tranche {position.tranche!r}; merge them")
        seen.add(key)


def _exit_of(project: str, value: object, day: date | None) -> Exit:
    """A deal's exit from pence (on ``day``), an :class:`Exit`, or a ``(date, pence)`` pair."""
    if isinstance(value, Exit):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Exit(value[0], check_pence(value[1], f"proceeds of {project}"))
    pence = check_pence(value, f"proceeds of {project}")
    if not isinstance(day, date):
        raise ValidationError(f"proceeds of {project} have no exit date: give day, or an Exit(day, pence)",
                              field="day")
    if pence < 0:
        raise ValidationError(f"cannot distribute a negative amount ({pence} pence)", field="distribution_pence")
    return Exit(day, pence)


def run_waterfall(
    terms: WaterfallTerms,
    distribution_pence: int | Mapping[str, int | Exit | tuple[date, int]],
    day: date | None,
    state: WaterfallState,
) -> WaterfallResult:
    """Distribute ``distribution_pence`` on ``day`` through ``terms``, exactly to the penny.

    Whole fund: ``distribution_pence`` is an int and the tiers run once over all history at ``day``.
    Deal by deal: it maps project -> proceeds; the tiers run once per project over only that
    project's contributions and prior distributions. A deal's proceeds are pence (exiting on
    ``day``), or an :class:`Exit` / ``(date, pence)`` pair with the deal's own exit date, to which
    its accruals run; ``day`` may then be None (the result's day is the latest exit). Deals run
    in order of exit date, then project.
    """
    if terms.mode == "deal_by_deal":
        if not isinstance(distribution_pence, Mapping):
            raise ValidationError(
                f"waterfall {terms.name} is deal_by_deal: give the proceeds per project, not one amount",
                field="distribution_pence",
            )
        scopes = sorted(((_exit_of(project, value, day), project) for project, value in distribution_pence.items()),
                        key=lambda item: (item[0].day, item[1]))
        scopes = [(project, exit.day, exit.proceeds_pence) for exit, project in scopes]
    else:
        if isinstance(distribution_pence, Mapping):
            raise ValidationError(
                f"waterfall {terms.name} is whole_fund: give one amount, not proceeds per project",
                field="distribution_pence",
            )
        if not isinstance(day, date):
            raise ValidationError(f"waterfall {terms.name}: give the distribution date", field="day")
        scopes = [(None, day, check_pence(distribution_pence, "distribution_pence"))]
    for project, _, amount in scopes:
        if amount < 0:
            raise ValidationError(f"cannot distribute a negative amount ({amount} pence)", field="distribution_pence")
    _check_state(terms, state)

    tier_results: list[TierResult] = []
    undistributed_pence = 0
    for project, scope_day, cash_pence in scopes:
        book = _Book(terms, state, scope_day, project)
        remaining_pence = cash_pence
        for index, tier in enumerate(terms.tiers):
            lines: list[TierLine] = []
            paid = book.run_tier(tier, remaining_pence, lines) if remaining_pence > 0 else 0
            if paid != sum(line.amount_pence for line in lines) or paid > remaining_pence:
                raise InvariantBroken(f"tier {index} paid {paid} of {remaining_pence} pence but its lines disagree")
            tier_results.append(TierResult(index, tier.kind, project, remaining_pence, tuple(lines), scope_day))
            remaining_pence -= paid
        undistributed_pence += remaining_pence

    cash_total = sum(amount for _, _, amount in scopes)
    if day is None:
        day = max((scope_day for _, scope_day, _ in scopes), default=None)
        if day is None:
            raise ValidationError(f"waterfall {terms.name}: no deal to distribute and no date", field="day")
    totals: dict[_Key, list[int]] = {}
    for tier_result in tier_results:
        for line in tier_result.lines:
            bucket = totals.setdefault((line.party, line.tranche), [0, 0, 0])
            bucket[("return_of_capital", "income", "gains").index(line.category)] += line.amount_pence
    parties = tuple(
        PartyTotal(party, tranche, *amounts)
        for (party, tranche), amounts in sorted(totals.items(), key=lambda item: (item[0][1] is None, item[0]))
    )
    result = WaterfallResult(
        terms.name,
        terms.mode,
        day,
        cash_total,
        tuple(tier_results),
        parties,
        undistributed_pence,
        (
            f"{undistributed_pence} pence left undistributed: every tier is capped and there is no "
            "carried_interest or excess tier to take the rest"
            if undistributed_pence
            else None
        ),
    )
    # Conservation, checked on the way out: what went in is what came out, to the penny.
    if result.distributed_pence + result.undistributed_pence != cash_total:
        raise InvariantBroken(
            f"waterfall {terms.name} distributed {result.distributed_pence} + undistributed "
            f"{result.undistributed_pence} != cash {cash_total}"
        )
    if sum(p.total_pence for p in parties) != result.distributed_pence:
        raise InvariantBroken("party totals do not add up to the tier lines")
    return result


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrancheCapital:
    """One tranche's capital at risk, per investor, for :func:`allocate_loss`."""

    tranche: str
    rank: int  # 1 most senior; the highest rank absorbs losses first
    capital_pence: tuple[tuple[str, int], ...]  # (investor, capital) pairs

    @property
    def total_pence(self) -> int:
        return sum(amount for _, amount in self.capital_pence)


@dataclass(frozen=True, slots=True)
class LossLine:
    tranche: str
    investor: str
    absorbed_pence: int


@dataclass(frozen=True, slots=True)
class LossAllocation:
    loss_pence: int
    lines: tuple[LossLine, ...]
    unabsorbed_pence: int  # loss beyond all the capital given

    def absorbed_by_tranche(self, tranche: str) -> int:
        return sum(line.absorbed_pence for line in self.lines if line.tranche == tranche)


def allocate_loss(loss_pence: int, tranches: Sequence[TrancheCapital]) -> LossAllocation:
    """Allocate a write-down first loss first: the highest rank absorbs up to its capital, then
    the next; within a tranche pro rata to capital (largest remainder, so it conserves)."""
    check_pence(loss_pence, "loss_pence")
    if loss_pence < 0:
        raise ValidationError(f"loss_pence must not be negative, got {loss_pence}", field="loss_pence")
    ranks = [t.rank for t in tranches]
    if len(set(ranks)) != len(ranks):
        raise ValidationError(f"tranche ranks must differ, got {sorted(ranks)}", field="rank")
    for tranche in tranches:
        for investor, amount in tranche.capital_pence:
            if check_pence(amount, f"capital of {investor} in {tranche.tranche}") < 0:
                raise ValidationError(f"capital of {investor!r} in {tranche.tranche!r} is negative ({amount})")
    remaining_pence = loss_pence
    lines: list[LossLine] = []
    for tranche in sorted(tranches, key=lambda t: -t.rank):
        absorbing = min(remaining_pence, tranche.total_pence)
        if absorbing <= 0:
            continue
        weights = [amount for _, amount in tranche.capital_pence]
        for (investor, _), share in zip(tranche.capital_pence, allocate(absorbing, weights)):
            if share:
                lines.append(LossLine(tranche.tranche, investor, share))
        remaining_pence -= absorbing
    result = LossAllocation(loss_pence, tuple(lines), remaining_pence)
    if sum(line.absorbed_pence for line in lines) + remaining_pence != loss_pence:
        raise InvariantBroken("loss allocation does not conserve the loss")
    return result
