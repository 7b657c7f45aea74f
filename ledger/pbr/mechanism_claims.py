"""A mechanism's result as claim lines, and the evidence a council recomputes it from (pure).

A comparison mechanism's result for a period is billed like rate-card outcomes: each payment of
the result (a *part*) becomes one claim line of the next claim run, with outcome id
``mechanism:<index>:<kind>``, no participant, achieved on the period's last day and the part's
label as its evidence reference. The line's price is the part's payment; the run then applies
the contract cap (shared with the rate-card lines) and the payer split and payer caps exactly as
for any line. Participant and per-outcome caps belong to the rate card and do not apply (a
mechanism's own caps are in its formula).

Parts per kind:

* ``baseline_reduction``: one, ``baseline reduction``;
* ``per_day``: one per participant, ``participant P001``;
* ``tiered_bands``: one, ``band N`` (or ``below the lowest band``);
* ``savings_share``: one, ``savings share``;
* ``cohort_comparison``: one per cohort tested this period, ``cohort c1: own test``, and in
  the final period ``final test over all cohorts`` (what the earlier cohort payments did not
  pay).

For the council statement, :func:`input_rows` lists the figures (from the figures file, the
contract, and brought forward from earlier periods) and :func:`formula_rows` the formula step by
step; :func:`figures_from_input_rows` turns the input rows back into figures, so
``fuel claims verify`` recomputes the payment from the statement and the contract alone.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ledger.errors import ValidationError
from ledger.money import format_amount

PREFIX = "mechanism:"
INPUT_COLUMNS = ("mechanism", "period", "item", "field", "value", "source")
FORMULA_COLUMNS = ("mechanism", "period", "step", "formula", "value")
#: where an input figure comes from
FROM_FILE, FROM_CONTRACT, BROUGHT_FORWARD = "figures file", "contract", "brought forward"


def outcome_id_for(index: int, kind: str) -> str:
    return f"{PREFIX}{index}:{kind}"


def parse_outcome_id(outcome_id: str) -> tuple[int, str] | None:
    """``(index, kind)`` of a mechanism line's outcome id; ``None`` for a rate-card outcome (a
    contract's outcome ids cannot contain ``:``)."""
    if not str(outcome_id).startswith(PREFIX):
        return None
    index, _, kind = str(outcome_id)[len(PREFIX):].partition(":")
    if not index.isdigit() or not kind:
        return None
    return int(index), kind


def is_mechanism(outcome_id: object) -> bool:
    return parse_outcome_id(str(outcome_id)) is not None


# -------------------------------------------------------------------------------- parts


def parts(kind: str, result: Mapping[str, Any]) -> list[tuple[str, int]]:
    """The payments of one plain result (``compute_mechanism``'s), each with its label."""
    if kind == "baseline_reduction":
        return [("baseline reduction", int(result["payment_pence"]))]
    if kind == "per_day":
        return [(f"participant {r['participant_id']}", int(r["payment_pence"])) for r in result["by_participant"]]
    if kind == "tiered_bands":
        index = result["band_index"]
        return [(f"band {index + 1}" if index is not None else "below the lowest band", int(result["payment_pence"]))]
    if kind == "savings_share":
        return [("savings share", int(result["payment_pence"]))]
    if kind == "cohort_comparison":
        out = [(f"cohort {c['name']}: own test", int(c["payment_pence"])) for c in result["tested"]]
        if result["final"]:
            out.append(("final test over all cohorts", int(result["final_payment_pence"])))
        return out
    raise ValidationError(f"mechanism kind {kind!r} cannot be billed", field="kind")  # pragma: no cover


# -------------------------------------------------------------------------------- inputs


def _row(item: str, field: str, value: Any, source: str) -> dict[str, Any]:
    return {"item": item, "field": field, "value": "" if value is None else value, "source": source}


