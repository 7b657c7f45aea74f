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
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
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
    """Prerequisites, repeats and exclusive groups, level by level, in claim order (in place)."""
    levels = prerequisite_levels(contract)
    group_of = {member: g for g, group in enumerate(contract.exclusive_groups) for member in group}
    once_only = {o.outcome_id: o.once_only for o in contract.outcomes}
    requires = {o.outcome_id: o.requires for o in contract.outcomes}

    accepted = prior.assign(is_prior=True)
    ev_level = ev["outcome_id"].map(levels)
    for level in sorted(set(levels.values())):
        cand = ev[(ev["reason"] == "") & (ev_level == level)].sort_values(_CLAIM_ORDER, kind="mergesort")
        if cand.empty:
            continue
        reason = pd.Series("", index=cand.index, dtype=object)

        # Prerequisites: earliest accepted date of each required outcome, per participant.
        first_done = accepted.groupby(["outcome_id", "participant_id"], observed=True)["achieved_on"].min()
        needed = {r for o in cand["outcome_id"].unique() for r in requires[o]}
        for required in sorted(needed):
            needs_it = {o: required in requires[o] for o in requires}
            applies = cand["outcome_id"].map(needs_it).astype(bool)
            if required in first_done.index.get_level_values(0):
                done_on = cand["participant_id"].map(first_done.xs(required, level="outcome_id"))
            else:
                done_on = pd.Series(pd.NaT, index=cand.index, dtype="datetime64[ns]")
            missing = applies & (done_on.isna() | (done_on > cand["achieved_on"]))
            reason[missing & (reason == "")] = PREREQUISITE_MISSING

        # Repeats: once-only outcomes by (participant, outcome), others by (.., date).
        live = reason == ""
        is_once = cand["outcome_id"].map(once_only).astype(bool)
        key_once = pd.MultiIndex.from_frame(cand[["participant_id", "outcome_id"]])
        key_any = pd.MultiIndex.from_frame(cand[["participant_id", "outcome_id", "achieved_on"]])
        prior_once = pd.MultiIndex.from_frame(prior[["participant_id", "outcome_id"]])
        prior_any = pd.MultiIndex.from_frame(prior[["participant_id", "outcome_id", "achieved_on"]])
        live_cand = cand[live]
        dup_once = live_cand.duplicated(subset=["participant_id", "outcome_id"]).reindex(cand.index, fill_value=False)
        dup_any = live_cand.duplicated(subset=["participant_id", "outcome_id", "achieved_on"]).reindex(
            cand.index, fill_value=False
        )
        repeat = np.where(
            is_once,
            dup_once | key_once.isin(prior_once),
            dup_any | key_any.isin(prior_any),
        )
        reason[live & repeat] = ALREADY_CLAIMED

        # Exclusive groups: the first outcome of a group a participant is accepted for wins.
        if group_of:
            live = reason == ""
            cand_group = cand["outcome_id"].map(group_of)
            in_group = live & cand_group.notna()
            if in_group.any():
                earlier = accepted.assign(group=accepted["outcome_id"].map(group_of))
                earlier = earlier[earlier["group"].notna()].sort_values(
                    ["is_prior", "achieved_on", "outcome_id", "participant_id"],
                    ascending=[False, True, True, True],
                    kind="mergesort",
                )
                now = cand[in_group].assign(group=cand_group[in_group])
                both = pd.concat(
                    [earlier[["participant_id", "group", "outcome_id"]], now[["participant_id", "group", "outcome_id"]]],
                    ignore_index=True,
                )
                winner = both.groupby(["participant_id", "group"], sort=False)["outcome_id"].transform("first")
                loses = (both["outcome_id"] != winner).to_numpy()[len(earlier):]
                reason.loc[now.index[loses]] = MUTUALLY_EXCLUSIVE

        ev.loc[cand.index, "reason"] = reason
        newly = cand[reason == ""][["participant_id", "outcome_id", "achieved_on"]].assign(is_prior=False)
        accepted = pd.concat([accepted, newly], ignore_index=True)
