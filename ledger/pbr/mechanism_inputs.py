"""Run a contract's ``[[mechanisms]]`` entry on one period's figures (pure).

The figures come from a small TOML file, or one table of an .xlsx sheet (``figures_from_rows``,
docs/formats.md), one shape per kind (docs/pbr.md):

* ``cohort_comparison``: ``[[cohorts]]`` with ``name``, ``intervention_size``,
  ``intervention_events``, ``comparison_size``, ``comparison_events``;
* ``baseline_reduction``: ``actual_units``;
* ``per_day``: ``[[spells]]`` with ``participant_id``, ``start`` and optional ``end``;
* ``tiered_bands``: ``improvement = "0.12"``;
* ``savings_share``: ``savings = "7000.00"`` (this period's savings).

What earlier periods paid (the cap headroom of ``baseline_reduction`` and ``per_day``, the
savings history of ``savings_share``) is passed in as the earlier results, so a mechanism is
cumulative over the contract just like the rate card caps.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

import pandas as pd

from ledger.errors import MoneyError, ValidationError
from ledger.money import parse_amount
from ledger.pbr.mechanisms import CohortObservation, mechanism_from_mapping
from ledger.periods import Period


def _plain(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Period):
        return value.name
    if isinstance(value, pd.DataFrame):
        return [{k: _plain(v) for k, v in row.items()} for row in value.to_dict("records")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _need(data: Mapping[str, Any], key: str, kind: str) -> Any:
    if key not in data:
        raise ValidationError(f"{kind} figures need {key!r}", field=key)
    return data[key]


def compute_mechanism(
    kind: str, params: Mapping[str, Any], data: Mapping[str, Any], period: Period,
    earlier: Sequence[Mapping[str, Any]] = (),
) -> tuple[int, dict]:
    """``(payment_pence, result as plain JSON-able values)`` for one period.

    ``earlier``: results this returned for earlier periods of the same mechanism, oldest first.
    """
    mechanism = mechanism_from_mapping({"kind": kind, **params}, "mechanism")
    if kind == "cohort_comparison":
        cohorts = [CohortObservation(str(c.get("name", i)), c.get("intervention_size"), c.get("intervention_events"),
                                     c.get("comparison_size"), c.get("comparison_events"))
                   for i, c in enumerate(_need(data, "cohorts", kind))]  # fmt: skip
        result = mechanism.compute(cohorts)
    elif kind == "baseline_reduction":
        paid = sum(int(r["payment_pence"]) for r in earlier)
        result = mechanism.compute(_need(data, "actual_units", kind), paid_to_date_pence=paid)
    elif kind == "per_day":
        spells = pd.DataFrame(list(_need(data, "spells", kind)))
        for column in ("start", "end"):
            if column not in spells.columns:
                spells[column] = None
            spells[column] = pd.to_datetime(spells[column].astype("string"), format="%Y-%m-%d", errors="raise")
        paid: dict[str, int] = {}
        for r in earlier:
            for row in r.get("by_participant", []):
                paid[str(row["participant_id"])] = paid.get(str(row["participant_id"]), 0) + int(row["payment_pence"])
        result = mechanism.compute(spells, period, paid_to_date_pence=paid)
    elif kind == "tiered_bands":
        improvement = _need(data, "improvement", kind)
        if not isinstance(improvement, str):
            raise ValidationError('tiered_bands figures: improvement must be text like "0.12"', field="improvement")
        result = mechanism.compute(Decimal(improvement))
    elif kind == "savings_share":
        try:
            savings = parse_amount(str(_need(data, "savings", kind)), what="savings")
        except MoneyError as exc:
            raise ValidationError(f"savings_share figures: {exc.message}", field="savings") from None
        history = [int(r["savings_pence"]) for r in earlier] + [savings]
        full = mechanism.compute(history)
        last = full.periods[-1]
        out = _plain(last) | {"repay_target_pence": full.repay_target_pence, "savings_pence": savings,
                              "switch_period": full.switch_period}  # fmt: skip
        return last.payment_pence, out
    else:  # pragma: no cover - the registry knows every kind
        raise ValidationError(f"mechanism kind {kind!r} has no figures reader", field="kind")
    return int(result.payment_pence), _plain(result)


#: a workbook's figures: the columns of its one table, per kind (a list kind has a row per item)
SHEET_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "cohort_comparison": ("name", "intervention_size", "intervention_events", "comparison_size", "comparison_events"),
    "per_day": ("participant_id", "start", "end"),
    "baseline_reduction": ("actual_units",),
    "tiered_bands": ("improvement",),
    "savings_share": ("savings",),
}
_LISTS = {"cohort_comparison": "cohorts", "per_day": "spells"}
_INTEGERS = {"intervention_size", "intervention_events", "comparison_size", "comparison_events", "actual_units"}


def figures_from_rows(kind: str, rows: Sequence[Mapping[str, str]], source: str) -> dict[str, Any]:
    """The figures of a sheet read as text rows (``row_number`` included), in the TOML shape
    ``compute_mechanism`` takes; every problem at once, naming row and column."""
    columns = SHEET_COLUMNS.get(kind)
    if columns is None:  # pragma: no cover - the registry knows every kind
        raise ValidationError(f"mechanism kind {kind!r} has no figures reader", field="kind")
    problems: list[str] = []
    present = set(rows[0]) - {"row_number"} if rows else set()
    unknown = sorted(present - set(columns))
    missing = [c for c in columns if c not in present and c != "end"]
    if unknown or missing:
        raise ValidationError(f"{source}: {kind} figures need the columns {', '.join(columns)}"
                              + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                              + (f"; missing: {', '.join(missing)}" if missing else ""), field="columns")
    items: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {}
        for column in columns:
            value = str(row.get(column, "")).strip()
            if value == "" and column == "end":
                continue
            if value == "":
                problems.append(f"row {row['row_number']}: {column}: blank")
            elif column in _INTEGERS:
                if not value.isdigit():
                    problems.append(f"row {row['row_number']}: {column}: must be a whole number, got {value!r}")
                else:
                    item[column] = int(value)
            else:
                item[column] = value
        items.append(item)
    if kind not in _LISTS and len(rows) != 1:
        problems.append(f"{kind} figures are one row under the header, got {len(rows)}")
    if problems:
        raise ValidationError(f"{source}: {'; '.join(problems[:20])}", field=columns[0])
    return {_LISTS[kind]: items} if kind in _LISTS else items[0]
