"""Contract templates from GO Lab INDIGO data (the public "one CSV per data type" export).

:func:`contract_from_indigo` turns one project's rows (project, rate card, payer commitments,
outcome metrics, organisations) into the text of a contract TOML file that
:func:`ledger.pbr.contracts.load_contract_toml` loads, plus a list of what the data lacks
(referral window, claim deadline, per-participant cap, shares between payers, ...). It is pure:
the shell reads the CSVs (``FILES``) into frames and passes them in.

Data quality problems are reported, never fatal (INDIGO README): blank or mis-entered values,
prices with symbols or separators, months instead of dates, duplicated rows, payer commitments
without amounts. A project whose ``public`` flag (when the export has one) is false is refused.

Choices (each reported in ``lacks`` when it applies):

* term: service start month's first day to the first day after the actual (else anticipated)
  end of service, else after the actual completion date; else 3 years as a placeholder;
* contract cap: the project's "Maximum potential outcome payment"; per-outcome value caps:
  "Maximum Price if all targets achieved";
* payers: one per outcome payment commitment. INDIGO has no payment shares: with one payer it
  takes every line; with several whose caps are all known, each gets ``cap / total caps`` and
  the largest takes the remainder; otherwise the payer with the largest known cap (or the
  first listed) takes every line and the others are written as comments to be completed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Mapping

import pandas as pd

from ledger.errors import NotFound, ValidationError
from ledger.money import CURRENCY_EXPONENTS

#: The INDIGO export file names this reads (the user's own export folder must use them).
FILES = {
    "projects": "original_projects.csv",
    "pricings": "original_projects_outcome_pricings.csv",
    "commitments": "original_projects_outcome_payment_commitments.csv",
    "metrics": "original_projects_outcome_metrics.csv",
    "organisations": "original_organisations.csv",
    "results": "original_projects_results.csv",
}
CITATION = "GO Lab INDIGO (Government Outcomes Lab, University of Oxford), public data export"
PLACEHOLDER_TERM_YEARS = 3

C_NAME = "Impact Bond Name - (Value)"
C_START = "Dates - Start date of service provision - (Value)"
C_END_ACTUAL = "Dates - Actual end date of service provision - (Value)"
C_END_PLANNED = "Dates - Anticipated end date of service provision - (Value)"
C_COMPLETED = "Dates - Actual completion date - (Value)"
C_SIGNED = "Dates - Date outcomes contract signed - (Value)"
C_CAP = "Overall project finance - Maximum potential outcome payment - Amount - (Value)"
C_CAP_CURRENCY = "Overall project finance - Maximum potential outcome payment - Currency - (Value)"
C_METRIC = "Outcome Metric Id - (Value)"
C_PRICE = "Price Per Unit - Amount - (Value)"
C_MAX_PRICE = "Maximum Price if all targets achieved - Amount - (Value)"
C_INCREASES = "Contracted increases to outcome pricing - (Value)"
C_CURRENCY = "Currency - (Value)"
C_ORG = "Organisation ID - (Value)"
C_COMMIT_AMOUNT = "Maximum potential Outcome payment - Amount - (Value)"
C_DEFINITION = "Outcome Definition - (Value)"
C_VALIDATION = "Outcome validation Method - (Value)"
C_ACHIEVED = "Outcomes achieved - (Value)"
C_RESULT_TYPE = "Result type - (Value)"

_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class IndigoTemplate:
    project_id: str
    contract_id: str
    toml_text: str
    lacks: tuple[str, ...]


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def parse_money_text(value: object) -> Decimal | None:
    """``"1,500"``, ``"£500"``, ``"1500.5"`` -> Decimal pounds; blank or nonsense -> ``None``."""
    text = _text(value).replace(",", "").replace("£", "").replace("GBP", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return amount.quantize(Decimal("0.01"))


def parse_month(value: object) -> date | None:
    """INDIGO dates are ``YYYY-MM`` or ``YYYY-MM-DD``: the month's first day (or the day)."""
    text = _text(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
    except ValueError:
        return None


def _month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _is_public(row: Mapping[str, object]) -> bool:
    for key, value in row.items():
        if str(key).strip().lower() in ("public", "public - (value)"):
            return _text(value).lower() in ("true", "1", "yes", "y")
    return True  # the public export holds public projects only


def contract_id_for(project_id: str) -> str:
    return "indigo-" + _ID_CHARS.sub("-", project_id.lower().removeprefix("indigo-"))[:56]


def contract_from_indigo(frames: Mapping[str, pd.DataFrame], project_id: str) -> IndigoTemplate:
    """Build a contract file for ``project_id`` from INDIGO frames (keys as in :data:`FILES`)."""
    lacks: list[str] = []
    projects = frames["projects"]
    matches = projects[projects["ID"].astype(str).str.strip() == project_id]
    if matches.empty:
        raise NotFound(f"INDIGO project {project_id!r} is not in {FILES['projects']}", field="project")
    if len(matches) > 1:
        lacks.append(f"{FILES['projects']} has {len(matches)} rows for {project_id}; the first is used")
    project = matches.iloc[0].to_dict()
    if not _is_public(project):
        raise ValidationError(f"INDIGO project {project_id} is not public; it must not be used", field="project")

    from ledger.pbr.indigo_export import contract_toml_from_fuel_columns, has_fuel_columns

    if has_fuel_columns(project):  # a `fuel export indigo` folder: every rule Fuel prices with is there
        text, fuel_lacks = contract_toml_from_fuel_columns(frames, project, project_id, contract_id_for(project_id),
                                                           CITATION)  # fmt: skip
        return IndigoTemplate(project_id, contract_id_for(project_id), text, tuple(fuel_lacks))
    pricings = frames["pricings"]
    pricings = pricings[pricings["Project ID"].astype(str).str.strip() == project_id]
    if pricings.empty:
        raise ValidationError(
            f"INDIGO project {project_id} has no rate card in {FILES['pricings']}: no contract can be built",
            field="project",
        )
    metrics = frames["metrics"]
    metrics = metrics[metrics["Project ID"].astype(str).str.strip() == project_id]
    definitions = {_text(r["Id"]): _text(r.get(C_DEFINITION)) for _, r in metrics.iterrows()}
    validation = {_text(r["Id"]): _text(r.get(C_VALIDATION)) for _, r in metrics.iterrows()}

    currencies = {c for c in pricings[C_CURRENCY].map(_text) if c}
    currency = sorted(currencies)[0] if currencies else "GBP"
    if len(currencies) > 1:
        lacks.append(f"rate card mixes currencies {sorted(currencies)}; {currency} is used")
    if currency not in CURRENCY_EXPONENTS:
        raise ValidationError(f"INDIGO project {project_id} prices in {currency}, which Fuel does not support", field="currency")

    # Term.
    start = parse_month(project.get(C_START)) or parse_month(project.get(C_SIGNED))
    if start is None:
        raise ValidationError(f"INDIGO project {project_id} has no service start or contract signing date", field="start")
    if parse_month(project.get(C_START)) is None:
        lacks.append(f"no service start date: the contract signing month ({start:%Y-%m}) is used")
    end_month = None
    for column, label in ((C_END_ACTUAL, "actual end of service"), (C_END_PLANNED, "anticipated end of service"),
                          (C_COMPLETED, "actual completion date")):  # fmt: skip
        end_month = parse_month(project.get(column))
        if end_month is not None:
            if label != "actual end of service":
                lacks.append(f"no actual end of service: the {label} ({end_month:%Y-%m}) ends the term")
            break
    if end_month is None or _month_after(end_month) <= start:
        end = date(start.year + PLACEHOLDER_TERM_YEARS, start.month, 1)
        lacks.append(f"no usable end date: a {PLACEHOLDER_TERM_YEARS}-year placeholder term to {end} is used")
    else:
        end = _month_after(end_month)

    # Rate card and per-outcome maxima.
    outcomes: list[tuple[str, str, Decimal, Decimal | None, str]] = []
    seen: set[str] = set()
    for _, row in pricings.iterrows():
        metric = _text(row.get(C_METRIC))
        outcome_id = _ID_CHARS.sub("_", metric)[:64]
        if not outcome_id:
            lacks.append("a rate card row has no outcome metric id; skipped")
            continue
        if outcome_id in seen:
            lacks.append(f"{metric}: priced twice; the first price is used")
            continue
        price = parse_money_text(row.get(C_PRICE))
        if price is None:
            lacks.append(f"{metric}: no usable price ({_text(row.get(C_PRICE)) or 'blank'}); the outcome is left out")
            continue
        seen.add(outcome_id)
        maximum = parse_money_text(row.get(C_MAX_PRICE))
        definition = definitions.get(metric, "")
        first_line = next((line.strip() for line in definition.splitlines() if line.strip()), "") or metric
        if not definition:
            lacks.append(f"{metric}: no outcome definition in {FILES['metrics']}")
        if _text(row.get(C_INCREASES)):
            lacks.append(f"{metric}: contracted price increases are described in words only, not as an indexation "
                         f"rate: {_text(row.get(C_INCREASES))[:120]!r}")  # fmt: skip
        outcomes.append((outcome_id, first_line[:300], price, maximum, validation.get(metric, "")))
    if not outcomes:
        raise ValidationError(f"INDIGO project {project_id}: no outcome has a usable price", field="project")
    if not any(o[3] is not None for o in outcomes):
        lacks.append("no per-outcome maximum (value cap) for any outcome")
    if not any(o[4] for o in outcomes):
        lacks.append("no outcome validation method: every outcome requires an evidence reference (the default)")

    # Contract cap.
    contract_cap = parse_money_text(project.get(C_CAP))
    if contract_cap is None:
        lacks.append("no maximum potential outcome payment: no contract cap")
    elif _text(project.get(C_CAP_CURRENCY)) not in ("", currency):
        lacks.append(f"the contract cap is in {_text(project.get(C_CAP_CURRENCY))}, not {currency}: left out")
        contract_cap = None

    # Payers.
    commitments = frames["commitments"]
    commitments = commitments[commitments["Project ID"].astype(str).str.strip() == project_id]
    organisations = frames["organisations"]
    names = {_text(r["ID"]): _text(r.get("Name")) for _, r in organisations.iterrows()}
    payers: list[tuple[str, str, Decimal | None]] = []
    for _, row in commitments.iterrows():
        org = _text(row.get(C_ORG))
        if not org or any(p[0] == org for p in payers):
            continue
        cap = parse_money_text(row.get(C_COMMIT_AMOUNT))
        payers.append((org, names.get(org) or org, cap))
    if not payers:
        lacks.append("no outcome payer listed: a placeholder payer 'payer' takes every line")
        payers = [("payer", "Outcome payer (not in the data)", None)]
    for org, name, cap in payers:
        if cap is None and org != "payer":
            lacks.append(f"payer {org} ({name}): no cap in the data")
        if contract_cap is not None and cap is not None and cap > contract_cap:
            lacks.append(f"payer {org}: cap {cap} is above the contract cap {contract_cap}")
    shares: dict[str, Decimal | None] = {}
    commented: list[tuple[str, str, Decimal | None]] = []
    if len(payers) == 1:
        shares[payers[0][0]] = None
    elif all(cap for _, _, cap in payers):
        total = sum(cap for _, _, cap in payers)  # type: ignore[misc]
        largest = max(payers, key=lambda p: p[2])[0]
        for org, _, cap in payers:
            shares[org] = None if org == largest else (cap / total).quantize(Decimal("0.0001"))  # type: ignore[operator]
        lacks.append("no payment shares between payers: each payer's share is its cap over all payers' caps, "
                     f"and {largest} takes the remainder")  # fmt: skip
    else:
        capped = [p for p in payers if p[2] is not None]
        chosen = max(capped, key=lambda p: p[2])[0] if capped else payers[0][0]
        shares[chosen] = None
        commented = [p for p in payers if p[0] != chosen]
        payers = [p for p in payers if p[0] == chosen]
        lacks.append(f"no payment shares between payers: {chosen} takes every line; "
                     f"{', '.join(p[0] for p in commented)} left as comments to complete")  # fmt: skip

    for missing in ("no referral window", "no claim deadline", "no per-participant cap",
                    "no once-only, prerequisite or exclusive-group rules",
                    "no time window after a participant's start", "no per-outcome count caps"):  # fmt: skip
        lacks.append(missing + " in the data")

    name = _text(project.get(C_NAME)).splitlines()[0] if _text(project.get(C_NAME)) else project_id
    contract_id = contract_id_for(project_id)
    out: list[str] = [
        f"# Contract template for {project_id} ({name}), built by `fuel contracts from-indigo`.",
        f"# Source: {CITATION}: {', '.join(FILES[k] for k in ('projects', 'pricings', 'commitments', 'metrics', 'organisations'))}.",
        "# What the data lacks (complete these from the signed contract before using it):",
        *[f"#   - {item}" for item in lacks],
        "",
        f"id = {_toml_str(contract_id)}",
        f"name = {_toml_str(name[:200])}",
        f"project = {_toml_str(project_id)}",
        f"provider = {_toml_str('(provider not in the INDIGO extract)')}",
        f"currency = {_toml_str(currency)}",
        'rounding = "half_up"',
        f"start = {start.isoformat()}",
        f"end = {end.isoformat()}          # half-open: the first day after the term",
        "",
    ]  # fmt: skip
    if contract_cap is not None:
        out += ["[caps]", f'contract = "{contract_cap}"', ""]
    for org, payer_name, cap in payers:
        out += ["[[payers]]", f"id = {_toml_str(org)}", f"name = {_toml_str(payer_name[:200])}"]
        if cap is not None:
            out.append(f'cap = "{cap}"')
        if shares.get(org) is not None:
            out.append(f'share = "{shares[org]}"')
        out.append("")
    for org, payer_name, cap in commented:
        out += ["# [[payers]]", f"# id = {_toml_str(org)}", f"# name = {_toml_str(payer_name[:200])}"]
        out += [f'# cap = "{cap}"'] if cap is not None else []
        out += ['# share = "?"   # not in the data', ""]
    for outcome_id, definition, _, maximum, method in outcomes:
        out += ["[[outcomes]]", f"id = {_toml_str(outcome_id)}", f"definition = {_toml_str(definition)}"]
        if maximum is not None:
            out.append(f'value_cap = "{maximum}"')
        if method:
            out.append(f"# validation: {method.splitlines()[0][:200]}")
        out.append("")
    out += ["[[rate_cards]]", 'version = "indigo"', f"effective_from = {start.isoformat()}", ""]
    for outcome_id, _, price, _, _ in outcomes:
        out += ["[[rate_cards.outcomes]]", f"id = {_toml_str(outcome_id)}", f'price = "{price}"', ""]
    return IndigoTemplate(project_id, contract_id, "\n".join(out), tuple(lacks))


def results_times_prices(frames: Mapping[str, pd.DataFrame], project_id: str, result_type: str = "Final") -> pd.DataFrame:
    """Per outcome metric: outcomes achieved (INDIGO results of ``result_type``) x price per
    unit, in pence. Rows without a usable count or price are left out."""
    results = frames["results"]
    results = results[(results["Project ID"].astype(str).str.strip() == project_id)
                      & (results[C_RESULT_TYPE].map(_text) == result_type)]  # fmt: skip
    pricings = frames["pricings"]
    pricings = pricings[pricings["Project ID"].astype(str).str.strip() == project_id]
    price = {_text(r[C_METRIC]): parse_money_text(r[C_PRICE]) for _, r in pricings.iterrows()}
    rows = []
    for _, r in results.iterrows():
        metric = _text(r[C_METRIC])
        count_text = _text(r[C_ACHIEVED])
        if not count_text.isdigit() or price.get(metric) is None:
            continue
        unit_pence = int(price[metric] * 100)  # type: ignore[operator]
        rows.append({"outcome_id": metric, "achieved": int(count_text), "price_pence": unit_pence,
                     "value_pence": int(count_text) * unit_pence})  # fmt: skip
    return pd.DataFrame(rows, columns=["outcome_id", "achieved", "price_pence", "value_pence"])