def input_rows(kind: str, params: Mapping[str, Any], figures: Mapping[str, Any], result: Mapping[str, Any],
               earlier: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every figure the payment depends on, in the order a council reads them."""
    rows: list[dict[str, Any]] = []
    if kind == "baseline_reduction":
        rows += [_row("", "baseline_units", result["baseline_units"], FROM_CONTRACT),
                 _row("", "price_per_unit_pence", result["price_per_unit_pence"], FROM_CONTRACT),
                 _row("", "cap_pence", result["cap_pence"], FROM_CONTRACT),
                 _row("", "actual_units", result["actual_units"], FROM_FILE),
                 _row("", "paid_to_date_pence", result["paid_to_date_pence"], BROUGHT_FORWARD)]
    elif kind == "per_day":
        rows += [_row("", "price_per_day_pence", result["price_per_day_pence"], FROM_CONTRACT),
                 _row("", "participant_cap_pence", result["participant_cap_pence"], FROM_CONTRACT)]
        for n, spell in enumerate(figures["spells"], start=1):
            for field in ("participant_id", "start", "end"):
                rows.append(_row(f"spell {n}", field, str(spell.get(field) or ""), FROM_FILE))
        for r in result["by_participant"]:
            if int(r["paid_to_date_pence"]):
                rows.append(_row(f"participant {r['participant_id']}", "paid_to_date_pence",
                                 int(r["paid_to_date_pence"]), BROUGHT_FORWARD))
    elif kind == "tiered_bands":
        for n, band in enumerate(result["bands"], start=1):
            rows += [_row(f"band {n}", "from", band["from_improvement"], FROM_CONTRACT),
                     _row(f"band {n}", "payment_pence", band["payment_pence"], FROM_CONTRACT)]
        rows.append(_row("", "improvement", str(figures["improvement"]), FROM_FILE))
    elif kind == "savings_share":
        rows += [_row("", "share_until_repaid", result["share_until_repaid"], FROM_CONTRACT),
                 _row("", "share_after_repaid", result["share_after_repaid"], FROM_CONTRACT),
                 _row("", "repay_target_pence", result["repay_target_pence"], FROM_CONTRACT),
                 _row("", "rounding", result["rounding"], FROM_CONTRACT)]
        for n, savings in enumerate(result["history_pence"], start=1):
            rows.append(_row(f"earlier period {n}", "savings_pence", savings, BROUGHT_FORWARD))
        rows.append(_row("", "savings_pence", result["savings_pence"], FROM_FILE))
    elif kind == "cohort_comparison":
        rows += [_row("", "price_per_event_pence", result["price_per_event_pence"], FROM_CONTRACT),
                 _row("", "cohort_threshold", result["cohort_threshold"], FROM_CONTRACT),
                 _row("", "overall_threshold", result["overall_threshold"], FROM_CONTRACT),
                 _row("", "rounding", result["rounding"], FROM_CONTRACT),
                 _row("", "final", "yes" if result["final"] else "no", FROM_FILE)]
        for cohort in figures["cohorts"]:
            for field in ("intervention_size", "intervention_events", "comparison_size", "comparison_events"):
                rows.append(_row(f"cohort {cohort['name']}", field, int(cohort[field]), FROM_FILE))
        for name, paid in sorted(result["paid_earlier"].items()):
            rows.append(_row(f"cohort {name}", "paid_earlier_pence", int(paid), BROUGHT_FORWARD))
    return rows


def figures_from_input_rows(kind: str, rows: Sequence[Mapping[str, str]]) -> tuple[dict[str, Any], list[dict]]:
    """``(figures, earlier)`` for ``compute_mechanism`` from a statement's input rows (text
    cells). Raises :class:`ValidationError` naming the figure that cannot be read."""
    mine = [r for r in rows if r.get("source") in (FROM_FILE, BROUGHT_FORWARD)]

    def number(r: Mapping[str, str]) -> int:
        text = str(r.get("value", "")).strip()
        if not text.lstrip("-").isdigit():
            raise ValidationError(f"{r.get('item') or kind} {r.get('field')}: {text!r} is not a whole number",
                                  field=str(r.get("field")))
        return int(text)

    def one(field: str) -> Mapping[str, str]:
        found = [r for r in mine if r.get("item", "") == "" and r.get("field") == field]
        if len(found) != 1:
            raise ValidationError(f"{kind}: the inputs need one {field!r} figure", field=field)
        return found[0]

    if kind == "baseline_reduction":
        paid = number(one("paid_to_date_pence"))
        return {"actual_units": number(one("actual_units"))}, ([{"payment_pence": paid}] if paid else [])
    if kind == "per_day":
        spells: dict[str, dict[str, str]] = {}
        paid: list[dict] = []
        for r in mine:
            if r.get("source") == FROM_FILE and str(r.get("item", "")).startswith("spell "):
                value = str(r.get("value", "")).strip()
                if value or r.get("field") != "end":
                    spells.setdefault(r["item"], {})[r["field"]] = value
            elif r.get("field") == "paid_to_date_pence":
                paid.append({"participant_id": str(r["item"]).removeprefix("participant "),
                             "payment_pence": number(r)})
        return {"spells": list(spells.values())}, ([{"by_participant": paid}] if paid else [])
    if kind == "tiered_bands":
        return {"improvement": str(one("improvement").get("value", "")).strip()}, []
    if kind == "savings_share":
        earlier = [{"savings_pence": number(r)} for r in mine if str(r.get("item", "")).startswith("earlier period ")]
        return {"savings": format_amount(number(one("savings_pence")))}, earlier
    if kind == "cohort_comparison":
        cohorts: dict[str, dict[str, Any]] = {}
        paid_earlier: dict[str, int] = {}
        for r in mine:
            name = str(r.get("item", "")).removeprefix("cohort ")
            if not str(r.get("item", "")).startswith("cohort "):
                continue
            if r.get("field") == "paid_earlier_pence":
                paid_earlier[name] = number(r)
            else:
                cohorts.setdefault(name, {"name": name})[str(r["field"])] = number(r)
        final = str(one("final").get("value", "")).strip() == "yes"
        return ({"cohorts": list(cohorts.values()), "final": final},
                [{"cohort_paid": paid_earlier, "final": False}] if paid_earlier else [])
    raise ValidationError(f"mechanism kind {kind!r} cannot be billed", field="kind")  # pragma: no cover


# -------------------------------------------------------------------------------- formula


def _f(step: str, formula: str, value: Any) -> dict[str, Any]:
    return {"step": step, "formula": formula, "value": "" if value is None else value}


def formula_rows(kind: str, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The formula applied, one step a row, each with the value it gives."""
    r = result
    if kind == "baseline_reduction":
        rows = [_f("units_saved", f"max(baseline_units {r['baseline_units']} - actual_units {r['actual_units']}, 0)",
                   r["units_saved"]),
                _f("gross_pence", f"units_saved {r['units_saved']} x price_per_unit_pence {r['price_per_unit_pence']}",
                   r["gross_pence"])]
        if r["cap_pence"] is not None:
            rows.append(_f("cap_headroom_pence", f"max(cap_pence {r['cap_pence']} - paid_to_date_pence "
                                                 f"{r['paid_to_date_pence']}, 0)", r["cap_headroom_pence"]))
            rows.append(_f("payment_pence", f"min(gross_pence {r['gross_pence']}, cap_headroom_pence "
                                            f"{r['cap_headroom_pence']})", r["payment_pence"]))
        else:
            rows.append(_f("payment_pence", "gross_pence (no cap)", r["payment_pence"]))
        return rows
    if kind == "per_day":
        rows = []
        for p in r["by_participant"]:
            who = p["participant_id"]
            rows.append(_f(f"days {who}", f"days of {who}'s spells in [start, end), clipped to {r['period']}, "
                                          "overlaps merged", p["days"]))
            rows.append(_f(f"gross_pence {who}", f"days {p['days']} x price_per_day_pence {r['price_per_day_pence']}",
                           p["gross_pence"]))
            if r["participant_cap_pence"] is not None:
                rows.append(_f(f"payment_pence {who}", f"min(gross_pence {p['gross_pence']}, max(participant_cap_pence "
                                                       f"{r['participant_cap_pence']} - paid_to_date_pence "
                                                       f"{p['paid_to_date_pence']}, 0))", p["payment_pence"]))
            else:
                rows.append(_f(f"payment_pence {who}", "gross_pence (no cap)", p["payment_pence"]))
        rows.append(_f("payment_pence", "sum of the participants' payments", r["payment_pence"]))
        return rows
    if kind == "tiered_bands":
        index = r["band_index"]
        band = (f"band {index + 1}: from {r['band_from']} (inclusive) to {r['band_to'] or 'open'} (exclusive)"
                if index is not None else f"below the lowest band's edge {r['band_to']}")
        return [_f("improvement", "as measured (exact fraction)", r["improvement"]),
                _f("band", band, "" if index is None else index + 1),
                _f("payment_pence", "the band's payment" if index is not None else "nothing below the lowest band",
                   r["payment_pence"])]
    if kind == "savings_share":
        paid_before = int(r["paid_to_date_pence"]) - int(r["payment_pence"])
        return [_f("paid_before_pence", "payments of the earlier periods (recomputed from their savings)", paid_before),
                _f("savings_before_switch", f"part of savings {r['savings_pence']} paid at share_until_repaid until "
                                            f"repay_target_pence {r['repay_target_pence']} is reached",
                   r["savings_before_switch"]),
                _f("savings_after_switch", "the rest of the savings", r["savings_after_switch"]),
                _f("payment_pence", f"round({r['share_until_repaid']} x savings_before_switch + "
                                    f"{r['share_after_repaid']} x savings_after_switch, {r['rounding']}); once the "
                                    "target is crossed within the period, the remaining target exactly plus the "
                                    "rounded rest", r["payment_pence"]),
                _f("retained_pence", "savings - payment (the payer keeps)", r["retained_pence"])]
    if kind == "cohort_comparison":
        rows = []
        for c in r["cohorts"]:
            name = c["name"]
            rows += [_f(f"cohort {name} comparison_rate", "comparison_events / comparison_size", c["comparison_rate"]),
                     _f(f"cohort {name} intervention_rate", "intervention_events / intervention_size",
                        c["intervention_rate"]),
                     _f(f"cohort {name} improvement", "1 - intervention_rate / comparison_rate", c["improvement"]),
                     _f(f"cohort {name} events_avoided", "comparison_rate x intervention_size - intervention_events",
                        c["events_avoided"])]
        for c in r["tested"]:
            rows.append(_f(f"cohort {c['name']} own test",
                           f"improvement >= cohort_threshold {r['cohort_threshold']}: price_per_event_pence x "
                           f"events_avoided, rounded {r['rounding']}; else 0", c["payment_pence"]))
        if r["final"]:
            rows += [_f("overall improvement", "cohort improvements weighted by intervention_size",
                        r["overall_improvement"]),
                     _f("overall events_avoided", "sum of the cohorts' events_avoided", r["overall_events_avoided"]),
                     _f("overall payment_pence", f"overall improvement >= overall_threshold {r['overall_threshold']}: "
                                                 "price_per_event_pence x max(overall events_avoided, 0), rounded; "
                                                 "else 0", r["overall_payment_pence"]),
                     _f("cohort payments_pence", "paid on the cohorts' own tests, earlier and this period",
                        r["cohort_payments_pence"]),
                     _f("final payment_pence", "max(overall payment - cohort payments, 0): never paid twice",
                        r["final_payment_pence"])]
        rows.append(_f("payment_pence", "sum of this period's payments", r["payment_pence"]))
        return rows
    raise ValidationError(f"mechanism kind {kind!r} cannot be billed", field="kind")  # pragma: no cover
