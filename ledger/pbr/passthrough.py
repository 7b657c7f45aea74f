"""Joint-prime contracts: the prime, its delivery partners' subcontract terms, and the pass-through.

A joint-prime outcomes contract (DESIGN.md section 5; Kirklees Better Outcomes Partnership is a
real one) is held by one **prime** (the fund's vehicle, or a lead provider) that receives the
outcome payments and passes money on to several **delivery partners**. Each participant in the
register belongs to one partner, or to none (the prime's own participants). Each partner's
subcontract terms are data in the contract file (``[[partners]]``, see docs/joint-prime.md):

* ``share``: a Decimal share of what the prime *received* for that partner's participants;
* ``fee_per_period``: a fee for service for each claim period passed through;
* ``fee_per_participant``: a one-off fee for each of the partner's participants, paid in the
  first pass-through in which that participant has an accepted outcome line;
* ``cap`` (across the whole contract) and ``cap_per_period``: the most the partner receives,
  share and fees together; when a cap bites, fees are kept first and the share is cut;
* ``rounding``: the named rounding mode of the share (default: the contract's).

The pass-through of one claim period (:func:`pass_through`), in stages:

1. the run's accepted lines are grouped by partner (``""`` = the prime's own participants);
2. the run's clawback is split over those groups pro rata to their net
   (:func:`ledger.money.allocate`, largest remainder, ties to the earlier group: partners in
   contract order, then the prime), so each group's *received* = its net less its clawback,
   and the groups' received add up to what the payers paid, to the penny;
3. each partner's share = ``round(received * share)`` once per partner and period with its
   named mode; fees from the terms; then the caps;
4. whatever is not passed on is kept by the prime: ``prime_retained_share_pence`` = received
   less the partners' shares (never negative), and ``prime_net_pence`` = that less the fees.

Everything is integer pence and exact Decimal; the result is deterministic and checked: no
partner is paid more share than was received for its participants, or more fees than its terms
agree, and the shares plus the prime's retained share equal what was received.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import pandas as pd

from ledger.errors import InvariantBroken
from ledger.money import ROUNDING_MODES, allocate, round_minor

if TYPE_CHECKING:  # pragma: no cover
    from ledger.pbr.contracts import _Reader

#: Who a prime may be.
PRIME_KINDS: tuple[str, ...] = ("fund_vehicle", "lead_provider")
#: The group of the prime's own participants (those in no partner) in a pass-through.
PRIME_GROUP = ""
#: Which cap cut a partner's amount.
CAP_TOTAL, CAP_PERIOD = "total", "period"

_PRIME_KEYS = {"id", "name", "kind"}
_PARTNER_KEYS = {
    "id", "name", "share", "fee_per_period", "fee_per_period_pence", "fee_per_participant",
    "fee_per_participant_pence", "cap", "cap_pence", "cap_per_period", "cap_per_period_pence", "rounding",
}


@dataclass(frozen=True, slots=True)
class Prime:
    """Who holds the outcomes contract and receives the outcome payments."""

    prime_id: str
    name: str
    kind: str = "fund_vehicle"


@dataclass(frozen=True, slots=True)
class PartnerTerms:
    """One delivery partner and its subcontract terms (amounts in pence, share a Decimal)."""

    partner_id: str
    name: str
    share: Decimal | None = None
    fee_per_period_pence: int | None = None
    fee_per_participant_pence: int | None = None
    #: most the partner receives under the whole contract (share and fees together).
    cap_pence: int | None = None
    #: most the partner receives in one claim period (share and fees together).
    cap_per_period_pence: int | None = None
    rounding: str = "half_up"

    @property
    def kind(self) -> str:
        """``share``, ``fee`` or ``mixed``: what the terms pay for."""
        has_share = self.share is not None and self.share > 0
        has_fee = bool(self.fee_per_period_pence) or bool(self.fee_per_participant_pence)
        return "mixed" if has_share and has_fee else "share" if has_share else "fee"

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id, "name": self.name, "kind": self.kind,
            "share": str(self.share) if self.share is not None else None,
            "fee_per_period_pence": self.fee_per_period_pence,
            "fee_per_participant_pence": self.fee_per_participant_pence,
            "cap_pence": self.cap_pence, "cap_per_period_pence": self.cap_per_period_pence,
            "rounding": self.rounding,
        }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Reading the terms from a contract mapping (every problem listed, with its field path)
# --------------------------------------------------------------------------------------------


def read_prime(r: "_Reader", data: Mapping[str, Any]) -> Prime | None:
    """``[prime]``: ``id``, ``name`` and ``kind`` (fund_vehicle, the default, or lead_provider)."""
    table = r.table(data, "prime", "prime")
    if table is None:
        return None
    r.unknown_keys(table, _PRIME_KEYS, "prime")
    prime_id = r.ident(table, "id", "prime.id")
    name = r.text(table, "name", "prime.name")
    kind = table.get("kind", "fund_vehicle")
    if kind not in PRIME_KINDS:
        r.problem("prime.kind", f"must be one of {', '.join(PRIME_KINDS)}, got {kind!r}")
        kind = "fund_vehicle"
    if prime_id and name:
        return Prime(prime_id, name, kind)
    return None


def read_partners(r: "_Reader", data: Mapping[str, Any], default_rounding: str, prime: Prime | None) -> tuple[PartnerTerms, ...]:
    """``[[partners]]``: each with an id, a name, and a share, fees or both; caps optional."""
    if "partners" not in data:
        return ()
    raw = data.get("partners")
    if not isinstance(raw, list):
        r.problem("partners", "must be a list of tables ([[partners]])")
        return ()
    partners: list[PartnerTerms] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        path = f"partners[{index}]"
        if not isinstance(item, Mapping):
            r.problem(path, "must be a table")
            continue
        r.unknown_keys(item, _PARTNER_KEYS, path)
        partner_id = r.ident(item, "id", f"{path}.id")
        name = r.text(item, "name", f"{path}.name")
        if partner_id in seen:
            r.problem(f"{path}.id", f"duplicate partner id {partner_id!r}")
        if partner_id and prime is not None and partner_id == prime.prime_id:
            r.problem(f"{path}.id", f"partner id {partner_id!r} is the prime's id; a partner is someone else")
        if partner_id:
            seen.add(partner_id)
        share = r.rate(item, "share", f"{path}.share")
        if share is not None and not (Decimal(0) <= share <= Decimal(1)):
            r.problem(f"{path}.share", f"must be between 0 and 1 (a share of what the prime received), got {share}")
            share = None
        fee_period = r.amount(item, "fee_per_period", f"{path}.fee_per_period")
        fee_participant = r.amount(item, "fee_per_participant", f"{path}.fee_per_participant")
        cap = r.amount(item, "cap", f"{path}.cap")
        cap_period = r.amount(item, "cap_per_period", f"{path}.cap_per_period")
        rounding = item.get("rounding", default_rounding)
        if not isinstance(rounding, str) or rounding not in ROUNDING_MODES:
            r.problem(f"{path}.rounding", f"unknown rounding mode {rounding!r} (known: {', '.join(ROUNDING_MODES)})")
            rounding = default_rounding
        if not ({"share", "fee_per_period", "fee_per_period_pence", "fee_per_participant",
                 "fee_per_participant_pence"} & set(item)):  # fmt: skip
            r.problem(path, "needs subcontract terms: a share, fee_per_period, fee_per_participant, or a mix")
        partners.append(PartnerTerms(partner_id or "", name or "", share, fee_period, fee_participant, cap,
                                     cap_period, rounding))  # fmt: skip
    return tuple(partners)


# --------------------------------------------------------------------------------------------
# The pass-through of one claim period
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerPrior:
    """What earlier pass-throughs of the contract gave one partner."""

    #: share and fees earned in earlier periods (counts against ``cap``).
    earned_pence: int = 0
    #: participants a per-participant fee was already due for.
    participants: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PartnerAmount:
    """One partner's figures for one claim period."""

    partner_id: str
    #: accepted lines of its participants, and how many participants they cover.
    lines: int
    participants: int
    #: participants counted for the per-participant fee in this period (first time seen).
    new_participants: int
    #: net of its participants' lines (what the payers owed for them).
    net_pence: int
    #: its part of the run's clawback.
    clawback_pence: int
    #: what the prime received for its participants (net less clawback).
    received_pence: int
    share_before_cap_pence: int
    fee_period_pence: int
    fee_participants_pence: int
    cap_reduction_pence: int
    #: ``""``, ``"period"`` or ``"total"``: the cap that cut the amount.
    cap_applied: str
    share_pence: int
    fees_pence: int

    @property
    def fees_before_cap_pence(self) -> int:
        return self.fee_period_pence + self.fee_participants_pence

    @property
    def total_pence(self) -> int:
        return self.share_pence + self.fees_pence

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id, "lines": self.lines, "participants": self.participants,
            "new_participants": self.new_participants, "net_pence": self.net_pence,
            "clawback_pence": self.clawback_pence, "received_pence": self.received_pence,
            "share_before_cap_pence": self.share_before_cap_pence, "fee_period_pence": self.fee_period_pence,
            "fee_participants_pence": self.fee_participants_pence,
            "fees_before_cap_pence": self.fees_before_cap_pence, "cap_reduction_pence": self.cap_reduction_pence,
            "cap_applied": self.cap_applied, "share_pence": self.share_pence, "fees_pence": self.fees_pence,
            "total_pence": self.total_pence,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PassThrough:
    period: str
    #: what the payers paid for the period (every group's net less the clawback).
    received_pence: int
    #: net and received for the prime's own participants (in no partner).
    prime_own_net_pence: int
    prime_own_received_pence: int
    partners: tuple[PartnerAmount, ...]

    @property
    def shares_pence(self) -> int:
        return sum(p.share_pence for p in self.partners)

    @property
    def fees_pence(self) -> int:
        return sum(p.fees_pence for p in self.partners)

    @property
    def partners_total_pence(self) -> int:
        return self.shares_pence + self.fees_pence

    @property
    def prime_retained_share_pence(self) -> int:
        """The part of what was received that is not passed on as a share (never negative)."""
        return self.received_pence - self.shares_pence

    @property
    def prime_net_pence(self) -> int:
        """What the prime keeps after shares and fees (negative when fees exceed its part)."""
        return self.received_pence - self.partners_total_pence

    def partner(self, partner_id: str) -> PartnerAmount:
        return next(p for p in self.partners if p.partner_id == partner_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "received_pence": self.received_pence,
            "prime_own_net_pence": self.prime_own_net_pence,
            "prime_own_received_pence": self.prime_own_received_pence,
            "shares_pence": self.shares_pence, "fees_pence": self.fees_pence,
            "partners_total_pence": self.partners_total_pence,
            "prime_retained_share_pence": self.prime_retained_share_pence, "prime_net_pence": self.prime_net_pence,
            "partners": [p.as_dict() for p in self.partners],
        }  # fmt: skip


