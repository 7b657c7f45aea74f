"""Incubator calls: the call's rules, the checks of an application against them, scores and
tranches (pure; docs/calls.md).

A call is a fund's invitation to VCSE organisations to apply for a grant on a theme. Its
budget comes from named funding groups (source, tranche, restriction) and is held as a
reservation; its eligibility rules say which organisations (type, size, area) and which
theme; its criteria, with weights, are what assessors score. The functions here never touch
the database: the service (``models/calls_store.py``) loads the call, the cash position and
the reservations, and calls them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Mapping, Sequence

from ledger.errors import MoneyError, ValidationError
from ledger.funds import Restriction, check_id
from ledger.money import allocate, parse_amount, round_minor

#: An applicant's org-id (org-id.guide): a Charity Commission number or a Companies House number.
ORG_ID = re.compile(r"^GB-(CHC-[0-9]{6,8}|COH-[A-Z0-9]{8})$")
ORG_TYPES = ("charity", "cio", "cic", "company_limited_by_guarantee", "community_group", "social_enterprise", "cooperative")
ORG_SIZES = ("micro", "small", "medium", "large")  # NCVO bands: under 10k, 100k, 1m, over 1m income a year
DECISIONS = ("award", "decline")
NAME_MAX_CHARS = 200
TEXT_MAX_CHARS = 2000


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """Part of a call's budget: an amount of one funding group's money."""

    source: str
    amount_pence: int
    tranche: str | None = None
    restriction: str | None = None

    @property
    def group(self) -> tuple[str, str | None, str | None]:
        return (self.source, self.tranche, self.restriction)


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    name: str
    weight: int
    max_score: int = 5


@dataclass(frozen=True, slots=True)
class Milestone:
    """A payment tranche of every award: its share of the award, paid when the milestone is met."""

    name: str
    share_percent: int


@dataclass(frozen=True, slots=True)
class Call:
    id: str
    fund: str
    name: str
    theme: str
    opens_on: date
    closes_on: date
    budget: tuple[BudgetLine, ...]
    criteria: tuple[Criterion, ...]
    milestones: tuple[Milestone, ...] = (Milestone("grant agreement signed", 100),)
    org_types: tuple[str, ...] = ORG_TYPES
    org_sizes: tuple[str, ...] = ORG_SIZES
    areas: tuple[str, ...] = ()  # empty: any area
    max_award_pence: int | None = None
    currency: str = "GBP"

    @property
    def budget_pence(self) -> int:
        return sum(line.amount_pence for line in self.budget)

    def rules(self) -> dict:
        """The call's rules as plain values (stored with each version, hashed to tell versions apart)."""
        return {
            "name": self.name, "theme": self.theme, "opens_on": self.opens_on.isoformat(),
            "closes_on": self.closes_on.isoformat(), "currency": self.currency,
            "budget": [{"source": b.source, "tranche": b.tranche, "restriction": b.restriction,
                        "amount_pence": b.amount_pence} for b in self.budget],
            "criteria": [{"id": c.id, "name": c.name, "weight": c.weight, "max_score": c.max_score} for c in self.criteria],
            "milestones": [{"name": m.name, "share_percent": m.share_percent} for m in self.milestones],
            "org_types": list(self.org_types), "org_sizes": list(self.org_sizes), "areas": list(self.areas),
            "max_award_pence": self.max_award_pence,
        }  # fmt: skip

    @classmethod
    def from_rules(cls, call_id: str, fund: str, rules: Mapping) -> "Call":
        return cls(
            id=call_id, fund=fund, name=rules["name"], theme=rules["theme"],
            opens_on=date.fromisoformat(rules["opens_on"]), closes_on=date.fromisoformat(rules["closes_on"]),
            budget=tuple(BudgetLine(b["source"], b["amount_pence"], b["tranche"], b["restriction"]) for b in rules["budget"]),
            criteria=tuple(Criterion(**c) for c in rules["criteria"]),
            milestones=tuple(Milestone(**m) for m in rules["milestones"]),
            org_types=tuple(rules["org_types"]), org_sizes=tuple(rules["org_sizes"]), areas=tuple(rules["areas"]),
            max_award_pence=rules["max_award_pence"], currency=rules["currency"],
        )  # fmt: skip


