"""The claim run: price accepted outcome events, apply caps, split each line among payers.

Pure, set-based functions over pandas frames (no loop per event); money columns are int64
pence. Re-running with the same inputs gives identical frames: every sort is stable and ends
on ``row_number``.

Claim order (DESIGN.md section 5). Lines are applied in order of achievement date, then outcome
id, then participant id (then row number, so the order is total). Caps are applied in this
order, each to what the previous one left:

1. ``participant_cap``: the contract's most per participant;
2. ``outcome_count_cap``: the most lines paid per outcome (a line counts when something is
   still payable on it after the participant cap);
3. ``outcome_value_cap``: the most paid per outcome;
4. ``contract_cap``: the most paid under the contract;
5. ``payer_cap``: each payer's own most, applied by :func:`split_payers`.

A cap truncates the line that crosses it; later lines in its group pay zero. Every reduced line
has ``cap_reason == "cap"`` and ``cap_applied`` naming the caps that reduced it (in the order
above, ``;``-separated), and one ``reduction_<cap>_pence`` column per cap. Headroom is
cumulative across claim runs: :class:`PriorPaid` carries what earlier runs paid.

Mechanism lines (``ledger/pbr/mechanism_claims.py``: outcome id ``mechanism:<index>:<kind>``,
no participant) are priced by their mechanism, not the rate card; the participant cap and the
per-outcome caps do not apply to them, the contract cap and the payer caps do, in the same claim
order, so rate-card and mechanism lines share one contract headroom.

Payer split. Each payer with a fixed share gets ``round_minor(net * share)`` with the
contract's rounding mode, in the contract's payer order, but never more than the payers before
it left of the line (shares adding up to 100% could otherwise round past it); the one payer without a share takes the remainder
(``net - sum(fixed shares)``), so the shares of a line add up to its net to the penny. Then each
payer's cap is applied in claim order, truncating that payer's share; what a payer cap cuts is
not paid by anyone else, and the line's net falls by it. Headroom that a payer cap frees in the
other caps is not handed to later lines in the same run (caps are never exceeded; a later run
sees the true cumulative paid through :class:`PriorPaid`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

import numpy as np
import pandas as pd

from ledger.errors import InvariantBroken, ValidationError
from ledger.money import ROUNDING_MODES
from ledger.pbr.contracts import Contract, indexed_price_pence
from ledger.pbr.eligibility import REASONS
from ledger.pbr.mechanism_claims import PREFIX as MECHANISM_PREFIX

PARTICIPANT_CAP = "participant_cap"
OUTCOME_COUNT_CAP = "outcome_count_cap"
OUTCOME_VALUE_CAP = "outcome_value_cap"
CONTRACT_CAP = "contract_cap"
PAYER_CAP = "payer_cap"
#: Caps in the order they are applied.
CAP_KINDS = (PARTICIPANT_CAP, OUTCOME_COUNT_CAP, OUTCOME_VALUE_CAP, CONTRACT_CAP, PAYER_CAP)
CAP_REASON = "cap"

CLAIM_ORDER = ("achieved_on", "outcome_id", "participant_id", "row_number")


def reduction_column(cap_kind: str) -> str:
    return f"reduction_{cap_kind}_pence"


def share_column(payer_id: str) -> str:
    return f"share_{payer_id}_pence"


def payer_reduction_column(payer_id: str) -> str:
    return f"payer_cap_reduction_{payer_id}_pence"


# --------------------------------------------------------------------------------------------
# What earlier claim runs paid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorPaid:
    """Paid in earlier claim runs of the same contract, so caps are cumulative.

    ``by_participant``: participant_id -> paid pence; ``by_outcome_pence`` and
    ``by_outcome_count``: outcome_id -> paid pence / lines paid; ``by_payer``: payer_id ->
    paid pence.
    """

    by_participant: Mapping[str, int] = field(default_factory=dict)
    by_outcome_pence: Mapping[str, int] = field(default_factory=dict)
    by_outcome_count: Mapping[str, int] = field(default_factory=dict)
    contract_pence: int = 0
    by_payer: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_lines(cls, lines: pd.DataFrame, contract: Contract) -> "PriorPaid":
        """What a finished claim run (output of :func:`split_payers`) paid."""
        return cls().plus_lines(lines, contract)

    def plus_lines(self, lines: pd.DataFrame, contract: Contract) -> "PriorPaid":
        """This prior plus a finished claim run, to carry into the next run."""
        paid = lines[lines["net_pence"] > 0]
        people = paid[~mechanism_mask(paid)]
        by_participant = _add(self.by_participant, people.groupby("participant_id")["net_pence"].sum())
        by_outcome_pence = _add(self.by_outcome_pence, paid.groupby("outcome_id")["net_pence"].sum())
        by_outcome_count = _add(self.by_outcome_count, paid.groupby("outcome_id")["net_pence"].size())
        by_payer = dict(self.by_payer)
        for payer in contract.payers:
            column = share_column(payer.payer_id)
            if column in lines.columns:
                by_payer[payer.payer_id] = by_payer.get(payer.payer_id, 0) + int(lines[column].sum())
        return PriorPaid(
            by_participant=by_participant,
            by_outcome_pence=by_outcome_pence,
            by_outcome_count=by_outcome_count,
            contract_pence=self.contract_pence + int(paid["net_pence"].sum()),
            by_payer=by_payer,
        )


def mechanism_mask(lines: pd.DataFrame) -> np.ndarray:
    """True for a mechanism line (its outcome id says so: contract outcome ids have no ``:``)."""
    return lines["outcome_id"].astype(str).str.startswith(MECHANISM_PREFIX).to_numpy(dtype=bool)


def mechanism_lines(parts: pd.DataFrame) -> pd.DataFrame:
    """Priced lines for mechanism payments, ready for :func:`apply_caps` beside rate-card lines.

    ``parts`` has row_number, outcome_id (``mechanism:<index>:<kind>``), achieved_on,
    evidence_ref (the part's label) and payment_pence (what the mechanism pays for the part).
    """
    lines = parts.drop(columns=["payment_pence"]).copy()
    lines["participant_id"] = ""
    lines["achieved_on"] = _as_dates(lines["achieved_on"])
    lines["accepted"] = True
    lines["reason"] = ""
    lines["rate_card_version"] = None
    lines["price_pence"] = parts["payment_pence"].to_numpy(dtype=np.int64)
    lines["gross_pence"] = parts["payment_pence"].to_numpy(dtype=np.int64)
    return lines


def _add(base: Mapping[str, int], more: pd.Series) -> dict[str, int]:
    out = dict(base)
    for key, value in more.items():
        out[str(key)] = out.get(str(key), 0) + int(value)
    return out


# --------------------------------------------------------------------------------------------
# Pricing
# --------------------------------------------------------------------------------------------


def _as_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    return pd.to_datetime(values.astype("string"), format="%Y-%m-%d").astype("datetime64[ns]")


def price_events(events: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Price every event from the rate card version in force on its achievement date.

    ``events`` needs participant_id, outcome_id, achieved_on; ``accepted``/``reason`` (from
    :func:`ledger.pbr.eligibility.validate_events`) are kept, and default to accepted.
    Adds ``rate_card_version``, ``price_pence`` (the indexed unit price; 0 where the outcome is
    not priced that day) and ``gross_pence`` (the price for accepted lines, else 0).
    """
    lines = events.copy()
    n = len(lines)
    if "row_number" not in lines.columns:
        lines["row_number"] = np.arange(1, n + 1)
    if "accepted" not in lines.columns:
        lines["accepted"] = True
    if "reason" not in lines.columns:
        lines["reason"] = ""
    lines["achieved_on"] = _as_dates(lines["achieved_on"])
    achieved = lines["achieved_on"].to_numpy()

    versions = contract.rate_cards
    outcome_ids = list(contract.outcome_ids)
    v_from = np.array([np.datetime64(v.effective_from, "ns") for v in versions])
    v_to = np.array([np.datetime64(v.effective_to, "ns") if v.effective_to else np.datetime64("NaT") for v in versions])
    v_idx = np.searchsorted(v_from, achieved, side="right") - 1
    safe_v = np.clip(v_idx, 0, len(versions) - 1)
    in_version = (v_idx >= 0) & (np.isnat(v_to[safe_v]) | (achieved < v_to[safe_v]))
    o_idx = pd.Index(outcome_ids).get_indexer(lines["outcome_id"].astype(object)).astype(np.int64)

    base = np.full((len(versions), len(outcome_ids)), -1, dtype=np.int64)
    for v, version in enumerate(versions):
        for price in version.prices:
            base[v, outcome_ids.index(price.outcome_id)] = price.price_pence
    safe_o = np.clip(o_idx, 0, None)
    base_pence = np.where(in_version & (o_idx >= 0), base[safe_v, safe_o], -1)
    priced = base_pence >= 0

    # Whole years since each version's indexation base date (0 before it, 0 if none).
    years = np.zeros(n, dtype=np.int64)
    if any(v.indexation for v in versions):
        day = lines["achieved_on"]
        year, month_day = day.dt.year.to_numpy(), (day.dt.month * 100 + day.dt.day).to_numpy()
        base_year = np.array([v.indexation.base_date.year if v.indexation else 0 for v in versions])[safe_v]
        base_md = np.array(
            [v.indexation.base_date.month * 100 + v.indexation.base_date.day if v.indexation else 0 for v in versions]
        )[safe_v]
        has_index = np.array([v.indexation is not None for v in versions])[safe_v]
        years = np.where(has_index, np.maximum(year - base_year - (month_day < base_md), 0), 0)

    # Indexed prices are computed once per distinct (version, outcome, years), in Decimal.
    price = np.zeros(n, dtype=np.int64)
    if priced.any():
        n_outcomes, max_years = len(outcome_ids), int(years.max()) + 1
        key = (safe_v * n_outcomes + safe_o) * max_years + years
        unique_keys, inverse = np.unique(key[priced], return_inverse=True)
        unit = np.empty(len(unique_keys), dtype=np.int64)
        for i, k in enumerate(unique_keys.tolist()):
            vo, y = divmod(k, max_years)
            v, o = divmod(vo, n_outcomes)
            unit[i] = indexed_price_pence(int(base[v, o]), versions[v].indexation, y, contract.rounding)
        price[priced] = unit[inverse]

    version_names = np.array([v.version for v in versions], dtype=object)
    lines["rate_card_version"] = np.where(in_version, version_names[safe_v], None)
    lines["price_pence"] = price
    lines["gross_pence"] = np.where(lines["accepted"].to_numpy(dtype=bool), price, 0).astype(np.int64)
    return lines


# --------------------------------------------------------------------------------------------
# Caps
# --------------------------------------------------------------------------------------------


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integer codes that sort like the values (text compared as text)."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_integer_dtype(values):
        return values.to_numpy()
    as_text = values.astype(object)
    uniques = pd.unique(as_text)
    # Few distinct values (outcome ids): a categorical lookup beats sorting every line's text.
    if len(uniques) * 100 < len(values):
        categories = sorted(uniques, key=str)
        return pd.Categorical(as_text, categories=categories).codes.astype(np.int64)
    return pd.factorize(as_text, sort=True)[0]


def _claim_sorted(lines: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Lines in claim order, with participant and outcome group codes for the sorted lines."""
    if "claim_rank" in lines.columns:
        # Already put in claim order by apply_caps: keep that order (cheap integer sort).
        rank = lines["claim_rank"].to_numpy()
        ordered = lines if (np.diff(rank) > 0).all() else lines.iloc[np.argsort(rank, kind="stable")]
        ordered = ordered.reset_index(drop=True)
        return ordered, _codes(ordered["participant_id"]), _codes(ordered["outcome_id"])
    keys = [_sort_codes(lines[column]) for column in CLAIM_ORDER]
    order = np.lexsort(tuple(reversed(keys)))
    ordered = lines.iloc[order].reset_index(drop=True)
    ordered["claim_rank"] = np.arange(len(ordered), dtype=np.int64)
    return ordered, keys[2][order], keys[1][order]


def claim_order(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines sorted by achievement date, outcome id, participant id, row number."""
    return _claim_sorted(lines)[0]


def _lookup_pence(values: pd.Series, mapping: Mapping[str, int]) -> np.ndarray:
    """``mapping[value]`` per line (0 when absent), via one hash join, not a call per line."""
    if not mapping:
        return np.zeros(len(values), dtype=np.int64)
    keys = pd.Index([str(k) for k in mapping])
    amounts = np.append(np.array([int(v) for v in mapping.values()], dtype=np.int64), 0)
    position = keys.get_indexer(values.astype(object))
    return amounts[np.where(position < 0, len(keys), position)]


def _truncate(amount: np.ndarray, group: np.ndarray | None, headroom: np.ndarray) -> np.ndarray:
    """Pay each line up to the headroom left in its group, in line order.

    ``headroom`` is per line (the group's headroom before this run). Paid =
    ``clip(headroom - paid_before_in_group, 0, amount)``: before the cap binds this is the
    full amount, the crossing line is truncated and every later line gets zero.
    """
    if group is None:
        before = np.cumsum(amount) - amount
    else:
        before = pd.Series(amount).groupby(group, sort=False).cumsum().to_numpy() - amount
    return np.clip(headroom - before, 0, amount)


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values.astype(object), sort=False)[0]


def apply_caps(lines: pd.DataFrame, contract: Contract, prior: PriorPaid | None = None) -> pd.DataFrame:
    """Apply the participant, outcome count, outcome value and contract caps in claim order.

    ``lines`` is the output of :func:`price_events`. Returns the lines in claim order with a
    ``reduction_<cap>_pence`` column per cap kind, ``net_pence``, ``cap_reason``,
    ``cap_applied``, ``participant_paid_cum_pence`` and ``participant_headroom_pence`` (the
    participant's cumulative paid and what is left under the per-participant cap after the
    line; ``<NA>`` when there is no such cap).
    """
    prior = prior or PriorPaid()
    out, pid_codes, oid_codes = _claim_sorted(lines)
    amount = out["gross_pence"].to_numpy(dtype=np.int64).copy()
    pid, oid = out["participant_id"], out["outcome_id"]
    reductions: dict[str, np.ndarray] = {}

    mechanism = mechanism_mask(out)
    # 1. Per participant (rate-card lines only: a mechanism line has no participant).
    if contract.participant_cap_pence is not None:
        already = _lookup_pence(pid, prior.by_participant)
        headroom = np.maximum(contract.participant_cap_pence - already, 0)
        paid = np.where(mechanism, amount, _truncate(np.where(mechanism, 0, amount), pid_codes, headroom))
    else:
        paid = amount
    reductions[PARTICIPANT_CAP], amount = amount - paid, paid

    # 2. Per outcome, count: the k-th line still payable is paid only while k < cap - prior.
    count_cap = {o.outcome_id: o.count_cap for o in contract.outcomes if o.count_cap is not None}
    if count_cap:
        capped = oid.isin(list(count_cap)).to_numpy()
        cap = _lookup_pence(oid, count_cap)
        already = _lookup_pence(oid, prior.by_outcome_count)
        payable = (amount > 0).astype(np.int64)
        rank = pd.Series(payable).groupby(oid_codes, sort=False).cumsum().to_numpy() - payable
        over = (payable == 1) & capped & (already + rank >= cap)
        paid = np.where(over, 0, amount)
    else:
        paid = amount
    reductions[OUTCOME_COUNT_CAP], amount = amount - paid, paid

    # 3. Per outcome, value.
    value_cap = {o.outcome_id: o.value_cap_pence for o in contract.outcomes if o.value_cap_pence is not None}
    if value_cap:
        capped = oid.isin(list(value_cap)).to_numpy()
        cap = _lookup_pence(oid, value_cap)
        already = _lookup_pence(oid, prior.by_outcome_pence)
        headroom = np.where(capped, np.maximum(cap - already, 0), np.iinfo(np.int64).max // 4)
        paid = _truncate(amount, oid_codes, headroom)
    else:
        paid = amount
    reductions[OUTCOME_VALUE_CAP], amount = amount - paid, paid

    # 4. Whole contract.
    if contract.contract_cap_pence is not None:
        headroom = np.full(len(amount), max(contract.contract_cap_pence - prior.contract_pence, 0), dtype=np.int64)
        paid = _truncate(amount, None, headroom)
    else:
        paid = amount
    reductions[CONTRACT_CAP], amount = amount - paid, paid
    reductions[PAYER_CAP] = np.zeros(len(amount), dtype=np.int64)

    for kind in CAP_KINDS:
        out[reduction_column(kind)] = reductions[kind].astype(np.int64)
    out["net_pence"] = amount.astype(np.int64)
    _label_caps(out)
    _participant_running(out, contract, prior, pid_codes)
    return out


#: ``cap_applied`` text for each combination of caps (bit k set = CAP_KINDS[k] reduced the line).
_CAP_LABELS = np.array(
    [";".join(kind for k, kind in enumerate(CAP_KINDS) if mask >> k & 1) for mask in range(2 ** len(CAP_KINDS))],
    dtype=object,
)


def _label_caps(out: pd.DataFrame) -> None:
    mask = np.zeros(len(out), dtype=np.int64)
    for k, kind in enumerate(CAP_KINDS):
        mask |= (out[reduction_column(kind)].to_numpy() > 0).astype(np.int64) << k
    out["cap_applied"] = _CAP_LABELS[mask]
    out["cap_reason"] = np.where(mask > 0, CAP_REASON, "").astype(object)


def _participant_running(out: pd.DataFrame, contract: Contract, prior: PriorPaid, pid_codes: np.ndarray) -> None:
    already = _lookup_pence(out["participant_id"], prior.by_participant)
    net = out["net_pence"].to_numpy(dtype=np.int64)
    cumulative = already + pd.Series(net).groupby(pid_codes, sort=False).cumsum().to_numpy()
    _set_running(out, contract, cumulative)


def _set_running(out: pd.DataFrame, contract: Contract, cumulative: np.ndarray) -> None:
    # A mechanism line has no participant: nothing runs up, no headroom.
    mechanism = mechanism_mask(out)
    out["participant_paid_cum_pence"] = np.where(mechanism, 0, cumulative).astype(np.int64)
    if contract.participant_cap_pence is None:
        out["participant_headroom_pence"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        headroom = pd.array(contract.participant_cap_pence - cumulative, dtype="Int64")
        headroom[mechanism] = pd.NA
        out["participant_headroom_pence"] = headroom


# --------------------------------------------------------------------------------------------
# Payer split
# --------------------------------------------------------------------------------------------


def round_ratio_pence(values: np.ndarray, numerator: int, denominator: int, mode: str) -> np.ndarray:
    """``values * numerator / denominator`` rounded with a named mode, exactly, for arrays.

    Integer arithmetic gives the same answer as :func:`ledger.money.round_minor` on the exact
    quotient (tested), without a Decimal per line. Falls back to Python ints if int64 could
    overflow.
    """
    if mode not in ROUNDING_MODES:
        raise ValidationError(f"unknown rounding mode {mode!r}", field="rounding")
    if denominator <= 0:
        raise InvariantBroken("round_ratio_pence needs a positive denominator")
    magnitude = np.abs(values.astype(np.int64))
    biggest = int(magnitude.max()) if len(magnitude) else 0
    if biggest * abs(numerator) * 2 + denominator >= 2**62:
        magnitude = magnitude.astype(object)
    sign = np.where(values < 0, -1, 1)
    scaled = magnitude * abs(numerator)
    floor, remainder = scaled // denominator, scaled % denominator
    if mode == "down":
        rounded = floor
    elif mode == "half_up":
        rounded = floor + (2 * remainder >= denominator)
    else:  # half_even
        rounded = floor + ((2 * remainder > denominator) | ((2 * remainder == denominator) & (floor % 2 == 1)))
    sign = sign * (1 if numerator >= 0 else -1)
    return (sign * rounded).astype(np.int64)


def split_payers(lines: pd.DataFrame, contract: Contract, prior_by_payer: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Split each line's net among the payers, then apply each payer's cap in claim order.

    Adds ``share_<payer>_pence`` (what each payer pays on the line, after its cap) and
    ``payer_cap_reduction_<payer>_pence``; fills ``reduction_payer_cap_pence``; lowers
    ``net_pence`` by what payer caps cut, and refreshes the participant running totals.
    """
    prior_by_payer = prior_by_payer or {}
    out, pid_codes, _ = _claim_sorted(lines)
    net = out["net_pence"].to_numpy(dtype=np.int64)
    shares: dict[str, np.ndarray] = {}
    fixed_total = np.zeros(len(out), dtype=np.int64)
    for payer in contract.payers:
        if payer.share is not None:
            numerator, denominator = Decimal(payer.share).as_integer_ratio()
            # Rounded shares that add up to the whole line (e.g. 50% + 50% of 1p, half up) could
            # exceed it: a fixed share never takes more than what the payers before it left.
            rounded = round_ratio_pence(net, numerator, denominator, contract.rounding)
            shares[payer.payer_id] = np.minimum(rounded, net - fixed_total)
            fixed_total += shares[payer.payer_id]
    remainder = contract.remainder_payer
    shares[remainder.payer_id] = net - fixed_total
    if (shares[remainder.payer_id] < 0).any():
        raise InvariantBroken("fixed payer shares exceed a line's net")

    cut_total = np.zeros(len(out), dtype=np.int64)
    for payer in contract.payers:
        share = shares[payer.payer_id]
        if payer.cap_pence is not None:
            headroom = np.full(len(out), max(payer.cap_pence - int(prior_by_payer.get(payer.payer_id, 0)), 0))
            paid = _truncate(share, None, headroom.astype(np.int64))
        else:
            paid = share
        cut = share - paid
        cut_total += cut
        out[share_column(payer.payer_id)] = paid.astype(np.int64)
        out[payer_reduction_column(payer.payer_id)] = cut.astype(np.int64)

    out[reduction_column(PAYER_CAP)] = cut_total
    out["net_pence"] = net - cut_total
    shares_sum = sum(out[share_column(p.payer_id)].to_numpy() for p in contract.payers)
    if not np.array_equal(shares_sum, out["net_pence"].to_numpy()):
        raise InvariantBroken("payer shares do not add up to the line net")
    _label_caps(out)
    return _refresh_participant(out, contract, pid_codes)


def _refresh_participant(out: pd.DataFrame, contract: Contract, codes: np.ndarray) -> pd.DataFrame:
    # The running totals were set by apply_caps from its prior; rebuild them from the new net,
    # keeping that prior (cumulative before this run = first running total - first net before).
    old_net = out["net_pence"].to_numpy() + out[reduction_column(PAYER_CAP)].to_numpy()
    old_cum = out["participant_paid_cum_pence"].to_numpy(dtype=np.int64)
    old_before = old_cum - pd.Series(old_net).groupby(codes, sort=False).cumsum().to_numpy()
    net = out["net_pence"].to_numpy(dtype=np.int64)
    cumulative = old_before + pd.Series(net).groupby(codes, sort=False).cumsum().to_numpy()
    _set_running(out, contract, cumulative)
    return out


def run_claim(
    events: pd.DataFrame, contract: Contract, prior: PriorPaid | None = None,
    mechanism_parts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pricing, caps and payer split in one call (the stages in order). ``mechanism_parts``
    (see :func:`mechanism_lines`) join the rate-card lines before the caps."""
    prior = prior or PriorPaid()
    lines = price_events(events, contract) if len(events) else None
    if mechanism_parts is not None and len(mechanism_parts):
        extra = mechanism_lines(mechanism_parts)
        lines = extra if lines is None else pd.concat([lines, extra[[c for c in lines.columns if c in extra.columns]]],
                                                      ignore_index=True)
    if lines is None:
        lines = price_events(events, contract)
    lines = apply_caps(lines, contract, prior)
    return split_payers(lines, contract, prior.by_payer)


# --------------------------------------------------------------------------------------------
# Summary for the outcome payment statement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSummary:
    by_outcome: pd.DataFrame
    participants: pd.DataFrame
    outcomes: pd.DataFrame
    payers: pd.DataFrame
    contract: pd.DataFrame


def summarise(
    lines: pd.DataFrame,
    contract: Contract,
    prior: PriorPaid | None = None,
) -> ClaimSummary:
    """Per outcome (and rate card version and unit price): count claimed, validated, rejected
    by reason, unit price, gross, cap reductions, net; and headroom per participant, outcome,
    payer and the contract, cumulative with ``prior``.
    """
    prior = prior or PriorPaid()
    frame = lines.copy()
    frame["rate_card_version"] = frame["rate_card_version"].fillna("")
    keys = ["outcome_id", "rate_card_version", "price_pence"]
    grouped = frame.groupby(keys, sort=True, dropna=False)
    by_outcome = grouped.agg(
        count_claimed=("accepted", "size"),
        count_validated=("accepted", "sum"),
        gross_pence=("gross_pence", "sum"),
        net_pence=("net_pence", "sum"),
    )
    by_outcome["count_rejected"] = by_outcome["count_claimed"] - by_outcome["count_validated"]
    for code in REASONS:
        by_outcome[f"rejected_{code}"] = (frame["reason"] == code).groupby([frame[k] for k in keys]).sum()
    for kind in CAP_KINDS:
        by_outcome[reduction_column(kind)] = grouped[reduction_column(kind)].sum()
    by_outcome["cap_reductions_pence"] = by_outcome[[reduction_column(k) for k in CAP_KINDS]].sum(axis=1)
    by_outcome["count_paid"] = (frame["net_pence"] > 0).groupby([frame[k] for k in keys]).sum()
    by_outcome = by_outcome.reset_index().rename(columns={"price_pence": "unit_price_pence"})
    money = ["unit_price_pence", "gross_pence", "net_pence", "cap_reductions_pence"] + [
        reduction_column(k) for k in CAP_KINDS
    ]
    by_outcome[money] = by_outcome[money].astype(np.int64)
    by_outcome = by_outcome[
        ["outcome_id", "rate_card_version", "unit_price_pence", "count_claimed", "count_validated", "count_rejected"]
        + [f"rejected_{code}" for code in REASONS]
        + ["count_paid", "gross_pence"]
        + [reduction_column(k) for k in CAP_KINDS]
        + ["cap_reductions_pence", "net_pence"]
    ]

    after = prior.plus_lines(lines, contract)

    people = frame[~mechanism_mask(frame)]
    participant_ids = sorted(set(people["participant_id"].astype(str)) | set(prior.by_participant))
    participants = pd.DataFrame({"participant_id": participant_ids})
    participants["prior_paid_pence"] = _lookup(participant_ids, prior.by_participant)
    participants["paid_pence"] = _lookup(participant_ids, after.by_participant) - participants["prior_paid_pence"]
    participants["cumulative_paid_pence"] = _lookup(participant_ids, after.by_participant)
    participants["cap_pence"] = pd.array([contract.participant_cap_pence] * len(participant_ids), dtype="Int64")
    participants["headroom_pence"] = participants["cap_pence"] - participants["cumulative_paid_pence"]

    outcome_rows = []
    for outcome in contract.outcomes:
        o = outcome.outcome_id
        outcome_rows.append(
            {
                "outcome_id": o,
                "paid_count": after.by_outcome_count.get(o, 0) - prior.by_outcome_count.get(o, 0),
                "cumulative_count": after.by_outcome_count.get(o, 0),
                "count_cap": outcome.count_cap,
                "paid_pence": after.by_outcome_pence.get(o, 0) - prior.by_outcome_pence.get(o, 0),
                "cumulative_paid_pence": after.by_outcome_pence.get(o, 0),
                "value_cap_pence": outcome.value_cap_pence,
            }
        )
    outcomes = pd.DataFrame(outcome_rows)
    for column in ("count_cap", "value_cap_pence"):
        outcomes[column] = pd.array(outcomes[column].tolist(), dtype="Int64")
    outcomes["count_headroom"] = outcomes["count_cap"] - outcomes["cumulative_count"]
    outcomes["value_headroom_pence"] = outcomes["value_cap_pence"] - outcomes["cumulative_paid_pence"]

    payer_rows = []
    for payer in contract.payers:
        p = payer.payer_id
        payer_rows.append(
            {
                "payer_id": p,
                "name": payer.name,
                "share": str(payer.share) if payer.share is not None else "remainder",
                "paid_pence": after.by_payer.get(p, 0) - prior.by_payer.get(p, 0),
                "cumulative_paid_pence": after.by_payer.get(p, 0),
                "cap_pence": payer.cap_pence,
                "cap_reductions_pence": int(lines[payer_reduction_column(p)].sum())
                if payer_reduction_column(p) in lines.columns
                else 0,
            }
        )
    payers = pd.DataFrame(payer_rows)
    payers["cap_pence"] = pd.array(payers["cap_pence"].tolist(), dtype="Int64")
    payers["headroom_pence"] = payers["cap_pence"] - payers["cumulative_paid_pence"]

    contract_frame = pd.DataFrame(
        [
            {
                "contract_id": contract.contract_id,
                "paid_pence": after.contract_pence - prior.contract_pence,
                "cumulative_paid_pence": after.contract_pence,
                "cap_pence": contract.contract_cap_pence,
            }
        ]
    )
    contract_frame["cap_pence"] = pd.array(contract_frame["cap_pence"].tolist(), dtype="Int64")
    contract_frame["headroom_pence"] = contract_frame["cap_pence"] - contract_frame["cumulative_paid_pence"]
    return ClaimSummary(by_outcome, participants, outcomes, payers, contract_frame)


def _lookup(keys: list[str], values: Mapping[str, int]) -> np.ndarray:
    return np.array([int(values.get(k, 0)) for k in keys], dtype=np.int64)
