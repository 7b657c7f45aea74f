"""Fund terms for statements, and the capital-account lines they name (pure).

DESIGN.md section 6; format in ``docs/statements.md``. A terms file names the fund's waterfall
(``docs/waterfall-format.md``), how each capital-account line is allocated before the waterfall
values the positions (:data:`ALLOCATION_METHODS` per :data:`ALLOCATION_KEYS`), which distribution
kinds are recallable, and impact targets. :func:`fund_terms_from_mapping` is the one parser:
files and the stored terms both go through it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ledger.errors import ImportRejected, ValidationError
from ledger.money import parse_amount
from ledger.waterfall import WaterfallTerms, load_waterfall_toml

#: Capital account lines, in statement order (ILPA capital account layout). Signed from the
#: holder's point of view: positive increases the capital account.
LINES: tuple[str, ...] = (
    "contributions",
    "distributions_return_of_capital",
    "distributions_income",
    "distributions_gains",
    "management_fees",
    "fund_expenses",
    "delivery_costs",
    "grants_to_projects",
    "interest_income",
    "outcome_payments",
    "realised_gains_losses",
    "unrealised_gains_losses",
    "first_loss_protection",
    "carry_and_community_pool",
)
LINE_LABELS: Mapping[str, str] = {
    "contributions": "Contributions",
    "distributions_return_of_capital": "Distributions: return of capital",
    "distributions_income": "Distributions: income",
    "distributions_gains": "Distributions: gains",
    "management_fees": "Management fees",
    "fund_expenses": "Fund (partnership) expenses",
    "delivery_costs": "Delivery costs: service fees and partners' shares",
    "grants_to_projects": "Grants made to projects",
    "interest_income": "Interest income",
    "outcome_payments": "Outcome payments earned",
    "realised_gains_losses": "Realised gains (losses)",
    "unrealised_gains_losses": "Unrealised gains (losses), write-downs",
    "first_loss_protection": "First-loss protection: losses absorbed (-) or covered (+)",
    "carry_and_community_pool": "Accrued to the community pool / carried interest",
}
#: Lines the waterfall valuation moves between holders (docs/statements.md); each sums to zero
#: over the fund every quarter.
WATERFALL_LINES: tuple[str, ...] = ("first_loss_protection", "carry_and_community_pool")
#: Ledger accounts whose postings become each allocated line (sign: ledger debit positive, so the
#: holder's amount is minus the posting).
ALLOCATED_ACCOUNTS: Mapping[str, str] = {
    "management_fees": "management_fees",
    "fund_expenses": "fund_expenses",
    "service_fees": "delivery_costs",
    # Joint-prime pass-through (docs/joint-prime.md): what the prime pays its delivery partners
    # (shares of outcome payments and fees) is what their delivery cost the fund.
    "partner_outcome_share": "delivery_costs",
    "partner_fees": "delivery_costs",
    "project_grants": "grants_to_projects",
    "interest_income": "interest_income",
    "outcome_income": "outcome_payments",
    "realised_gains": "realised_gains_losses",
    "realised_losses": "realised_gains_losses",
    "valuation_gains": "unrealised_gains_losses",
    "write_downs": "unrealised_gains_losses",
}
CAPITAL_ACCOUNTS: tuple[str, ...] = ("contributed_capital", "grant_capital")
#: Accounts whose postings are losses (allocated by the ``losses`` method; gains by ``gains``).
LOSS_ACCOUNTS: tuple[str, ...] = ("write_downs", "realised_losses")
#: Allocation groups named in the terms file, and the lines each covers.
ALLOCATION_KEYS: Mapping[str, tuple[str, ...]] = {
    "income": ("interest_income", "outcome_payments"),
    "fees": ("management_fees",),
    "expenses": ("fund_expenses",),
    "delivery": ("delivery_costs",),
    "grants": ("grants_to_projects",),
    "gains": ("unrealised_gains_losses", "realised_gains_losses"),
    "losses": ("unrealised_gains_losses", "realised_gains_losses"),
}
ALLOCATION_METHODS: tuple[str, ...] = ("by_group", "by_project", "pro_rata_paid_in", "by_commitment")
DEFAULT_ALLOCATION: Mapping[str, str] = {
    "income": "by_project", "fees": "by_commitment", "expenses": "by_commitment", "delivery": "by_group",
    "grants": "by_group", "gains": "by_group", "losses": "by_group",
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
        elif method not in ALLOCATION_METHODS:
            problems.append(f"{where}.allocation.{key}: {method!r} is not one of {', '.join(ALLOCATION_METHODS)}")
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
