"""What a contract's forecast is made from (``ledger.forecast``), read from the PbR tables.

Observed quarters run from the contract's first quarter to the last quarter with a claim run
whose payments were approved (approved, invoiced, paid or sampled) and that ended by the date:
a quarter still being validated is not yet an observation. Outcomes are the accepted lines of
those runs, by the participant's start quarter and the run's quarter (the quarter paid for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import Connection, func, select

from ledger.forecast import MIN_OBSERVED, ForecastInput
from ledger.periods import Period
from models.pbr_store import current_status, get_contract
from models.pbr_tables import PbrClaimLineRow, PbrClaimRunRow, PbrParticipantRow, PbrRunPayerRow

APPROVED = ("approved", "invoiced", "paid", "sampled")


@dataclass(frozen=True, slots=True)
class ContractBasis:
    contract_id: str
    quarters: tuple[str, ...]          # every quarter of the term, index 0 = the first
    observed: int                      # quarters observed (0 = none yet)
    actual_pence: dict[str, int]       # quarter -> outcome payments approved
    inputs: ForecastInput | None       # None: fewer than MIN_OBSERVED quarters, or the term has ended


def _index(quarters: list[str], day: date) -> int:
    name = Period.containing(day).name
    return quarters.index(name) if name in quarters else (0 if day < Period.parse(quarters[0]).start else len(quarters) - 1)


def contract_basis(conn: Connection, contract_id: str, as_of: date) -> ContractBasis:
    contract = get_contract(conn, contract_id)
    quarters: list[str] = []
    period = Period.containing(contract.start)
    while period.start <= contract.end:
        quarters.append(period.name)
        period = period.next()
    runs, lines, payers = PbrClaimRunRow.__table__, PbrClaimLineRow.__table__, PbrRunPayerRow.__table__
    people = PbrParticipantRow.__table__
    ended = (runs.c.contract_id == contract_id, runs.c.period_end <= as_of + timedelta(days=1),
             current_status(runs).in_(APPROVED))  # the latest revision's status (claim runs are append-only)
    # What the rate card paid: accepted participant lines of approved runs. A comparison mechanism's
    # lines (outcome "mechanism:...", no participant) pay on other figures and are not projected here.
    actual = {p: int(v or 0) for p, v in conn.execute(
        select(runs.c.period, func.sum(lines.c.net_pence)).join(lines, lines.c.run_id == runs.c.id)
        .where(*ended, lines.c.accepted.is_(True), ~lines.c.outcome_id.startswith("mechanism:"))
        .group_by(runs.c.period)).all()}
    done = [quarters.index(p) for p in actual if p in quarters]
    observed = max(done) + 1 if done else 0
    if observed < MIN_OBSERVED or observed >= len(quarters):
        return ContractBasis(contract_id, tuple(quarters), observed, actual, None)
    last_observed_end = Period.parse(quarters[observed - 1]).end
    starts: dict[int, int] = {}
    for day, n in conn.execute(select(people.c.start_date, func.count()).where(
            people.c.contract_id == contract_id, people.c.start_date < last_observed_end)
            .group_by(people.c.start_date)).all():
        key = _index(quarters, day)
        starts[key] = starts.get(key, 0) + int(n)
    achieved: dict[tuple[str, int, int], int] = {}
    paid_lines: dict[str, list[int]] = {}
    query = (select(lines.c.outcome_id, people.c.start_date, runs.c.period, func.count(), func.sum(lines.c.net_pence))
             .join(runs, runs.c.id == lines.c.run_id)
             .join(people, (people.c.contract_id == runs.c.contract_id) & (people.c.participant_id == lines.c.participant_id))
             .where(*ended, lines.c.accepted.is_(True))
             .group_by(lines.c.outcome_id, people.c.start_date, runs.c.period))
    for outcome, start, run_period, n, net in conn.execute(query).all():
        key = (outcome, _index(quarters, start), quarters.index(run_period))
        achieved[key] = achieved.get(key, 0) + int(n)
        sums = paid_lines.setdefault(outcome, [0, 0])
        sums[0] += int(n)
        sums[1] += int(net or 0)
    prices: dict[str, int] = {}
    for outcome in contract.outcome_ids:
        if outcome in paid_lines and paid_lines[outcome][0]:
            # what an accepted line has been paid on average, after participant and outcome caps
            count, net = paid_lines[outcome]
            prices[outcome] = int((Fraction(net, count) * 2 + 1) // 2)
        else:
            prices[outcome] = contract.price_on(outcome, min(as_of, contract.end)) or 0
    horizon = len(quarters) - observed
    referrals_to = contract.referrals_to or contract.end
    referral_quarters = sum(1 for q in quarters[observed:] if Period.parse(q).start <= referrals_to)
    paid_by_payer = dict(conn.execute(
        select(payers.c.payer_id, func.sum(payers.c.approved_pence)).join(runs, runs.c.id == payers.c.run_id)
        .where(*ended).group_by(payers.c.payer_id)).all())
    inputs = ForecastInput(
        observed=observed, horizon=horizon, starts=starts, achieved=achieved, prices_pence=prices,
        referral_quarters=referral_quarters, paid_to_date_pence=sum(actual.values()),
        contract_cap_pence=contract.contract_cap_pence,
        payers=tuple((p.payer_id, int(paid_by_payer.get(p.payer_id) or 0), p.cap_pence) for p in contract.payers))
    return ContractBasis(contract_id, tuple(quarters), observed, actual, inputs)


def fund_projection(conn: Connection, fund: str, as_of: date, terms):
    """The fund's ``FundForecast`` on ``as_of`` for its investor statements (``terms``: the
    statement terms that apply), or None when no contract of the fund can be forecast yet."""
    from ledger.forecast import SCENARIOS, FundForecast, forecast, project_investors
    from models.flows_store import book_of
    from models.statements_store import ledger_nav, waterfall_state
    from models.values_store import contracts_of_fund

    bases = [contract_basis(conn, c, as_of) for c in contracts_of_fund(conn, fund)]
    results = [forecast(b.inputs) for b in bases if b.inputs is not None]
    if not results:
        return None
    remaining = {k: sum(r.total_pence(k) for r in results) for k in SCENARIOS}
    horizon_day = max(max(get_contract(conn, b.contract_id).end for b in bases), as_of)
    state = waterfall_state(conn, book_of(conn, fund), terms, as_of)
    projections = project_investors(terms.waterfall, state, ledger_nav(conn, fund, as_of), horizon_day, remaining)
    return FundForecast(horizon_day, remaining, {p.investor: p for p in projections})
