"""Forecasts and scenarios: ``fuel report forecast`` (method: ``ledger/forecast.py``, docs/value.md).

Per contract of the fund: outcome payments projected to the end of its term (low, central,
high), the quarter the contract's and each payer's cap is reached, the observed rates the
projection runs on, and each earlier quarter's one-quarter-ahead forecast beside what happened
(``ledger.pbr.plans.plan_vs_actual``, the forecast taken as a plan version). For the fund: each
investor's projected TVPI and IRR range if the projected payments reached the fund and it were
liquidated through its waterfall at the last contract's end.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from ledger.forecast import DRAWS, HIGH_QUANTILE, LOW_QUANTILE, SCENARIOS, SEED, forecast, per_quarter
from ledger.forecast import project_investors
from ledger.periods import Period
from reports.fund_reports import Report, _table

QUARTER_COLUMNS = ("contract", "quarter", "kind", "actual_pence", "low_pence", "central_pence", "high_pence")
CAP_COLUMNS = ("contract", "cap", "cap_pence", "paid_to_date_pence", "reached_low", "reached_central", "reached_high")
RATE_COLUMNS = ("contract", "outcome", "age_quarters", "achieved", "participants", "rate", "price_pence")
BACKTEST_COLUMNS = ("contract", "forecast_made_on", "through", "low_pence", "central_pence", "high_pence",
                    "actual_pence", "variance_pence", "within_range")
INVESTOR_COLUMNS = ("investor", "paid_in_pence", "distributed_pence", "value_low_pence", "value_central_pence",
                    "value_high_pence", "tvpi_low", "tvpi_central", "tvpi_high", "irr_low", "irr_central", "irr_high")
METHOD = (f"Method: per outcome, the rate per participant per quarter since start (age), observed over every "
          f"cohort (start quarter) so far; ages not yet observed take the oldest observed ages' pooled rate; "
          f"each quarter open for referrals enrols the mean of the observed quarters' starts. Central = expected "
          f"counts x the average paid per accepted outcome; low and high = the {LOW_QUANTILE:.0%} and "
          f"{HIGH_QUANTILE:.0%} percentiles of {DRAWS} simulations (rates from Beta(x+1/2, m-x+1/2), counts "
          f"binomial; seed {SEED}). The contract cap limits every scenario; payers share projected payments as "
          f"they have paid so far.")
INVESTOR_NOTE = ("Investors: the fund's net assets today plus a scenario's projected outcome payments, liquidated "
                 "through the fund's waterfall at the last contract's end; assumes no further drawdowns, fees, "
                 "delivery costs or other income, so it is an upper bound of what outcomes alone return.")


def _q(quarters, index: int | None, observed: int) -> str:
    return "" if index is None else (quarters[observed - 1] if index == 0 else quarters[observed - 1 + index])


def contract_forecast(conn: Connection, contract_id: str, as_of: date) -> dict:
    from models.forecast_store import contract_basis
    from models.pbr_store import get_contract

    basis = contract_basis(conn, contract_id, as_of)
    contract = get_contract(conn, contract_id)
    result = forecast(basis.inputs) if basis.inputs is not None else None
    return {"contract": contract_id, "basis": basis, "result": result, "cap_pence": contract.contract_cap_pence,
            "payers": contract.payers, "end": contract.end}


def _backtest(conn: Connection, contract_id: str, basis) -> list[dict]:
    """Back-test: the forecast made at the end of each earlier observed quarter, against what was
    approved in each quarter since, cumulatively. The forecast is taken as a plan version and
    compared by ``ledger.pbr.plans.plan_vs_actual`` (plan versus actual)."""
    from ledger.pbr.plans import PlanVersion, plan_vs_actual
    from models.forecast_store import contract_basis

    rows = []
    for i in range(1, basis.observed):
        made_on = Period.parse(basis.quarters[i - 1]).last_day
        earlier = contract_basis(conn, contract_id, made_on)
        if earlier.inputs is None or earlier.observed != i:
            continue
        result = forecast(replace(earlier.inputs, horizon=basis.observed - i))
        later = basis.quarters[i:basis.observed]
        central = dict(zip(later, per_quarter(result.cumulative_pence["central"])))
        frame = plan_vs_actual([PlanVersion.of(f"forecast-{basis.quarters[i - 1]}", made_on, central)],
                               {q: basis.actual_pence.get(q, 0) for q in later}, Period.parse(later[-1]).last_day)
        frame = frame.set_index("quarter")
        for j, quarter in enumerate(later):
            actual = int(frame.loc[quarter, "cumulative_actual_pence"])
            low, high = result.cumulative_pence["low"][j], result.cumulative_pence["high"][j]
            rows.append({"contract": contract_id, "forecast_made_on": made_on.isoformat(), "through": quarter,
                         "low_pence": low, "central_pence": int(frame.loc[quarter, "cumulative_planned_pence"]),
                         "high_pence": high, "actual_pence": actual,
                         "variance_pence": int(frame.loc[quarter, "cumulative_variance_pence"]),
                         "within_range": "yes" if low <= actual <= high else "no"})
    return rows


def fund_forecast(conn: Connection, fund: str, as_of: date, *, investors: bool = True, backtest: bool = True) -> dict:
    from models.values_store import contracts_of_fund

    contracts = [contract_forecast(conn, c, as_of) for c in contracts_of_fund(conn, fund)]
    extra = {k: sum(c["result"].total_pence(k) for c in contracts if c["result"]) for k in SCENARIOS}
    horizon_day = max((c["end"] for c in contracts), default=as_of)
    projections = _investors(conn, fund, as_of, horizon_day, extra) if investors else []
    tests = [r for c in contracts for r in _backtest(conn, c["contract"], c["basis"])] if backtest else []
    return {"fund": fund, "as_of": as_of, "contracts": contracts, "extra_pence": extra, "horizon_day": horizon_day,
            "investors": projections, "backtest": tests}


def _investors(conn: Connection, fund: str, as_of: date, horizon_day: date, extra: dict) -> list:
    from ledger.errors import FuelError
    from models.flows_store import book_of
    from models.statements_store import ledger_nav, waterfall_state
    from models.terms_store import terms_for

    try:
        book = book_of(conn, fund)
        terms = terms_for(conn, fund, as_of)
    except FuelError:
        return []  # a fund without statement terms has no waterfall to project through
    state = waterfall_state(conn, book, terms, as_of)
    return project_investors(terms.waterfall, state, ledger_nav(conn, fund, as_of), max(horizon_day, as_of), extra)


def _ratio(value) -> str:
    return "" if value is None else str(value if isinstance(value, Decimal) else Decimal(value))


def fan_svg(c: dict, currency: str = "GBP") -> str:
    from reports.forecast_chart import fan_chart

    basis, result = c["basis"], c["result"]
    running, actual = 0, []
    for q in basis.quarters[:basis.observed]:
        running += basis.actual_pence.get(q, 0)
        actual.append(running)
    scen = {k: [running + v for v in result.cumulative_pence[k]] for k in SCENARIOS} if result else {k: [] for k in SCENARIOS}
    return fan_chart(f"{c['contract']}: cumulative outcome payments, paid and forecast to {basis.quarters[-1]}",
                     basis.quarters, actual, scen["low"], scen["central"], scen["high"], c["cap_pence"], currency)


def forecast_report(conn: Connection, fund: str, as_of: date) -> Report:
    data = fund_forecast(conn, fund, as_of)
    quarters, caps, rates = [], [], []
    charts = []
    for c in data["contracts"]:
        basis, result = c["basis"], c["result"]
        running = 0
        for q in basis.quarters[:basis.observed]:
            running += basis.actual_pence.get(q, 0)
            quarters.append({"contract": c["contract"], "quarter": q, "kind": "actual", "actual_pence": running,
                             "low_pence": running, "central_pence": running, "high_pence": running})
        if result is None:
            continue
        for j, q in enumerate(basis.quarters[basis.observed:]):
            quarters.append({"contract": c["contract"], "quarter": q, "kind": "forecast", "actual_pence": "",
                             **{f"{k}_pence": running + result.cumulative_pence[k][j] for k in SCENARIOS}})
        paid = basis.inputs.paid_to_date_pence
        if c["cap_pence"] is not None:
            caps.append({"contract": c["contract"], "cap": "contract", "cap_pence": c["cap_pence"], "paid_to_date_pence": paid,
                         **{f"reached_{k}": _q(basis.quarters, result.contract_cap_quarter[k], basis.observed)
                            for k in SCENARIOS}})
        for payer_id, payer_paid, cap in basis.inputs.payers:
            if cap is not None:
                caps.append({"contract": c["contract"], "cap": f"payer {payer_id}", "cap_pence": cap,
                             "paid_to_date_pence": payer_paid,
                             **{f"reached_{k}": _q(basis.quarters, result.payer_cap_quarter[payer_id][k], basis.observed)
                                for k in SCENARIOS}})
        for outcome, age, x, m in result.rates:
            rates.append({"contract": c["contract"], "outcome": outcome, "age_quarters": age, "achieved": x,
                          "participants": m, "rate": str((Decimal(x) / m).quantize(Decimal("0.0001"))) if m else "",
                          "price_pence": basis.inputs.prices_pence[outcome]})
        charts.append(("svg", f"{c['contract']} forecast", fan_svg(c)))
    investors = [{"investor": p.investor, "paid_in_pence": p.paid_in_pence, "distributed_pence": p.distributed_pence,
                  **{f"value_{k}_pence": p.value_pence[k] for k in SCENARIOS},
                  **{f"tvpi_{k}": _ratio(p.tvpi[k]) for k in SCENARIOS},
                  **{f"irr_{k}": _ratio(p.irr[k]) for k in SCENARIOS}} for p in data["investors"]]
    return Report(
        "forecast", f"Forecast of outcome payments for {fund}, as of {as_of}", as_of,
        (_table("forecast_quarters", "Cumulative outcome payments per quarter: paid, then low / central / high",
                quarters, QUARTER_COLUMNS),
         _table("forecast_caps", "The quarter each cap is reached (blank: not within the term)", caps, CAP_COLUMNS),
         _table("forecast_backtest", "Back-test: each earlier quarter's forecast against what was approved since (cumulative)",
                data["backtest"], BACKTEST_COLUMNS),
         _table("forecast_investors", f"Investors' projected value, TVPI and IRR at {data['horizon_day']}",
                investors, INVESTOR_COLUMNS),
         _table("forecast_rates", "Observed rates: outcomes per participant per quarter since start", rates, RATE_COLUMNS)),
        tuple(charts), (METHOD, INVESTOR_NOTE),
        extra={"as_of": as_of.isoformat(), "fund": fund, "extra_pence": data["extra_pence"]},
    )
