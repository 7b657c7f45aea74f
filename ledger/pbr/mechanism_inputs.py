"""Run a contract's ``[[mechanisms]]`` entry on one period's figures (pure).

The figures come from a small TOML file, or one table of an .xlsx sheet (``figures_from_rows``,
docs/formats.md), one shape per kind (docs/pbr.md):

* ``cohort_comparison``: ``[[cohorts]]`` with ``name``, ``intervention_size``,
  ``intervention_events``, ``comparison_size``, ``comparison_events``, and ``final = true``
  in the period of the final test over all cohorts;
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
from ledger.pbr import mechanism_claims
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
    The result also carries ``parts`` (the payments billed as claim lines), ``inputs`` and
    ``formula`` (the council statement's rows), see :mod:`ledger.pbr.mechanism_claims`.
    """
    payment, out = _compute(kind, params, data, period, earlier)
    out["parts"] = [[label, pence] for label, pence in mechanism_claims.parts(kind, out)]
    out["inputs"] = mechanism_claims.input_rows(kind, params, data, out, earlier)
    out["formula"] = mechanism_claims.formula_rows(kind, out)
    if sum(p for _, p in out["parts"]) != payment:  # pragma: no cover - a broken rule, not bad input
        raise ValidationError(f"{kind}: parts do not add up to the payment", field="kind")
    return payment, out


def _compute(kind: str, params: Mapping[str, Any], data: Mapping[str, Any], period: Period,
             earlier: Sequence[Mapping[str, Any]]) -> tuple[int, dict]:
    mechanism = mechanism_from_mapping({"kind": kind, **params}, "mechanism")
    if kind == "cohort_comparison":
        return _cohorts(mechanism, data, earlier)
    elif kind == "baseline_reduction":
        paid = sum(int(r["payment_pence"]) for r in earlier)
        result = mechanism.compute(_need(data, "actual_units", kind), paid_to_date_pence=paid)
    elif kind == "per_day":
        spells = pd.DataFrame(list(_need(data, "spells", kind)))
        for column in ("start", "end"):
            if column not in spells.columns:
                spells[column] = None
            try:
                spells[column] = pd.to_datetime(spells[column].astype("string"), format="%Y-%m-%d", errors="raise")
            except (ValueError, TypeError):
                raise ValidationError(f"per_day figures: every spell's {column} must be a date YYYY-MM-DD",
                                      field=column) from None
        if "participant_id" not in spells.columns or spells["participant_id"].isna().any():
            raise ValidationError("per_day figures: every spell needs a participant_id", field="participant_id")
        paid: dict[str, int] = {}
        for r in earlier:
            for row in r.get("by_participant", []):
                paid[str(row["participant_id"])] = paid.get(str(row["participant_id"]), 0) + int(row["payment_pence"])
        result = mechanism.compute(spells, period, paid_to_date_pence=paid)
    elif kind == "tiered_bands":
        improvement = _need(data, "improvement", kind)
        if not isinstance(improvement, str):
            raise ValidationError('tiered_bands figures: improvement must be text like "0.12"', field="improvement")
        try:
            value = Decimal(improvement)
        except ArithmeticError:
            raise ValidationError(f"tiered_bands figures: improvement {improvement!r} is not a number",
                                  field="improvement") from None
        if not value.is_finite():
            raise ValidationError(f"tiered_bands figures: improvement {improvement!r} is not a number",
                                  field="improvement")
        result = mechanism.compute(value)
        return int(result.payment_pence), _plain(result) | {"bands": _plain(list(mechanism.bands))}
    elif kind == "savings_share":
        try:
            savings = parse_amount(str(_need(data, "savings", kind)), what="savings")
        except MoneyError as exc:
            raise ValidationError(f"savings_share figures: {exc.message}", field="savings") from None
        before = [int(r["savings_pence"]) for r in earlier]
        full = mechanism.compute(before + [savings])
        last = full.periods[-1]
        out = _plain(last) | {"repay_target_pence": full.repay_target_pence, "savings_pence": savings,
                              "switch_period": full.switch_period, "history_pence": before,
                              "share_until_repaid": str(mechanism.share_until_repaid),
                              "share_after_repaid": str(mechanism.share_after_repaid),
                              "rounding": mechanism.rounding}  # fmt: skip
        return last.payment_pence, out
    else:  # pragma: no cover - the registry knows every kind
        raise ValidationError(f"mechanism kind {kind!r} has no figures reader", field="kind")
    return int(result.payment_pence), _plain(result)