LINE_COLUMNS = ("participant_id", "partner_id", "accepted", "net_pence")


def pass_through(
    lines: pd.DataFrame,
    terms: Sequence[PartnerTerms],
    *,
    period: str,
    clawback_pence: int = 0,
    prior: Mapping[str, PartnerPrior] | None = None,
) -> PassThrough:
    """Each partner's amount for one claim period, from the run's lines and the terms (pure).

    ``lines``: one row per claim line of the run with ``participant_id``, ``partner_id``
    (``""`` or missing for the prime's own participants), ``accepted`` and ``net_pence``;
    disputed lines must already be left out (the payers did not pay them).
    ``clawback_pence``: what the run's statement took back for earlier samples (>= 0).
    ``prior``: per partner, what earlier pass-throughs gave it.
    """
    missing = [c for c in LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise InvariantBroken(f"pass-through lines lack column(s) {', '.join(missing)}")
    if clawback_pence < 0:
        raise InvariantBroken(f"clawback must not be negative, got {clawback_pence}")
    prior = prior or {}
    known = {t.partner_id for t in terms}
    accepted = lines[lines["accepted"].astype(bool)]
    group = accepted["partner_id"].fillna(PRIME_GROUP).astype(str)
    unknown = sorted(set(group) - known - {PRIME_GROUP})
    if unknown:
        raise InvariantBroken(f"lines name partner(s) not in the contract: {', '.join(unknown)}")
    net = accepted["net_pence"].astype("int64")
    if (net < 0).any():
        raise InvariantBroken("a claim line has a negative net")
    net_by_group = net.groupby(group).sum()
    lines_by_group = group.value_counts()
    people_by_group = accepted.groupby(group)["participant_id"].agg(lambda s: frozenset(s.astype(str)))

    order = [t.partner_id for t in terms] + [PRIME_GROUP]
    nets = [int(net_by_group.get(g, 0)) for g in order]
    total_net = sum(nets)
    if clawback_pence > total_net:
        raise InvariantBroken(f"clawback {clawback_pence} is more than the run's net {total_net}")
    claws = allocate(clawback_pence, nets) if total_net else [0] * len(order)
    received = [n - c for n, c in zip(nets, claws)]

    amounts: list[PartnerAmount] = []
    for t, net_p, claw_p, received_p in zip(terms, nets, claws, received):
        before = prior.get(t.partner_id, PartnerPrior())
        people = people_by_group.get(t.partner_id, frozenset())
        new_people = people - before.participants
        share_before = round_minor(Decimal(received_p) * t.share, t.rounding) if t.share is not None else 0
        fee_period = t.fee_per_period_pence or 0
        fee_people = (t.fee_per_participant_pence or 0) * len(new_people)
        fees_before = fee_period + fee_people

        headrooms: list[tuple[int, str]] = []
        if t.cap_pence is not None:
            headrooms.append((max(t.cap_pence - before.earned_pence, 0), CAP_TOTAL))
        if t.cap_per_period_pence is not None:
            headrooms.append((t.cap_per_period_pence, CAP_PERIOD))
        fees, share, cap_applied = fees_before, share_before, ""
        if headrooms:
            # The smaller headroom binds; on a tie the contract-wide cap is named (listed first).
            headroom, which = min(headrooms, key=lambda h: h[0])
            if fees_before + share_before > headroom:
                fees = min(fees_before, headroom)  # fees are kept first
                share = min(share_before, headroom - fees)
                cap_applied = which
        amount = PartnerAmount(
            partner_id=t.partner_id, lines=int(lines_by_group.get(t.partner_id, 0)), participants=len(people),
            new_participants=len(new_people), net_pence=net_p, clawback_pence=claw_p, received_pence=received_p,
            share_before_cap_pence=share_before, fee_period_pence=fee_period, fee_participants_pence=fee_people,
            cap_reduction_pence=(share_before - share) + (fees_before - fees), cap_applied=cap_applied,
            share_pence=share, fees_pence=fees,
        )  # fmt: skip
        _check_partner(amount, t, before)
        amounts.append(amount)

    result = PassThrough(period, total_net - clawback_pence, nets[-1], received[-1], tuple(amounts))
    if sum(received) != result.received_pence or result.prime_retained_share_pence < 0:
        raise InvariantBroken(f"pass-through {period} does not conserve what was received")
    return result


def _check_partner(a: PartnerAmount, t: PartnerTerms, before: PartnerPrior) -> None:
    """Invariants of one partner's amount; a failure is a bug in this module."""
    problems = []
    if not 0 <= a.share_pence <= a.received_pence:
        problems.append(f"share {a.share_pence} outside 0..received {a.received_pence}")
    if not 0 <= a.fees_pence <= a.fees_before_cap_pence:
        problems.append(f"fees {a.fees_pence} outside 0..agreed {a.fees_before_cap_pence}")
    if t.cap_per_period_pence is not None and a.total_pence > t.cap_per_period_pence:
        problems.append(f"total {a.total_pence} above the period cap {t.cap_per_period_pence}")
    if t.cap_pence is not None and a.total_pence > max(t.cap_pence - before.earned_pence, 0):
        problems.append(f"total {a.total_pence} above what is left of the cap {t.cap_pence}")
    if a.share_before_cap_pence + a.fees_before_cap_pence - a.cap_reduction_pence != a.total_pence:
        problems.append("cap reduction does not reconcile")
    if problems:
        raise InvariantBroken(f"pass-through for partner {a.partner_id}: " + "; ".join(problems))
