"""Who pays and who benefits: the value report (``fuel report value``, ``docs/value.md``).

Per contract, and for the fund: outcome payments approved per payer beside the fiscal value
accruing to each agency (from the contract's value table, ``ledger.values``), economic and
social value, fiscal and public-value benefit-cost ratios, cost per outcome, return on
investment and payback period. Every figure traces to the outcome counts (validated lines of
the approved claim runs) and the value table's lines, listed in the ``value_lines`` table.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from ledger.values import AGENCIES, AGENCY_NAMES, LineValue, bcr, benefits_by_year, financial_year, payback_years
from ledger.values import roi, value_outcomes
from reports.fund_reports import Report, _table

SUMMARY_COLUMNS = ("contract", "project", "outcomes_validated", "outcome_payments_pence", "fiscal_value_pence",
                   "economic_value_pence", "social_value_pence", "public_value_pence", "fiscal_bcr",
                   "public_value_bcr", "fiscal_roi", "cost_per_outcome_pence", "payback_years")
PAYER_COLUMNS = ("contract", "payer", "outcome_payments_pence")
AGENCY_COLUMNS = ("contract", "agency", "fiscal_value_pence")
LINE_COLUMNS = ("contract", "outcome", "count", "kind", "agency", "source", "evidence_grade", "amount_pence",
                "price_year", "uprated_pence", "quantity", "deadweight", "attribution", "optimism_bias",
                "duration_years", "decay", "value_per_outcome_pence", "total_pence")


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def contract_value(conn: Connection, contract_id: str, as_of: date) -> dict:
    """One contract's figures: counts, payments per payer, value lines, totals and ratios."""
    from models.pbr_store import get_contract
    from models.values_store import approved_figures, require_table, shares_by_outcome

    contract = get_contract(conn, contract_id)
    stored_version, table = require_table(conn, contract_id)
    version = table.version_on(as_of)
    price_base = financial_year(as_of)
    counts, payments, periods = approved_figures(conn, contract_id, as_of)
    lines = value_outcomes(version, counts, table.deflator, price_base, table.discount_rate)
    by_kind = {k: sum(line.total_pence for line in lines if line.kind == k) for k in ("fiscal", "economic", "social")}
    by_agency = {a: sum(line.total_pence for line in lines if line.agency == a) for a in AGENCIES}
    cost = sum(payments.values())
    outcomes = sum(counts.values())
    public = sum(by_kind.values())
    payer_names = {p.payer_id: p.name for p in contract.payers}
    outcome_agency: dict[tuple[str, str], int] = {}
    for line in lines:
        if line.kind == "fiscal" and line.total_pence:
            key = (line.outcome, line.agency)
            outcome_agency[key] = outcome_agency.get(key, 0) + line.total_pence
    return {
        "contract": contract_id, "name": contract.name, "project": contract.project, "counts": counts,
        "payments": {p.payer_id: payments.get(p.payer_id, 0) for p in contract.payers}, "payer_names": payer_names,
        "lines": lines, "by_kind": by_kind, "by_agency": by_agency, "cost_pence": cost, "outcomes": outcomes,
        "public_pence": public, "price_base": price_base, "periods": periods, "table_id": table.id,
        "table_version": version.version, "stored_version": stored_version, "deflator": table.deflator.name,
        "fiscal_bcr": bcr(by_kind["fiscal"], cost), "public_value_bcr": bcr(public, cost),
        "fiscal_roi": roi(by_kind["fiscal"], cost),
        "cost_per_outcome_pence": (cost // outcomes) if outcomes else None,  # floor: whole pence, never more than paid
        "payback_years": payback_years(cost, benefits_by_year(lines)),
        "payer_outcome": shares_by_outcome(conn, contract_id, as_of), "outcome_agency": outcome_agency,
    }


def flow_svg(c: dict, currency: str = "GBP") -> str:
    """The contract's payers -> outcomes -> agencies chart."""
    from reports.value_chart import flow_chart

    labels = {**c["payer_names"], **AGENCY_NAMES}
    return flow_chart(f"{c['contract']}: from the payers, through the outcomes, to the agencies that save",
                      c["payer_outcome"], c["outcome_agency"], labels, currency)


def _summary_row(c: dict) -> dict:
    return {"contract": c["contract"], "project": c["project"], "outcomes_validated": c["outcomes"],
            "outcome_payments_pence": c["cost_pence"], "fiscal_value_pence": c["by_kind"]["fiscal"],
            "economic_value_pence": c["by_kind"]["economic"], "social_value_pence": c["by_kind"]["social"],
            "public_value_pence": c["public_pence"], "fiscal_bcr": _text(c["fiscal_bcr"]),
            "public_value_bcr": _text(c["public_value_bcr"]), "fiscal_roi": _text(c["fiscal_roi"]),
            "cost_per_outcome_pence": c["cost_per_outcome_pence"], "payback_years": _text(c["payback_years"])}


def _line_row(contract_id: str, line: LineValue) -> dict:
    return {"contract": contract_id, "outcome": line.outcome, "count": line.count, "kind": line.kind,
            "agency": line.agency or "", "source": line.source, "evidence_grade": line.evidence_grade,
            "amount_pence": line.amount_pence, "price_year": line.price_year, "uprated_pence": line.uprated_pence,
            "quantity": str(line.quantity), "deadweight": str(line.deadweight), "attribution": str(line.attribution),
            "optimism_bias": str(line.optimism_bias), "duration_years": line.duration_years, "decay": str(line.decay),
            "value_per_outcome_pence": str(line.unit_value.quantize(Decimal("0.01"))), "total_pence": line.total_pence}


def fund_totals(contracts: list[dict]) -> dict:
    """The fund's figures: sums of the contracts', ratios recomputed from the sums."""
    cost = sum(c["cost_pence"] for c in contracts)
    by_kind = {k: sum(c["by_kind"][k] for c in contracts) for k in ("fiscal", "economic", "social")}
    public = sum(by_kind.values())
    outcomes = sum(c["outcomes"] for c in contracts)
    lines = [line for c in contracts for line in c["lines"]]
    return {"contract": "fund", "project": "", "outcomes": outcomes, "cost_pence": cost, "by_kind": by_kind,
            "public_pence": public, "fiscal_bcr": bcr(by_kind["fiscal"], cost), "public_value_bcr": bcr(public, cost),
            "fiscal_roi": roi(by_kind["fiscal"], cost), "cost_per_outcome_pence": (cost // outcomes) if outcomes else None,
            "payback_years": payback_years(cost, benefits_by_year(lines)),
            "by_agency": {a: sum(c["by_agency"][a] for c in contracts) for a in AGENCIES}}


def value_report(conn: Connection, as_of: date, fund: str | None = None, contract: str | None = None,
                 require_table: bool = True) -> Report:
    """``require_table`` False: a contract without a value table gives an empty report (the pages)."""
    from models.pbr_store import get_contract
    from models.values_store import contracts_of_fund, value_table_for

    if contract is not None:
        found = get_contract(conn, contract)
        if fund is not None and found.fund not in (None, fund):
            raise_fund = f"contract {contract} belongs to fund {found.fund}, not {fund}"
            from ledger.errors import ValidationError

            raise ValidationError(raise_fund, field="contract")
        ids = [contract] if require_table or value_table_for(conn, contract) is not None else []
    else:
        ids = [c for c in contracts_of_fund(conn, fund) if value_table_for(conn, c) is not None]
    contracts = [contract_value(conn, c, as_of) for c in ids]
    total = fund_totals(contracts)
    summary = [_summary_row(c) for c in contracts] + ([_summary_row(total)] if len(contracts) > 1 else [])
    payers = [{"contract": c["contract"], "payer": p, "outcome_payments_pence": v}
              for c in contracts for p, v in c["payments"].items()]
    agencies = [{"contract": c["contract"], "agency": a, "fiscal_value_pence": c["by_agency"][a]}
                for c in contracts for a in AGENCIES if c["by_agency"][a]]
    lines = [_line_row(c["contract"], line) for c in contracts for line in c["lines"]]
    charts = []
    for c in contracts:
        bars = [(f"paid by {c['payer_names'][p]}", v, None) for p, v in c["payments"].items()]
        bars += [(f"saves {AGENCY_NAMES[a]}", c["by_agency"][a], None) for a in AGENCIES if c["by_agency"][a]]
        charts.append(("bar", f"{c['contract']}: outcome payments by payer, and fiscal value by agency", tuple(bars)))
    price_base = financial_year(as_of)
    return Report(
        "value", f"Who pays and who benefits, as of {as_of} ({price_base} prices)", as_of,
        (_table("value_summary", "Per contract and for the fund: costs, values and ratios", summary, SUMMARY_COLUMNS),
         _table("value_payers", "Outcome payments approved, by payer", payers, PAYER_COLUMNS, "Total"),
         _table("value_agencies", "Fiscal value, by the agency that saves", agencies, AGENCY_COLUMNS, "Total"),
         _table("value_lines", "Every value line: count x published amount, uprated, adjusted, over its duration",
                lines, LINE_COLUMNS)),
        tuple(charts),
        ("Costs = outcome payments approved in claim runs ended by the report date; counts = validated outcomes "
         "of the same runs. Values from each contract's value table (docs/value.md), uprated with its GDP deflator "
         f"to {price_base} prices, less deadweight, times attribution, less optimism bias, over the benefit's "
         "duration with decay, discounted at the table's rate. BCR = value / costs; ROI = (fiscal value - costs) / "
         "costs; payback = years until cumulative fiscal value covers the costs.",),
        extra={"as_of": as_of.isoformat(), "contracts": contracts, "fund_total": total},
    )
