"""The demo fund's generated data: pure and seeded (``numpy.random.Generator(PCG64(seed))``).

The hand-authored parts live in ``fixtures/demo/`` (fund setup, four outcomes contracts, the
waterfall and the statement terms; README there cites the sources). This module makes what a
fund would record over its life, at any size, as plain values and frames:

* :func:`fund_setup` - the setup mapping, commitments scaled with the number of participants;
* :func:`participants` - every contract's participant register (pseudonymous ids, start dates,
  cohort, an age band, the delivery partner on the joint-prime contract);
* :func:`outcome_events` - milestone chains per participant (an outcome follows the one it
  requires, after a realistic delay, with a probability), a few with missing evidence;
* :func:`flow_rows` - one quarter's fund flows (capital calls and receipts, restricted transfers,
  the working capital loan, its repayments and write-down), as rows of the flows CSV;
* :func:`service_fees_pence` - the quarter's service fee per project (delivery bought from the
  providers);
* :func:`mechanism_figures` - the ageing contract's baseline figures per quarter;
* :func:`management_fee_pence` - the quarter's fee.

The shell (``ledger.shell.demo``) imports all of it through the same services as the CLI.
Same seed, same data: nothing here reads a clock, a file outside ``fixtures/demo`` or the
database.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from ledger.money import allocate
from ledger.periods import Period

DEMO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
FUND_FILE = DEMO_DIR / "fund.toml"
FIRST_QUARTER = Period.parse("2024Q1")
BASE_PARTICIPANTS = 3_000  # the figures in fixtures/demo/fund.toml are for this many participants
QUARTERS_MAX = 12  # the contracts run 2024-01-01 to 2027-01-01
REFERRAL_QUARTERS = 6  # referral windows close on 2025-07-01
PARTICIPANTS_MAX = 10_000_000


@dataclass(frozen=True, slots=True)
class Step:
    """One outcome of a milestone chain: achieved ``after`` an earlier one (None: the start date)
    with probability ``p``, ``days`` (low, high) later; ``unless``: not if that one was achieved."""

    outcome: str
    after: str | None
    p: float
    days: tuple[int, int]
    unless: str | None = None


@dataclass(frozen=True, slots=True)
class ContractShape:
    contract_id: str
    file: str
    project: str
    prefix: str  # participant id prefix
    share: float  # of all participants
    steps: tuple[Step, ...]
    partners: tuple[tuple[str, float], ...] = ()  # (partner id or "" for the prime's own, weight)


CONTRACTS: tuple[ContractShape, ...] = (
    ContractShape("lcr-complex-needs", "complex_needs.toml", "complex-needs", "CN", 700 / 3000, (
        Step("wellbeing_assessment_1", None, 0.92, (7, 45)),
        Step("mental_health_entry", None, 0.55, (14, 120)),
        Step("accommodation_entry", None, 0.72, (10, 150)),
        Step("wellbeing_assessment_2", "wellbeing_assessment_1", 0.75, (90, 150)),
        Step("accommodation_3m", "accommodation_entry", 0.80, (91, 100)),
        Step("mental_health_sustained", "mental_health_entry", 0.60, (120, 200)),
        Step("accommodation_6m", "accommodation_3m", 0.82, (91, 100)),
        Step("accommodation_12m", "accommodation_6m", 0.78, (182, 195)),
        Step("accommodation_18m", "accommodation_12m", 0.80, (182, 195)),
    ), (("", 0.25), ("birkenhead-housing", 0.35), ("st-helens-mind", 0.2), ("halton-recovery", 0.2))),
    ContractShape("lcr-youth-employment", "youth_employment.toml", "youth-employment", "YE", 900 / 3000, (
        Step("improved_attendance", None, 0.55, (60, 200)),
        Step("improved_behaviour", None, 0.35, (60, 240)),
        Step("first_level1", None, 0.45, (90, 300)),
        Step("first_level2", "first_level1", 0.40, (120, 300)),
        Step("employment_13w", None, 0.33, (120, 420)),
        Step("employment_26w", "employment_13w", 0.70, (91, 100)),
    )),
    ContractShape("lcr-leaving-homelessness", "leaving_homelessness.toml", "leaving-homelessness", "LH", 600 / 3000, (
        Step("assessment_1", None, 0.95, (3, 40)),
        Step("assessment_2", "assessment_1", 0.85, (30, 90)),
        Step("assessment_3", "assessment_2", 0.75, (30, 90)),
        Step("accommodation_entry", None, 0.70, (20, 160)),
        Step("accommodation_3m", "accommodation_entry", 0.80, (91, 100)),
        Step("accommodation_6m", "accommodation_3m", 0.80, (91, 100)),
        Step("accommodation_12m", "accommodation_6m", 0.75, (182, 195)),
        Step("education_entry", None, 0.40, (30, 240)),
        Step("employment_entry", None, 0.30, (60, 300)),
        Step("employment_13w_full_time", "employment_entry", 0.35, (91, 110)),
        Step("employment_13w_part_time", "employment_entry", 0.45, (91, 110), unless="employment_13w_full_time"),
    )),
    ContractShape("lcr-ageing-well", "ageing_well.toml", "ageing-well", "AW", 800 / 3000, (
        Step("wellbeing_plan", None, 0.90, (5, 75)),  # some fall after the 60-day window: rejected
        Step("loneliness_reduced_6m", "wellbeing_plan", 0.45, (170, 200)),
        Step("loneliness_sustained_12m", "loneliness_reduced_6m", 0.65, (180, 200)),
    )),
)
CONTRACT_IDS = tuple(c.contract_id for c in CONTRACTS)
MISSING_EVIDENCE_RATE = 0.004  # outcome rows sent without an evidence reference (rejected)
AGE_BANDS = {"complex-needs": ("25-34", "35-49", "50-64"), "youth-employment": ("16-17", "18-21", "22-24"),
             "leaving-homelessness": ("16-17", "18-21", "22-24"), "ageing-well": ("65-74", "75-84", "85+")}


def contract_path(shape: ContractShape) -> Path:
    return DEMO_DIR / "contracts" / shape.file


def check_size(participants: int, quarters: int) -> None:
    """Refuse sizes the demo's shape cannot hold (raises ValueError with the limits)."""
    if not 4 <= participants <= PARTICIPANTS_MAX:
        raise ValueError(f"participants must be between 4 and {PARTICIPANTS_MAX:,}, got {participants}")
    if not 4 <= quarters <= QUARTERS_MAX:
        raise ValueError(f"quarters must be between 4 and {QUARTERS_MAX} (the contracts run 2024-2026), got {quarters}")