def _cohorts(mechanism: Any, data: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]]) -> tuple[int, dict]:
    """Peterborough's rule over periods: each cohort is tested once, at the cohort threshold, in
    the period its figures are given (paid early, never clawed back); the period marked
    ``final = true`` tests all cohorts together at the overall threshold and pays only what the
    cohort payments did not (``max(overall - cohort payments, 0)``). The overall threshold is
    applied in the final period only, so it never pays a single early cohort."""
    kind = "cohort_comparison"
    final = data.get("final", False)
    if not isinstance(final, bool):
        raise ValidationError("cohort_comparison figures: final must be true or false", field="final")
    if any(r.get("final") for r in earlier):
        raise ValidationError("cohort_comparison: the final test over all cohorts was already paid; no later "
                              "period can be billed", field="final")
    raw = _need(data, "cohorts", kind)
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ValidationError("cohort_comparison figures need at least one cohort", field="cohorts")
    if not all(isinstance(c, Mapping) for c in raw):
        raise ValidationError("cohort_comparison figures: each cohort is a table like { name = \"c1\", "
                              "intervention_size = 1000, ... }", field="cohorts")
    names = [str(c.get("name", i)) for i, c in enumerate(raw)]
    if len(set(names)) != len(names):
        raise ValidationError("cohort_comparison figures: cohort names must differ", field="name")
    if any(len(n) > 64 or not n.strip() for n in names):
        raise ValidationError("cohort_comparison figures: a cohort name is 1 to 64 characters", field="name")
    paid_earlier: dict[str, int] = {}
    for r in earlier:
        paid_earlier.update({str(k): int(v) for k, v in r.get("cohort_paid", {}).items()})
    cohorts = [CohortObservation(name, c.get("intervention_size"), c.get("intervention_events"),
                                 c.get("comparison_size"), c.get("comparison_events"))
               for name, c in zip(names, raw)]  # fmt: skip
    if final:
        missing = sorted(set(paid_earlier) - set(names))
        if missing:
            raise ValidationError(f"cohort_comparison figures: the final test covers every cohort; missing "
                                  f"{', '.join(missing)}", field="cohorts")
    else:
        again = sorted(set(paid_earlier) & set(names))
        if again:
            raise ValidationError(f"cohort_comparison figures: cohort {', '.join(again)} was tested in an earlier "
                                  "period; a cohort is tested once (its figures come back in the final test)",
                                  field="cohorts")
    result = mechanism.compute(cohorts)
    tested = [o for o in result.cohorts if o.name not in paid_earlier]
    cohort_paid = {o.name: o.payment_pence for o in tested}
    cohort_payments = sum(paid_earlier.values()) + sum(cohort_paid.values())
    final_payment = max(result.overall_payment_pence - cohort_payments, 0) if final else 0
    payment = sum(cohort_paid.values()) + final_payment
    out = {
        "cohorts": _plain(list(result.cohorts)), "tested": _plain(tested), "final": final,
        "price_per_event_pence": mechanism.price_per_event_pence, "rounding": mechanism.rounding,
        "cohort_threshold": str(mechanism.cohort_threshold), "overall_threshold": str(mechanism.overall_threshold),
        "overall_improvement": _plain(result.overall_improvement) if final else None,
        "overall_events_avoided": _plain(result.overall_events_avoided) if final else None,
        "overall_payment_pence": result.overall_payment_pence if final else None,
        "cohort_payments_pence": cohort_payments, "final_payment_pence": final_payment if final else None,
        "paid_earlier": paid_earlier, "cohort_paid": cohort_paid, "payment_pence": payment,
    }  # fmt: skip
    return payment, out


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
