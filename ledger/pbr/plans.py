"""Planned versus actual outcome payments, with versioned forecasts (DESIGN.md section 5, item 15).

A contract's forecast of outcome payments is re-made from time to time; each **plan version**
has an id, the date it was made, and an amount per quarter. :func:`plan_vs_actual` reports as
known on a date ``as_of``:

* the plan is the latest version made on or before ``as_of`` (two versions made the same day
  are refused as ambiguous);
* actual payments count only for quarters that have started by ``as_of`` (so a report as at a
  past date is reproducible from the full history);
* every quarter from the first to the last one with a planned or actual figure is listed, gaps
  filled with zero, so cumulative columns read continuously;
* ``variance_pence = actual_pence - planned_pence`` (positive: more paid than planned) for
  quarters that have started; for future quarters it is 0 because nothing is due yet;
  ``cumulative_variance_pence`` is the running sum of ``variance_pence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, Sequence

import pandas as pd

from ledger.errors import FuelError, ImportRejected, MoneyError, ValidationError
from ledger.money import check_pence, parse_amount
from ledger.periods import Period, parse_date

PLAN_COLUMNS = (
    "quarter",
    "status",
    "planned_pence",
    "actual_pence",
    "variance_pence",
    "cumulative_planned_pence",
    "cumulative_actual_pence",
    "cumulative_variance_pence",
)
MONEY_COLUMNS = tuple(c for c in PLAN_COLUMNS if c.endswith("_pence"))


def _quarter(name: str, what: str) -> Period:
    period = Period.parse(name)
    if period.name != name:
        raise ValidationError(f"{what}: quarter {name!r} should be written {period.name!r}", field="quarter")
    return period


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """One forecast: ``amounts_pence`` is ``((quarter, pence), ...)`` in quarter order."""

    version_id: str
    made_on: date
    amounts_pence: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.version_id, str) or not self.version_id:
            raise ValidationError("a plan version needs an id", field="version_id")
        seen: set[str] = set()
        for quarter, amount in self.amounts_pence:
            _quarter(quarter, f"plan {self.version_id}")
            check_pence(amount, f"plan {self.version_id} {quarter}")
            if quarter in seen:
                raise ValidationError(f"plan {self.version_id} gives {quarter} twice", field="quarter")
            seen.add(quarter)

    @classmethod
    def of(cls, version_id: str, made_on: date, amounts_pence: Mapping[str, int]) -> "PlanVersion":
        ordered = sorted(amounts_pence.items(), key=lambda item: Period.parse(item[0]).start)
        return cls(version_id, made_on, tuple(ordered))


def select_plan(plans: Sequence[PlanVersion], as_of: date) -> PlanVersion:
    """The latest plan version made on or before ``as_of``."""
    ids = [p.version_id for p in plans]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"plan version ids repeat: {sorted(ids)}", field="version_id")
    candidates = [p for p in plans if p.made_on <= as_of]
    if not candidates:
        earliest = min((p.made_on for p in plans), default=None)
        raise ValidationError(
            f"no plan version was made on or before {as_of}"
            + (f" (the earliest was made on {earliest})" if earliest else " (there are none)"),
            field="as_of",
        )
    latest_day = max(p.made_on for p in candidates)
    latest = [p for p in candidates if p.made_on == latest_day]
    if len(latest) > 1:
        raise ValidationError(
            f"plan versions {', '.join(sorted(p.version_id for p in latest))} were all made on {latest_day}; "
            "which is current is ambiguous",
            field="made_on",
        )
    return latest[0]


def plan_vs_actual(plans: Sequence[PlanVersion], actuals_pence: Mapping[str, int], as_of: date) -> pd.DataFrame:
    """Per quarter: planned, actual, variance and cumulative figures (int64 pence).

    ``frame.attrs`` carries ``plan_version``, ``plan_made_on`` and ``as_of``.
    """
    plan = select_plan(plans, as_of)
    planned = dict(plan.amounts_pence)
    actual: dict[str, int] = {}
    for quarter, amount in actuals_pence.items():
        period = _quarter(quarter, "actuals")
        check_pence(amount, f"actual {quarter}")
        if period.start <= as_of:
            actual[quarter] = amount
    named = [Period.parse(q) for q in (*planned, *actual)]
    rows = []
    if named:
        period = min(named, key=lambda p: p.start)
        last = max(named, key=lambda p: p.start)
        while period.start <= last.start:
            if period.end <= as_of:
                status = "past"
            elif period.start <= as_of:
                status = "current"
            else:
                status = "future"
            plan_pence = planned.get(period.name, 0)
            actual_pence = actual.get(period.name, 0)
            variance = actual_pence - plan_pence if status != "future" else 0
            rows.append((period.name, status, plan_pence, actual_pence, variance))
            period = period.next()
    frame = pd.DataFrame(rows, columns=["quarter", "status", "planned_pence", "actual_pence", "variance_pence"])
    for column in ("planned_pence", "actual_pence", "variance_pence"):
        frame[column] = frame[column].astype("int64")
    frame["cumulative_planned_pence"] = frame["planned_pence"].cumsum().astype("int64")
    frame["cumulative_actual_pence"] = frame["actual_pence"].cumsum().astype("int64")
    frame["cumulative_variance_pence"] = frame["variance_pence"].cumsum().astype("int64")
    frame = frame[list(PLAN_COLUMNS)]
    frame.attrs.update(plan_version=plan.version_id, plan_made_on=plan.made_on, as_of=as_of)
    return frame


def plans_from_frame(frame: pd.DataFrame) -> tuple[tuple[PlanVersion, ...], dict[str, int]]:
    """Plan versions and actuals from rows ``type, plan_version, made_on, quarter, amount``.

    ``type`` is ``Planned`` or ``Actual`` (INDIGO's words); ``amount`` is major units as text
    (``"1234.50"``). Every bad row is reported at once.
    """
    problems: list[str] = []
    required = {"type", "plan_version", "made_on", "quarter", "amount"}
    missing = required - set(frame.columns)
    if missing:
        raise ImportRejected("plan rows lack columns", [f"missing column {c}" for c in sorted(missing)])
    plans: dict[str, dict[str, int]] = {}
    made: dict[str, date] = {}
    actuals: dict[str, int] = {}
    for position, row in enumerate(frame.astype("string").fillna("").itertuples(index=False), start=1):
        where = f"row {position}"
        kind, version, quarter = row.type.strip(), row.plan_version.strip(), row.quarter.strip()
        try:
            amount = parse_amount(row.amount, what="amount")
            _quarter(quarter, where)
        except (MoneyError, FuelError) as error:
            problems.append(f"{where}: {error.message}")
            continue
        if kind == "Actual":
            if quarter in actuals:
                problems.append(f"{where}: a second actual for {quarter}")
            actuals[quarter] = amount
        elif kind == "Planned":
            if not version:
                problems.append(f"{where}: a planned row needs plan_version")
                continue
            try:
                made_on = parse_date(row.made_on, "made_on")
            except ValidationError as error:
                problems.append(f"{where}: {error.message}")
                continue
            if made.setdefault(version, made_on) != made_on:
                problems.append(f"{where}: plan {version} made on {made_on}, earlier rows say {made[version]}")
            amounts = plans.setdefault(version, {})
            if quarter in amounts:
                problems.append(f"{where}: plan {version} gives {quarter} twice")
            amounts[quarter] = amount
        else:
            problems.append(f"{where}: type {kind!r} is neither Planned nor Actual")
    if problems:
        raise ImportRejected("plan rows rejected", problems)
    versions = tuple(PlanVersion.of(v, made[v], amounts) for v, amounts in plans.items())
    return versions, actuals
