"""Eligibility: which outcome events a contract will pay for, and why the others are rejected.

Pure and set-based: every rule is a vectorised pandas operation over the whole events frame.
The only Python loops are over the contract's prerequisite levels and required outcome ids
(a handful), never over events.

Each event gets ``accepted`` (bool) and ``reason`` (``""`` when accepted, else one code from
:data:`REASONS`). When several rules fail, the reason is the first in this order:

1. row rules, each looking at one event alone: ``unknown_participant``, ``unknown_outcome``,
   ``outside_term``, ``referral_window``, ``outside_window``, ``evidence_missing``,
   ``after_deadline``;
2. rules that depend on other events, applied level by level of the prerequisite chain
   (outcomes with no prerequisite first, then those needing them, ...), and within a level in
   claim order (achievement date, outcome id, participant id, row number):
   ``prerequisite_missing``, then ``already_claimed``, then ``mutually_exclusive``.

So a prerequisite counts only if it was itself accepted (in this file or earlier runs) on or
before the dependent outcome's date; and a rejected event never blocks a later one.
Mutually exclusive outcomes: the first outcome of a group a participant is accepted for (earlier
runs first, then lower prerequisite levels, then claim order) wins; other outcomes of the group
are rejected for that participant. Repeats of the winning outcome are governed by ``once_only``.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

import numpy as np
import pandas as pd

from ledger.errors import ImportRejected, ValidationError
from ledger.pbr.contracts import Contract
from ledger.periods import DATE_MAX, DATE_MIN

UNKNOWN_PARTICIPANT = "unknown_participant"
UNKNOWN_OUTCOME = "unknown_outcome"
OUTSIDE_TERM = "outside_term"
REFERRAL_WINDOW = "referral_window"
OUTSIDE_WINDOW = "outside_window"
EVIDENCE_MISSING = "evidence_missing"
AFTER_DEADLINE = "after_deadline"
PREREQUISITE_MISSING = "prerequisite_missing"
ALREADY_CLAIMED = "already_claimed"
MUTUALLY_EXCLUSIVE = "mutually_exclusive"

#: Reason codes in the order they are tested, with what each means.
REASONS: Mapping[str, str] = {
    UNKNOWN_PARTICIPANT: "participant id is not in the participant register",
    UNKNOWN_OUTCOME: "outcome id is not in the contract, or not priced by the rate card in force that day",
    OUTSIDE_TERM: "achieved before the contract start or on/after its end",
    REFERRAL_WINDOW: "participant started outside the contract's referral window",
    OUTSIDE_WINDOW: "achieved before the participant's start or more than the outcome's max days after it",
    EVIDENCE_MISSING: "the outcome needs an evidence reference and none was given",
    AFTER_DEADLINE: "submitted after the claim deadline for the achievement's quarter",
    PREREQUISITE_MISSING: "a required earlier outcome was not accepted on or before this date",
    ALREADY_CLAIMED: "once-only outcome claimed before, or the same participant/outcome/date twice",
    MUTUALLY_EXCLUSIVE: "participant already has another outcome of the same exclusive group",
}

EVENT_COLUMNS = ("participant_id", "outcome_id", "achieved_on", "evidence_ref", "row_number")
PARTICIPANT_COLUMNS = ("participant_id", "start_date")

#: At most this many problems are listed when a file is rejected; the rest are counted.
PROBLEMS_SHOWN_MAX = 200


def _row_numbers(frame: pd.DataFrame) -> pd.Series:
    """``row_number`` if the frame has it, else the CSV line number (header is line 1)."""
    if "row_number" in frame.columns:
        return frame["row_number"]
    return pd.Series(np.arange(2, len(frame) + 2), index=frame.index)


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates (text, date or Timestamp) to datetime64; anything else becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize().astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    # Exact ISO only (YYYY-MM-DD): 03/04/2026 means different days in the UK and the US.
    iso = text.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    # Plausible dates only (ledger/periods.py); ISO text compares in date order.
    iso &= ((text >= DATE_MIN.isoformat()) & (text <= DATE_MAX.isoformat())).fillna(False).astype(bool)
    parsed = pd.to_datetime(text.where(iso), format="%Y-%m-%d", errors="coerce")
    return parsed.astype("datetime64[ns]")


def _ids(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.where(text.str.len() > 0)


def _reject(source_name: str, what: str, problems: list[str], total: int) -> ImportRejected:
    shown = problems[:PROBLEMS_SHOWN_MAX]
    if total > len(shown):
        shown.append(f"{source_name}: ... and {total - len(shown)} more problems")
    return ImportRejected(f"{source_name}: {what} rejected ({total} problem{'s' if total != 1 else ''})", shown)


def _missing_columns(frame: pd.DataFrame, required: tuple[str, ...], source_name: str) -> list[str]:
    return [f"{source_name}: missing column {col!r}" for col in required if col not in frame.columns]


def validate_participants(participants: pd.DataFrame, source_name: str = "participants.csv") -> pd.DataFrame:
    """Check a participant register and return it normalised (ids as text, ``start_date`` as dates).

    Refuses, listing every bad row: missing columns, blank ids, duplicate ids, start dates that
    are not ISO ``YYYY-MM-DD``.
    """
    problems = _missing_columns(participants, PARTICIPANT_COLUMNS, source_name)
    if problems:
        raise _reject(source_name, "participant register", problems, len(problems))
    frame = participants.copy()
    rows = _row_numbers(frame)
    frame["participant_id"] = _ids(frame["participant_id"])
    raw_start = frame["start_date"]
    frame["start_date"] = _parse_dates(raw_start)

    blank = frame["participant_id"].isna()
    duplicate = frame["participant_id"].duplicated(keep="first") & ~blank
    bad_date = frame["start_date"].isna()
    first_row = rows.groupby(frame["participant_id"]).transform("first")
    messages: list[tuple[int, str]] = []
    for row in rows[blank]:
        messages.append((row, f"{source_name}: row {row}: participant_id: is blank"))
    for row, pid, first in zip(rows[duplicate], frame["participant_id"][duplicate], first_row[duplicate]):
        messages.append((row, f"{source_name}: row {row}: participant_id: duplicate of row {int(first)} ({pid!r})"))
    for row, value in zip(rows[bad_date], raw_start[bad_date]):
        shown = "blank" if pd.isna(value) or str(value).strip() == "" else repr(str(value))
        messages.append((row, f"{source_name}: row {row}: start_date: must be a date like 2026-01-31, got {shown}"))
    if messages:
        messages.sort(key=lambda m: m[0])
        raise _reject(source_name, "participant register", [m for _, m in messages], len(messages))
    return frame


def validate_event_rows(events: pd.DataFrame, source_name: str = "events.csv") -> pd.DataFrame:
    """Check the shape of an outcome events frame and return it normalised.

    Rejects (listing every bad row) missing columns, blank participant or outcome ids and
    achievement dates that are not ISO dates. Rule failures (unknown ids, windows, ...) are not
    shape problems: :func:`validate_events` reports them per line as reason codes.
    """
    required = ("participant_id", "outcome_id", "achieved_on")
    problems = _missing_columns(events, required, source_name)
    if problems:
        raise _reject(source_name, "outcome events", problems, len(problems))
    frame = events.copy()
    frame["row_number"] = _row_numbers(frame).to_numpy()
    frame["participant_id"] = _ids(frame["participant_id"])
    frame["outcome_id"] = _ids(frame["outcome_id"])
    raw_achieved = frame["achieved_on"]
    frame["achieved_on"] = _parse_dates(raw_achieved)
    if "evidence_ref" not in frame.columns:
        frame["evidence_ref"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["evidence_ref"] = _ids(frame["evidence_ref"])
    if "submitted_on" in frame.columns:
        frame["submitted_on"] = _parse_dates(frame["submitted_on"])

    messages: list[tuple[int, str]] = []
    rows = frame["row_number"]
    for column in ("participant_id", "outcome_id"):
        for row in rows[frame[column].isna()]:
            messages.append((row, f"{source_name}: row {row}: {column}: is blank"))
    bad = frame["achieved_on"].isna()
    for row, value in zip(rows[bad], raw_achieved[bad]):
        shown = "blank" if pd.isna(value) or str(value).strip() == "" else repr(str(value))
        messages.append((row, f"{source_name}: row {row}: achieved_on: must be a date like 2026-01-31, got {shown}"))
    if "submitted_on" in frame.columns:
        for row in rows[frame["submitted_on"].isna()]:
            messages.append((row, f"{source_name}: row {row}: submitted_on: must be a date like 2026-01-31"))
        early = frame["submitted_on"].notna() & frame["achieved_on"].notna() & (frame["submitted_on"] < frame["achieved_on"])
        for row, sub, ach in zip(rows[early], frame["submitted_on"][early], frame["achieved_on"][early]):
            messages.append((row, f"{source_name}: row {row}: submitted_on: {sub.date()} is before achieved_on "
                                  f"{ach.date()}; an outcome cannot be submitted before it is achieved"))
    if messages:
        messages.sort(key=lambda m: m[0])
        raise _reject(source_name, "outcome events", [m for _, m in messages], len(messages))
    return frame


def prerequisite_levels(contract: Contract) -> dict[str, int]:
    """0 for outcomes with no prerequisite, else 1 + the deepest level they require."""
    by_id = {o.outcome_id: o for o in contract.outcomes}
    levels: dict[str, int] = {}

    def level(outcome_id: str) -> int:
        if outcome_id not in levels:
            requires = by_id[outcome_id].requires
            levels[outcome_id] = 1 + max(level(r) for r in requires) if requires else 0
        return levels[outcome_id]

    for outcome_id in by_id:
        level(outcome_id)
    return levels


def quarter_last_day(days: pd.Series) -> pd.Series:
    """The last day of the calendar quarter containing each date."""
    return days.dt.to_period("Q").dt.end_time.dt.normalize().astype("datetime64[ns]")


_CLAIM_ORDER = ["achieved_on", "outcome_id", "participant_id", "row_number"]


def validate_events(
    events: pd.DataFrame,
    contract: Contract,
    participants: pd.DataFrame,
    *,
    prior_events: pd.DataFrame | None = None,
    submitted_on: date | None = None,
    source_name: str = "events.csv",
) -> pd.DataFrame:
    """Assess each outcome event against the contract, the participant register and earlier runs.

    ``participants``: participant_id, start_date (checked by :func:`validate_participants`).
    ``prior_events``: events accepted in earlier claim runs (participant_id, outcome_id,
    achieved_on); they satisfy prerequisites and make once-only outcomes already claimed.
    ``submitted_on``: the claim's submission date, for the deadline; a ``submitted_on`` column
    in ``events`` overrides it per line.

    Returns the events (normalised, in their original order) with ``start_date``,
    ``accepted`` and ``reason``.
    """
    ev = validate_event_rows(events, source_name)
    register = validate_participants(participants, "participants")
    prior = _normalise_prior(prior_events)
    index = ev.index
    achieved = ev["achieved_on"]

    start_by_pid = register.set_index("participant_id")["start_date"]
    start = ev["participant_id"].map(start_by_pid).astype("datetime64[ns]")
    ev["start_date"] = start

    outcome_ids = list(contract.outcome_ids)
    outcome_code = pd.Index(outcome_ids).get_indexer(ev["outcome_id"].astype(object))
    known_outcome = outcome_code >= 0

    # Version in force per event: versions are contiguous and sorted, so searchsorted finds it.
    version_from = np.array([np.datetime64(v.effective_from, "ns") for v in contract.rate_cards])
    version_idx = np.searchsorted(version_from, achieved.to_numpy(), side="right") - 1
    term_start, term_end = pd.Timestamp(contract.start), pd.Timestamp(contract.end)
    in_term = ((achieved >= term_start) & (achieved < term_end)).to_numpy()
    priced = np.zeros((len(contract.rate_cards), len(outcome_ids)), dtype=bool)
    for v, version in enumerate(contract.rate_cards):
        for price in version.prices:
            priced[v, outcome_ids.index(price.outcome_id)] = True
    safe_v = np.clip(version_idx, 0, len(contract.rate_cards) - 1)
    safe_o = np.clip(outcome_code, 0, None)
    priced_then = priced[safe_v, safe_o] & known_outcome & (version_idx >= 0)
    unknown_outcome = ~known_outcome | (in_term & ~priced_then)

    max_days = pd.Series({o.outcome_id: o.max_days_after_start for o in contract.outcomes}, dtype="float64")
    days_after_start = (achieved - start).dt.days
    outcome_max_days = ev["outcome_id"].map(max_days)
    outside_window = (achieved < start) | (outcome_max_days.notna() & (days_after_start > outcome_max_days))

    referral = pd.Series(False, index=index)
    if contract.referrals_from is not None:
        referral |= start < pd.Timestamp(contract.referrals_from)
    if contract.referrals_to is not None:
        referral |= start >= pd.Timestamp(contract.referrals_to)

    needs_evidence = ev["outcome_id"].map({o.outcome_id: o.evidence_required for o in contract.outcomes})
    evidence_missing = needs_evidence.fillna(False).astype(bool) & ev["evidence_ref"].isna()

    late = pd.Series(False, index=index)
    if contract.claim_deadline_days is not None or contract.claim_deadline_date is not None:
        if "submitted_on" in ev.columns:
            submitted = ev["submitted_on"]
        elif submitted_on is not None:
            submitted = pd.Series(pd.Timestamp(submitted_on), index=index)
        else:
            raise ValidationError(
                f"contract {contract.contract_id} has a claim deadline: give submitted_on to check it",
                field="submitted_on",
            )
        if contract.claim_deadline_date is not None:
            deadline = pd.Series(pd.Timestamp(contract.claim_deadline_date), index=index)
        else:
            deadline = quarter_last_day(achieved) + pd.Timedelta(days=contract.claim_deadline_days)
        late = submitted > deadline

    reason = np.select(
        [
            start.isna().to_numpy(),
            unknown_outcome,
            ~in_term,
            referral.to_numpy(),
            outside_window.fillna(False).to_numpy(dtype=bool),
            evidence_missing.to_numpy(),
            late.to_numpy(dtype=bool),
        ],
        [UNKNOWN_PARTICIPANT, UNKNOWN_OUTCOME, OUTSIDE_TERM, REFERRAL_WINDOW, OUTSIDE_WINDOW, EVIDENCE_MISSING, AFTER_DEADLINE],
        default="",
    ).astype(object)
    ev["reason"] = reason
    _apply_sequence_rules(ev, contract, prior)
    ev["accepted"] = ev["reason"] == ""
    return ev


def _normalise_prior(prior_events: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["participant_id", "outcome_id", "achieved_on"]
    if prior_events is None or len(prior_events) == 0:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns[:2]} | {"achieved_on": pd.Series(dtype="datetime64[ns]")})
    missing = [c for c in columns if c not in prior_events.columns]
    if missing:
        raise ValidationError(f"prior_events is missing columns {missing}", field="prior_events")
    frame = prior_events[columns].copy()
    frame["participant_id"] = _ids(frame["participant_id"])
    frame["outcome_id"] = _ids(frame["outcome_id"])
    frame["achieved_on"] = _parse_dates(frame["achieved_on"])
    return frame


def _apply_sequence_rules(ev: pd.DataFrame, contract: Contract, prior: pd.DataFrame) -> None:
    """Prerequisites, repeats and exclusive groups, level by level, in claim order (in place).

    Works on integer codes (participant, outcome, day) so each step is a numpy operation.
    """
    outcome_ids = list(contract.outcome_ids)
    n_outcomes = len(outcome_ids)
    levels = prerequisite_levels(contract)
    level_of = np.array([levels[o] for o in outcome_ids] + [-1])  # index -1 -> unknown outcome
    once_of = np.array([contract.outcome(o).once_only for o in outcome_ids] + [False])
    group_of_id = {member: g for g, group in enumerate(contract.exclusive_groups) for member in group}
    group_of = np.array([group_of_id.get(o, -1) for o in outcome_ids] + [-1])
    n_groups = max(len(contract.exclusive_groups), 1)
    # Outcome codes that sort like the outcome ids, for claim order.
    text_rank = np.argsort(np.argsort(np.array(outcome_ids, dtype=object)))

    n_ev = len(ev)
    all_pids = pd.concat([ev["participant_id"], prior["participant_id"]], ignore_index=True).astype(object)
    pid_all, _ = pd.factorize(all_pids, sort=True)
    pid_ev, pid_prior = pid_all[:n_ev], pid_all[n_ev:]
    n_pids = int(pid_all.max()) + 1 if len(pid_all) else 1
    oid_index = pd.Index(outcome_ids)
    oid_ev = oid_index.get_indexer(ev["outcome_id"].astype(object))
    oid_prior = oid_index.get_indexer(prior["outcome_id"].astype(object))
    day_ev = ev["achieved_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    day_prior = prior["achieved_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    known_prior = oid_prior >= 0
    pid_prior, oid_prior, day_prior = pid_prior[known_prior], oid_prior[known_prior], day_prior[known_prior]

    day_base = int(min(day_ev.min(initial=0), day_prior.min(initial=0)))
    day_span = 1 << 21  # days in a key: ~5,700 years, far beyond any contract

    def key_once(pid: np.ndarray, oid: np.ndarray) -> np.ndarray:
        return pid.astype(np.int64) * n_outcomes + oid

    def key_day(pid: np.ndarray, oid: np.ndarray, day: np.ndarray) -> np.ndarray:
        return key_once(pid, oid) * day_span + (day - day_base)

    prior_once, prior_day = key_once(pid_prior, oid_prior), key_day(pid_prior, oid_prior, day_prior)

    # Claim order: achievement date, outcome id, participant id, row number.
    rank = np.empty(n_ev, dtype=np.int64)
    rank[np.lexsort((ev["row_number"].to_numpy(), pid_ev, text_rank[np.clip(oid_ev, 0, None)], day_ev))] = np.arange(n_ev)

    reason = ev["reason"].to_numpy(dtype=object).copy()
    # Accepted so far (earlier runs first): participant, outcome, day, and claim-order position.
    acc_pid, acc_oid, acc_day = pid_prior, oid_prior, day_prior
    acc_order = np.full(len(pid_prior), -1, dtype=np.int64)  # earlier runs before any line now

    ev_level = level_of[oid_ev]
    for level in sorted(set(levels.values())):
        cand = np.flatnonzero((reason == "") & (ev_level == level))
        if len(cand) == 0:
            continue
        cand = cand[np.argsort(rank[cand], kind="stable")]
        c_pid, c_oid, c_day = pid_ev[cand], oid_ev[cand], day_ev[cand]
        c_reason = np.full(len(cand), "", dtype=object)

        # Prerequisites: earliest accepted day of each required outcome, per participant.
        never = np.iinfo(np.int64).max
        for required in sorted({r for o in set(c_oid.tolist()) for r in contract.outcome(outcome_ids[o]).requires}):
            r_code = outcome_ids.index(required)
            first_day = np.full(n_pids, never, dtype=np.int64)
            done = acc_oid == r_code
            np.minimum.at(first_day, acc_pid[done], acc_day[done])
            needs = np.array([required in contract.outcome(o).requires for o in outcome_ids] + [False])[c_oid]
            missing = needs & (first_day[c_pid] > c_day)
            c_reason[missing & (c_reason == "")] = PREREQUISITE_MISSING

        # Repeats: once-only by (participant, outcome); others by (participant, outcome, day).
        live = c_reason == ""
        once = once_of[c_oid]
        k_once, k_day = key_once(c_pid, c_oid), key_day(c_pid, c_oid, c_day)
        key = np.where(once, k_once, k_day)
        # Once-only and repeatable outcomes never share a key space: same outcome, same kind.
        dup = np.zeros(len(cand), dtype=bool)
        dup[live] = pd.Series(np.where(once, -1 - k_once, k_day)[live]).duplicated().to_numpy()
        in_prior = np.where(once, np.isin(k_once, prior_once), np.isin(key, prior_day))
        c_reason[live & (dup | in_prior)] = ALREADY_CLAIMED

        # Exclusive groups: the first outcome of a group a participant is accepted for wins.
        c_group = group_of[c_oid]
        in_group = (c_reason == "") & (c_group >= 0)
        if in_group.any():
            a_group = group_of[acc_oid] if len(acc_oid) else np.array([], dtype=np.int64)
            earlier = np.flatnonzero(a_group >= 0)
            earlier = earlier[np.lexsort((acc_pid[earlier], text_rank[acc_oid[earlier]], acc_day[earlier], acc_order[earlier]))]
            now = np.flatnonzero(in_group)
            keys = np.concatenate([acc_pid[earlier].astype(np.int64) * n_groups + a_group[earlier],
                                   c_pid[now].astype(np.int64) * n_groups + c_group[now]])  # fmt: skip
            oids = np.concatenate([acc_oid[earlier], c_oid[now]])
            winner = pd.Series(oids).groupby(keys, sort=False).transform("first").to_numpy()
            loses = (oids != winner)[len(earlier):]
            c_reason[now[loses]] = MUTUALLY_EXCLUSIVE

        reason[cand] = c_reason
        ok = c_reason == ""
        acc_pid = np.concatenate([acc_pid, c_pid[ok]])
        acc_oid = np.concatenate([acc_oid, c_oid[ok]])
        acc_day = np.concatenate([acc_day, c_day[ok]])
        acc_order = np.concatenate([acc_order, rank[cand][ok]])
    ev["reason"] = reason