def quarters_of(count: int) -> tuple[Period, ...]:
    out, q = [], FIRST_QUARTER
    for _ in range(count):
        out.append(q)
        q = Period.parse(_next_name(q))
    return tuple(out)


def _next_name(q: Period) -> str:
    year, number = int(q.name[:4]), int(q.name[-1])
    return f"{year + number // 4}Q{number % 4 + 1}"


def next_quarter(q: Period) -> Period:
    return Period.parse(_next_name(q))


def _rng(seed: int, what: str) -> np.random.Generator:
    """An independent stream per purpose, so adding one never shifts another."""
    digest = hashlib.sha256(f"{seed}:{what}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:8], "big")))


def scale_of(participants: int) -> Decimal:
    return Decimal(participants) / Decimal(BASE_PARTICIPANTS)


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _scaled_pence(pounds_text: str, scale: Decimal) -> int:
    pence = Decimal(pounds_text) * 100 * scale
    return max(100_00, int(pence.quantize(Decimal(1), rounding=ROUND_DOWN)) // 100_00 * 100_00)  # whole hundreds


# ---------------------------------------------------------------------------- the fund


def fund_setup(participants: int) -> dict:
    """The fund setup mapping of ``fixtures/demo/fund.toml`` with commitments scaled to the
    number of participants (rounded down to whole hundreds of pounds)."""
    data = tomllib.loads(FUND_FILE.read_text(encoding="utf-8"))
    out = copy.deepcopy(data)
    scale = scale_of(participants)
    for commitment in out["commitments"]:
        commitment["amount"] = _pounds(_scaled_pence(commitment["amount"], scale))
    return out


def commitments_pence(setup: dict) -> dict[str, list[tuple[str, int]]]:
    """Per tranche, the (investor, committed pence) in file order (the drawdown split order)."""
    by_tranche: dict[str, list[tuple[str, int]]] = {}
    for c in setup["commitments"]:
        by_tranche.setdefault(c["tranche"], []).append((c["investor"], int(Decimal(c["amount"]) * 100)))
    return by_tranche


# ---------------------------------------------------------------------------- participants and outcomes


def participant_counts(participants: int) -> dict[str, int]:
    """Participants per contract; the shares of the 3,000-participant demo, conserving the total."""
    return dict(zip(CONTRACT_IDS, allocate(participants, [round(c.share * 3000) for c in CONTRACTS])))


def participants(seed: int, total: int, quarters: int) -> dict[str, pd.DataFrame]:
    """Per contract: participant_id, start_date, cohort (start quarter), age_band[, partner].
    Starts are spread over the referral quarters (at most the first six), ordered by date."""
    check_size(total, quarters)
    counts = participant_counts(total)
    referral = quarters_of(min(quarters, REFERRAL_QUARTERS))
    first, last = referral[0].start, referral[-1].end  # [first, last)
    days = (last - first).days
    out = {}
    for shape in CONTRACTS:
        rng = _rng(seed, f"participants:{shape.contract_id}")
        n = counts[shape.contract_id]
        offsets = np.sort(rng.integers(0, days, size=n))
        starts = pd.to_datetime(first) + pd.to_timedelta(offsets, unit="D")
        frame = pd.DataFrame({
            "participant_id": [f"{shape.prefix}-{i:07d}" for i in range(1, n + 1)],
            "start_date": starts.strftime("%Y-%m-%d"),
            "cohort": [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in starts],
            "age_band": rng.choice(AGE_BANDS[shape.project], size=n),
        })
        if shape.partners:
            ids, weights = zip(*shape.partners)
            frame["partner"] = rng.choice(ids, size=n, p=np.array(weights) / sum(weights))
        out[shape.contract_id] = frame
    return out


def outcome_events(seed: int, registers: dict[str, pd.DataFrame], quarters: int) -> dict[str, pd.DataFrame]:
    """Per contract: participant_id, outcome_id, achieved_on, evidence_ref, in achievement order,
    only those achieved before the end of the last quarter. Vectorised per chain step."""
    end = pd.Timestamp(quarters_of(quarters)[-1].end)
    out = {}
    for shape in CONTRACTS:
        rng = _rng(seed, f"outcomes:{shape.contract_id}")
        register = registers[shape.contract_id]
        start = pd.to_datetime(register["start_date"]).to_numpy()
        n = len(register)
        achieved: dict[str, np.ndarray] = {}
        frames = []
        for step in shape.steps:
            base = start if step.after is None else achieved[step.after]
            ok = ~pd.isna(base) & (rng.random(n) < step.p)
            if step.unless is not None:
                ok &= pd.isna(achieved[step.unless])
            delay = rng.integers(step.days[0], step.days[1] + 1, size=n).astype("timedelta64[D]")
            when = np.where(ok, base + delay, np.datetime64("NaT"))
            achieved[step.outcome] = when
            mask = ok & (when < end.to_datetime64())
            frames.append(pd.DataFrame({"participant_id": register["participant_id"].to_numpy()[mask],
                                        "outcome_id": step.outcome, "achieved_on": when[mask]}))
        events = pd.concat(frames, ignore_index=True).sort_values(
            ["achieved_on", "outcome_id", "participant_id"], kind="stable").reset_index(drop=True)
        evidence = np.array([f"EV-{shape.prefix}-{i:08d}" for i in range(1, len(events) + 1)], dtype=object)
        evidence[rng.random(len(events)) < MISSING_EVIDENCE_RATE] = ""
        events["achieved_on"] = events["achieved_on"].dt.strftime("%Y-%m-%d")
        events["evidence_ref"] = evidence
        out[shape.contract_id] = events
    return out


def in_quarter(frame: pd.DataFrame, column: str, quarter: Period) -> pd.DataFrame:
    """Rows whose ISO date in ``column`` falls in the quarter (text compare: ISO dates sort)."""
    values = frame[column]
    return frame[(values >= quarter.start.isoformat()) & (values < quarter.end.isoformat())]


def mechanism_figures(seed: int, quarter: Period) -> str:
    """The ageing contract's baseline figures for a quarter (TOML text, as for `fuel claims
    mechanism --data`): emergency bed days of the cohort against a baseline of 3,000. The
    saving grows as the cohort settles in."""
    rng = _rng(seed, f"mechanism:{quarter.name}")
    index = (quarter.start.year - FIRST_QUARTER.start.year) * 4 + (quarter.start.month - 1) // 3
    saved = int(rng.integers(20, 80)) + 30 * min(index, 6)
    return f"# emergency bed days of the ageing well cohort in {quarter.name} (baseline 3000)\nactual_units = {3000 - saved}\n"


# ---------------------------------------------------------------------------- fund flows

CALLS = (Decimal("0.50"), Decimal("0.30"), Decimal("0.20"))  # of each commitment, quarters 1-3
# Delivery: the fund buys each project's delivery from its provider with quarterly service fees
# (an expense of the project, DESIGN.md section 6), over the eight quarters the providers work
# with their cohorts, ahead of the outcome payments that follow. Totals for the 3,000-participant
# demo, set against what each contract's outcomes are expected to pay (docs/demo.md): the three
# projects on plan cost 75-92% of their outcome payments; ageing-well costs more than twice its
# own, its baseline mechanism's bed-day savings included (billed each quarter since issue 17,
# which is why its fee rose from 550,000 to 700,000: the first-loss grant still absorbs its
# shortfall). The joint prime's partners are paid by the pass-through (docs/joint-prime.md), so its
# service fee is the prime's own delivery only.
SERVICE_FEES = {"complex-needs": "350000.00", "youth-employment": "1650000.00",
                "leaving-homelessness": "1200000.00", "ageing-well": "700000.00"}
SERVICE_FEE_PROFILE = (Decimal("0.06"), Decimal("0.10"), Decimal("0.14"), Decimal("0.16"),
                       Decimal("0.16"), Decimal("0.14"), Decimal("0.13"), Decimal("0.11"))
# Ageing-well's provider also borrowed working capital (first-loss money), repaid quarterly from
# its own income; when its outcomes fall short the fund writes 30% of what is left down.
WORKING_CAPITAL = ("ageing-well", "150000.00", "10000.00")  # project, advanced in quarter 1, repaid a quarter
WORKING_CAPITAL_GROUP = ("charitable", "first-loss", "")
WRITE_DOWN_QUARTER = 5  # 2025Q1: ageing-well is behind plan
WRITE_DOWN_SHARE = Decimal("0.30")  # of its working capital outstanding


def _row(event: str, day: date, amount_pence: int, **columns) -> dict:
    return {"event": event, "date": day.isoformat(), "fund": "lcr-blended", "amount": _pounds(amount_pence), **columns}


def _part(amount: int, fraction: Decimal) -> int:
    return int((Decimal(amount) * fraction).quantize(Decimal(1), rounding=ROUND_DOWN))


def service_fees_pence(setup: dict, index: int, participants: int) -> dict[str, int]:
    """Quarter ``index``'s service fee per project (none after quarter 8), scaled with the
    number of participants; over the eight quarters each project's total is paid exactly."""
    if index > len(SERVICE_FEE_PROFILE):
        return {}
    scale = scale_of(participants)
    out = {}
    for project, pounds in SERVICE_FEES.items():
        total = int(Decimal(pounds) * 100 * scale)
        out[project] = allocate(total, list(SERVICE_FEE_PROFILE))[index - 1]
    return out


def working_capital_pence(participants: int) -> tuple[int, int]:
    """(advance, quarterly repayment) of ageing-well's working capital loan, scaled."""
    scale = scale_of(participants)
    return (int(Decimal(WORKING_CAPITAL[1]) * 100 * scale), int(Decimal(WORKING_CAPITAL[2]) * 100 * scale))


def flow_rows(setup: dict, index: int, participants: int = BASE_PARTICIPANTS,
              working_capital_outstanding_pence: int = 0) -> list[dict]:
    """Quarter ``index`` (1 = 2024Q1): capital calls and receipts (quarters 1-3), the junior
    money moved to its restrictions as it arrives, ageing-well's working capital (advanced in
    quarter 1, repaid from quarter 2, 30% of what is left written down in quarter 5). Service
    fees, the management fee and distributions depend on the cash at the time: the shell adds
    them (:func:`service_fees_pence`)."""
    q = quarters_of(index)[-1]
    rows: list[dict] = []
    if index <= len(CALLS):
        notice_day, paid_day = q.start + timedelta(days=7), q.start + timedelta(days=21)
        for tranche, commitments in commitments_pence(setup).items():
            total = sum(a for _, a in commitments)
            call = _part(total, CALLS[index - 1]) if index < len(CALLS) else total - sum(
                _part(total, f) for f in CALLS[:-1])
            rows.append(_row("drawdown_notice", notice_day, call, tranche=tranche,
                             description=f"Capital call {index} ({tranche})"))
            for (investor, _), share in zip(commitments, allocate(call, [a for _, a in commitments])):
                rows.append(_row("drawdown_received", paid_day, share, tranche=tranche, investor=investor))
                if investor == "dockside-trust":
                    half = share // 2
                    for restriction, amount in (("trust-youth", half), ("trust-homelessness", share - half)):
                        rows.append(_row("transfer", paid_day, amount, source="charitable", tranche="junior",
                                         to_source="charitable", to_tranche="junior", to_restriction=restriction,
                                         reason="Dockside Trust terms: youth employment and homelessness only"))
                if investor == "lcr-combined":
                    rows.append(_row("transfer", paid_day, share, source="public", tranche="junior", to_source="public",
                                     to_tranche="junior", to_restriction="lcr-region",
                                     reason="Combined Authority terms: projects in the city region only"))
    project, _, _ = WORKING_CAPITAL
    advance, repayment = working_capital_pence(participants)
    source, tranche, restriction = WORKING_CAPITAL_GROUP
    if index == 1:
        rows.append(_row("disbursement", q.start + timedelta(days=45), advance, project=project, source=source,
                         tranche=tranche, restriction=restriction, form="working_capital",
                         description=f"Working capital loan to {project}"))
    elif working_capital_outstanding_pence > 0:
        if index == WRITE_DOWN_QUARTER:
            rows.append(_row("valuation_change", q.last_day, _part(working_capital_outstanding_pence, WRITE_DOWN_SHARE),
                             project=project, form="write_down", instrument="working_capital",
                             description="Ageing well behind plan: 30% of its working capital written down"))
        else:
            rows.append(_row("repayment", q.start + timedelta(days=60),
                             min(repayment, working_capital_outstanding_pence), project=project,
                             form="working_capital", description=f"Working capital repaid by {project}"))
    return rows


def management_fee_pence(setup: dict) -> int:
    """The quarter's management fee: 1.5% a year of total commitments, a quarter of it."""
    total = sum(a for commitments in commitments_pence(setup).values() for _, a in commitments)
    return _part(total, Decimal("0.015") / 4)


DISTRIBUTION_QUARTERS = (4, 6, 8, 10, 12)
DISTRIBUTION_SHARE = Decimal("0.60")  # of unrestricted cash above the reserve (fees and delivery ahead)


FLOW_COLUMNS = ("event", "date", "fund", "amount", "tranche", "investor", "payer", "project", "source", "restriction",
                "form", "instrument", "interest", "manager", "to_source", "to_tranche", "to_restriction", "reason",
                "description")


def flows_csv(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows, columns=list(FLOW_COLUMNS)).fillna("")
    return frame.to_csv(index=False, lineterminator="\n")