def _text(value: object, what: str, limit: int = NAME_MAX_CHARS) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} is empty", field=what)
    if len(value) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters", field=what)
    return value.strip()


def _date(value: object, what: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"{what} must be a date YYYY-MM-DD, got {value!r}", field=what)


def _int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{what} must be a whole number from {low} to {high}, got {value!r}", field=what)
    return value


def _choices(value: object, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{what} must be a list of names", field=what)
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ValidationError(f"{what}: {', '.join(unknown)} not one of {', '.join(allowed)}", field=what)
    return tuple(value)


def parse_call(text: str, where: str = "call file") -> Call:
    """A call from its TOML file (docs/calls.md); every problem names the table and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{where}: not a readable TOML file: {exc}") from None
    head = data.get("call")
    if not isinstance(head, dict):
        raise ValidationError(f"{where}: needs a [call] table", field="call")
    known = {"call", "budget", "criteria", "milestones", "eligibility"}
    if set(data) - known:
        raise ValidationError(f"{where}: unknown table(s) {', '.join(sorted(set(data) - known))}")
    try:
        call_id = check_id(head.get("id"), "call.id")
        fund = check_id(head.get("fund"), "call.fund")
        currency = head.get("currency", "GBP")
        budget = []
        for i, line in enumerate(data.get("budget") or [], start=1):
            if not isinstance(line, dict):
                raise ValidationError(f"budget {i} must be a table", field="budget")
            amount = parse_amount(str(line.get("amount", "")), currency, f"budget {i}: amount")
            if amount <= 0:
                raise ValidationError(f"budget {i}: amount must be more than zero", field="amount")
            budget.append(BudgetLine(_text(line.get("source"), f"budget {i}: source", 64), amount,
                                     line.get("tranche") and check_id(line["tranche"], f"budget {i}: tranche"),
                                     line.get("restriction") and check_id(line["restriction"], f"budget {i}: restriction")))
        if not budget:
            raise ValidationError("a call needs at least one [[budget]] line", field="budget")
        if len({b.group for b in budget}) != len(budget):
            raise ValidationError("two [[budget]] lines name the same source, tranche and restriction", field="budget")
        criteria = []
        for i, c in enumerate(data.get("criteria") or [], start=1):
            criteria.append(Criterion(check_id(c.get("id"), f"criteria {i}: id"), _text(c.get("name"), f"criteria {i}: name"),
                                      _int(c.get("weight"), f"criteria {i}: weight", 1, 100),
                                      _int(c.get("max_score", 5), f"criteria {i}: max_score", 1, 100)))
        if not criteria:
            raise ValidationError("a call needs at least one [[criteria]] entry", field="criteria")
        if len({c.id for c in criteria}) != len(criteria):
            raise ValidationError("two [[criteria]] have the same id", field="criteria")
        milestones = tuple(Milestone(_text(m.get("name"), f"milestones {i}: name"),
                                     _int(m.get("share_percent"), f"milestones {i}: share_percent", 1, 100))
                           for i, m in enumerate(data.get("milestones") or [], start=1))  # fmt: skip
        if milestones and sum(m.share_percent for m in milestones) != 100:
            raise ValidationError("milestones' share_percent must add up to 100", field="milestones")
        rules = data.get("eligibility") or {}
        max_award = head.get("max_award")
        call = Call(
            id=call_id, fund=fund, name=_text(head.get("name"), "call.name"), theme=_text(head.get("theme"), "call.theme", 64),
            opens_on=_date(head.get("opens_on"), "call.opens_on"), closes_on=_date(head.get("closes_on"), "call.closes_on"),
            budget=tuple(budget), criteria=tuple(criteria),
            milestones=milestones or (Milestone("grant agreement signed", 100),),
            org_types=_choices(rules.get("org_types", list(ORG_TYPES)), ORG_TYPES, "eligibility.org_types"),
            org_sizes=_choices(rules.get("org_sizes", list(ORG_SIZES)), ORG_SIZES, "eligibility.org_sizes"),
            areas=tuple(_text(a, "eligibility.areas", 64) for a in rules.get("areas", [])),
            max_award_pence=None if max_award is None else parse_amount(str(max_award), currency, "call.max_award"),
            currency=currency,
        )  # fmt: skip
    except (ValidationError, MoneyError) as exc:
        raise ValidationError(f"{where}: {exc}", field=exc.field) from None
    if call.closes_on < call.opens_on:
        raise ValidationError(f"{where}: call.closes_on {call.closes_on} is before opens_on {call.opens_on}", field="closes_on")
    return call


def budget_problems(call: Call, restrictions: Mapping[str, Restriction],
                    available_pence: Mapping[tuple, int]) -> list[str]:
    """Why the call's budget cannot be reserved (empty when it can).

    ``available_pence`` per funding group: cash in the fund less what other calls already hold.
    Restricted money must be suitable: a restriction whose theme is the call's theme.
    """
    problems = []
    for line in call.budget:
        name = f"budget {line.source}/{line.tranche or '-'}/{line.restriction or '-'}"
        if line.restriction is not None:
            restriction = restrictions.get(line.restriction)
            if restriction is None:
                problems.append(f"{name}: unknown restriction {line.restriction!r} in fund {call.fund}")
                continue
            if restriction.theme != call.theme:
                problems.append(f"{name}: restriction {restriction.id} (theme {restriction.theme or '-'}) does not permit "
                                f"the call's theme {call.theme}")  # fmt: skip
                continue
        free = available_pence.get(line.group, 0)
        if line.amount_pence > free:
            problems.append(f"{name}: {line.amount_pence / 100:.2f} {call.currency} asked, "
                            f"{free / 100:.2f} {call.currency} available (cash less other calls' reservations)")
    return problems


@dataclass(frozen=True, slots=True)
class Application:
    reference: str
    org_id: str
    org_name: str
    org_type: str
    org_size: str
    area: str
    theme: str
    project: str
    outcomes: str
    amount_pence: int
    submitted_on: date


def check_org_id(org_id: object) -> str:
    if not isinstance(org_id, str) or not ORG_ID.match(org_id):
        raise ValidationError(f"org_id {org_id!r} is not an org-id: GB-CHC-<charity number> or "
                              "GB-COH-<8-character company number>", field="org_id")  # fmt: skip
    return org_id


def make_application(values: Mapping[str, object]) -> Application:
    """An application from its fields (strings from a CSV row or a form); raises on bad input."""
    amount = values.get("amount")
    amount_pence = parse_amount(str(amount or ""), "GBP", "amount")
    if amount_pence <= 0:
        raise ValidationError("amount must be more than zero", field="amount")
    return Application(
        reference=check_id(values.get("reference"), "reference"), org_id=check_org_id(values.get("org_id")),
        org_name=_text(values.get("org_name"), "org_name"), org_type=_text(values.get("org_type"), "org_type", 64),
        org_size=_text(values.get("org_size"), "org_size", 64), area=_text(values.get("area"), "area", 64),
        theme=_text(values.get("theme"), "theme", 64), project=_text(values.get("project"), "project"),
        outcomes=_text(values.get("outcomes"), "outcomes", TEXT_MAX_CHARS), amount_pence=amount_pence,
        submitted_on=_date(values.get("submitted_on"), "submitted_on"),
    )  # fmt: skip


def call_open_problem(call: Call, on: date, closed_on: date | None) -> str | None:
    """Why the call accepts nothing on ``on`` (None when it is open)."""
    if on < call.opens_on:
        return f"call {call.id} opens on {call.opens_on}; nothing is accepted before"
    if on > call.closes_on:
        return f"call {call.id} closed on {call.closes_on}; it accepts nothing"
    if closed_on is not None and on >= closed_on:
        return f"call {call.id} was closed on {closed_on}; it accepts nothing"
    return None


def eligibility_reasons(call: Call, app: Application) -> list[str]:
    """Why an application is not eligible for the call (empty: eligible), like claim lines' reasons."""
    reasons = []
    if app.org_type not in call.org_types:
        reasons.append(f"organisation type {app.org_type} is not eligible ({', '.join(call.org_types)})")
    if app.org_size not in call.org_sizes:
        reasons.append(f"organisation size {app.org_size} is not eligible ({', '.join(call.org_sizes)})")
    if call.areas and app.area not in call.areas:
        reasons.append(f"area {app.area} is outside the call's areas ({', '.join(call.areas)})")
    if app.theme != call.theme:
        reasons.append(f"theme {app.theme} is not the call's theme {call.theme}")
    if call.max_award_pence is not None and app.amount_pence > call.max_award_pence:
        reasons.append(f"amount {app.amount_pence / 100:.2f} is more than the call's largest award "
                       f"{call.max_award_pence / 100:.2f}")
    if app.amount_pence > call.budget_pence:
        reasons.append(f"amount {app.amount_pence / 100:.2f} is more than the call's budget {call.budget_pence / 100:.2f}")
    return reasons


def check_scores(call: Call, scores: Mapping[str, int]) -> None:
    """An assessor scores every criterion, each from 0 to its maximum."""
    ids = {c.id for c in call.criteria}
    unknown = sorted(set(scores) - ids)
    if unknown:
        raise ValidationError(f"unknown criteria {', '.join(unknown)} (the call's: {', '.join(sorted(ids))})", field="criterion")
    missing = sorted(ids - set(scores))
    if missing:
        raise ValidationError(f"score every criterion: missing {', '.join(missing)}", field="criterion")
    for c in call.criteria:
        _int(scores[c.id], f"score for {c.id}", 0, c.max_score)


def weighted_score(call: Call, scores: Mapping[str, int]) -> Fraction:
    """One assessor's score out of 100: each criterion's score over its maximum, weighted."""
    total_weight = sum(c.weight for c in call.criteria)
    return sum((Fraction(scores[c.id], c.max_score) * c.weight for c in call.criteria), Fraction(0)) * 100 / total_weight


def application_score(call: Call, by_assessor: Mapping[str, Mapping[str, int]]) -> Fraction | None:
    """The mean of the assessors' weighted scores; None when no one has scored yet."""
    if not by_assessor:
        return None
    return sum((weighted_score(call, s) for s in by_assessor.values()), Fraction(0)) / len(by_assessor)


def score_hundredths(score: Fraction | None) -> int | None:
    """A score for display, in hundredths of a point (rounded half up, explicitly)."""
    return None if score is None else round_minor(score * 100, "half_up")


def tranche_amounts(call: Call, award_pence: int) -> list[int]:
    """The award split over the call's milestones, pence conserved."""
    return allocate(award_pence, [m.share_percent for m in call.milestones])


def fund_award(call: Call, amount_pence: int, remaining_pence: Mapping[tuple, int]) -> BudgetLine:
    """The budget line an award is paid from: the first (in the file's order) with room for all of it."""
    for line in call.budget:
        if remaining_pence.get(line.group, 0) >= amount_pence:
            return BudgetLine(line.source, amount_pence, line.tranche, line.restriction)
    left = sum(remaining_pence.get(line.group, 0) for line in call.budget)
    raise ValidationError(f"call {call.id}: no budget line has {amount_pence / 100:.2f} {call.currency} left "
                          f"({left / 100:.2f} left in all)", field="amount")  # fmt: skip
