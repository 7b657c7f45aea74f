"""Eligibility rules, one hand-checked case per reason code."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ledger.errors import ImportRejected, ValidationError
from ledger.pbr import eligibility as el
from ledger.pbr.contracts import contract_from_mapping


def make_contract(**changes):
    data = {
        "id": "c1",
        "name": "Test contract",
        "project": "PRJ-1",
        "provider": "Provider Ltd",
        "start": date(2024, 1, 1),
        "end": date(2026, 1, 1),
        "referral_window": {"from": date(2024, 1, 1), "to": date(2025, 1, 1)},
        "payers": [{"id": "council", "name": "Council"}],
        "outcomes": [
            {"id": "acc_entry", "definition": "Entering accommodation", "once_only": True},
            {"id": "acc_3m", "definition": "Sustained 3 months", "once_only": True, "requires": ["acc_entry"],
             "max_days_after_start": 365},
            {"id": "acc_6m", "definition": "Sustained 6 months", "once_only": True, "requires": ["acc_3m"]},
            {"id": "employment", "definition": "Employment 13 weeks", "once_only": True},
            {"id": "self_employment", "definition": "Self-employment 13 weeks", "once_only": True},
            {"id": "attendance", "definition": "Attended a session", "evidence_required": False},
        ],
        "exclusive_groups": [["employment", "self_employment"]],
        "rate_cards": [
            {
                "version": "v1",
                "effective_from": date(2024, 1, 1),
                "outcomes": [
                    {"id": o, "price": "100.00"}
                    for o in ("acc_entry", "acc_3m", "acc_6m", "employment", "self_employment", "attendance")
                ],
            }
        ],
    }  # fmt: skip
    data.update(changes)
    return contract_from_mapping(data, "test.toml")


PARTICIPANTS = pd.DataFrame(
    {
        "participant_id": ["P1", "P2", "LATE"],
        "start_date": ["2024-02-01", "2024-03-01", "2025-02-01"],
        "cohort": ["A", "A", "B"],
    }
)


def events(*rows):
    """rows: (participant, outcome, achieved_on[, evidence])."""
    return pd.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "outcome_id": [r[1] for r in rows],
            "achieved_on": [r[2] for r in rows],
            "evidence_ref": [r[3] if len(r) > 3 else f"doc-{i}" for i, r in enumerate(rows)],
            "row_number": list(range(2, len(rows) + 2)),
        }
    )


def reasons(rows, contract=None, **kwargs):
    result = el.validate_events(events(*rows), contract or make_contract(), PARTICIPANTS, **kwargs)
    assert (result["accepted"] == (result["reason"] == "")).all()
    return list(result["reason"])


def test_a_clean_milestone_chain_is_accepted():
    rows = [("P1", "acc_entry", "2024-02-10"), ("P1", "acc_3m", "2024-05-10"), ("P1", "acc_6m", "2024-08-10")]
    assert reasons(rows) == ["", "", ""]


def test_unknown_participant_and_outcome():
    assert reasons([("P9", "acc_entry", "2024-02-10"), ("P1", "acc_99m", "2024-02-10")]) == [
        el.UNKNOWN_PARTICIPANT,
        el.UNKNOWN_OUTCOME,
    ]


def test_outcome_not_priced_in_the_version_in_force_is_unknown():
    contract = make_contract(
        rate_cards=[
            {"version": "v1", "effective_from": date(2024, 1, 1), "effective_to": date(2025, 1, 1),
             "outcomes": [{"id": "acc_entry", "price": "100.00"}]},
            {"version": "v2", "effective_from": date(2025, 1, 1),
             "outcomes": [{"id": "acc_entry", "price": "100.00"}, {"id": "attendance", "price": "10.00"}]},
        ]
    )  # fmt: skip
    rows = [("P1", "attendance", "2024-12-31"), ("P1", "attendance", "2025-01-01")]
    assert reasons(rows, contract) == [el.UNKNOWN_OUTCOME, ""]


def test_outside_term_is_half_open():
    rows = [("P1", "attendance", "2025-12-31"), ("P1", "attendance", "2026-01-01")]
    assert reasons(rows) == ["", el.OUTSIDE_TERM]


def test_referral_window_rejects_participants_who_started_outside_it():
    assert reasons([("LATE", "attendance", "2025-03-01")]) == [el.REFERRAL_WINDOW]


def test_time_window_after_participant_start():
    # P1 started 2024-02-01; acc_3m must fall within 365 days: 2025-01-31 is day 365.
    rows = [
        ("P1", "acc_entry", "2024-02-01"),
        ("P1", "acc_3m", "2025-01-31"),
        ("P2", "acc_entry", "2024-03-01"),
        ("P2", "acc_3m", "2025-03-02"),  # day 366
        ("P2", "attendance", "2024-02-29"),  # before P2's start
    ]
    assert reasons(rows) == ["", "", "", el.OUTSIDE_WINDOW, el.OUTSIDE_WINDOW]


def test_evidence_missing_only_where_required():
    rows = [("P1", "acc_entry", "2024-02-10", None), ("P1", "attendance", "2024-02-10", None), ("P2", "acc_entry", "2024-03-10", "  ")]
    assert reasons(rows) == [el.EVIDENCE_MISSING, "", el.EVIDENCE_MISSING]


def test_claim_deadline_days_after_quarter_end():
    # Achieved in 2024Q1 (last day 31 March) + 30 days: due by 30 April 2024.
    contract = make_contract(claim_deadline={"days_after_period_end": 30})
    rows = [("P1", "attendance", "2024-02-10")]
    assert reasons(rows, contract, submitted_on=date(2024, 4, 30)) == [""]
    assert reasons(rows, contract, submitted_on=date(2024, 5, 1)) == [el.AFTER_DEADLINE]


def test_claim_deadline_fixed_date_and_per_line_submission():
    contract = make_contract(claim_deadline={"date": date(2024, 6, 30)})
    frame = events(("P1", "attendance", "2024-02-10"), ("P1", "attendance", "2024-02-11"))
    frame["submitted_on"] = ["2024-06-30", "2024-07-01"]
    result = el.validate_events(frame, contract, PARTICIPANTS)
    assert list(result["reason"]) == ["", el.AFTER_DEADLINE]


def test_deadline_needs_a_submission_date():
    with pytest.raises(ValidationError, match="give submitted_on"):
        reasons([("P1", "attendance", "2024-02-10")], make_contract(claim_deadline={"days_after_period_end": 30}))


def test_prerequisite_missing():
    rows = [("P1", "acc_6m", "2024-08-10"), ("P2", "acc_3m", "2024-06-01")]
    assert reasons(rows) == [el.PREREQUISITE_MISSING, el.PREREQUISITE_MISSING]


def test_prerequisite_must_be_accepted_and_not_later():
    rows = [
        ("P1", "acc_entry", "2024-02-10", None),  # rejected: no evidence
        ("P1", "acc_3m", "2024-05-10"),  # so its prerequisite is missing
        ("P1", "acc_6m", "2024-08-10"),  # and so is this one's
        ("P2", "acc_entry", "2024-06-01"),
        ("P2", "acc_3m", "2024-05-01"),  # prerequisite achieved after it
    ]
    assert reasons(rows) == [el.EVIDENCE_MISSING, el.PREREQUISITE_MISSING, el.PREREQUISITE_MISSING, "", el.PREREQUISITE_MISSING]


def test_prerequisite_from_an_earlier_run():
    prior = pd.DataFrame({"participant_id": ["P1"], "outcome_id": ["acc_entry"], "achieved_on": ["2024-02-10"]})
    assert reasons([("P1", "acc_3m", "2024-05-10")], prior_events=prior) == [""]


def test_once_only_claimed_before_or_twice_in_file():
    prior = pd.DataFrame({"participant_id": ["P2"], "outcome_id": ["acc_entry"], "achieved_on": ["2024-03-05"]})
    rows = [
        ("P1", "acc_entry", "2024-02-12"),
        ("P1", "acc_entry", "2024-02-10"),  # earlier in claim order: this one is accepted
        ("P2", "acc_entry", "2024-03-10"),
    ]
    assert reasons(rows, prior_events=prior) == [el.ALREADY_CLAIMED, "", el.ALREADY_CLAIMED]


def test_repeatable_outcome_only_rejects_the_same_day_twice():
    rows = [("P1", "attendance", "2024-02-10"), ("P1", "attendance", "2024-02-11"), ("P1", "attendance", "2024-02-10")]
    assert reasons(rows) == ["", "", el.ALREADY_CLAIMED]


def test_a_rejected_duplicate_does_not_block():
    rows = [("P1", "acc_entry", "2024-02-10", None), ("P1", "acc_entry", "2024-02-11")]
    assert reasons(rows) == [el.EVIDENCE_MISSING, ""]


def test_mutually_exclusive_first_outcome_wins():
    prior = pd.DataFrame({"participant_id": ["P2"], "outcome_id": ["self_employment"], "achieved_on": ["2024-04-01"]})
    rows = [
        ("P1", "self_employment", "2024-06-01"),
        ("P1", "employment", "2024-05-01"),  # earlier: wins
        ("P2", "employment", "2024-05-01"),  # P2 already paid for self-employment
    ]
    assert reasons(rows, prior_events=prior) == [el.MUTUALLY_EXCLUSIVE, "", el.MUTUALLY_EXCLUSIVE]


def test_mutually_exclusive_same_day_goes_by_outcome_id():
    rows = [("P1", "self_employment", "2024-05-01"), ("P1", "employment", "2024-05-01")]
    assert reasons(rows) == [el.MUTUALLY_EXCLUSIVE, ""]


def test_first_failing_rule_is_the_reason():
    # Unknown participant and no evidence: the participant rule comes first.
    assert reasons([("P9", "acc_entry", "2024-02-10", None)]) == [el.UNKNOWN_PARTICIPANT]


def test_result_keeps_input_order_and_is_repeatable():
    rows = [("P2", "employment", "2024-05-01"), ("P1", "acc_entry", "2024-02-10"), ("P1", "acc_3m", "2024-05-10")]
    first = el.validate_events(events(*rows), make_contract(), PARTICIPANTS)
    second = el.validate_events(events(*rows), make_contract(), PARTICIPANTS)
    pd.testing.assert_frame_equal(first, second)
    assert list(first["row_number"]) == [2, 3, 4]
    assert list(first["start_date"].dt.date) == [date(2024, 3, 1), date(2024, 2, 1), date(2024, 2, 1)]


def test_reason_codes_are_documented_in_order():
    assert list(el.REASONS) == [
        "unknown_participant", "unknown_outcome", "outside_term", "referral_window", "outside_window",
        "evidence_missing", "after_deadline", "prerequisite_missing", "already_claimed", "mutually_exclusive",
    ]  # fmt: skip


# --- participant register and event file shape -----------------------------------------------


def test_participants_are_normalised():
    frame = el.validate_participants(PARTICIPANTS)
    assert frame["start_date"].dtype == "datetime64[ns]"
    assert list(frame["cohort"]) == ["A", "A", "B"]


def test_participant_problems_are_all_listed():
    bad = pd.DataFrame(
        {
            "participant_id": ["P1", "P2", "P1", " ", "P4"],
            "start_date": ["2024-01-01", "01/02/2024", "2024-01-03", "2024-01-04", None],
        }
    )
    with pytest.raises(ImportRejected) as caught:
        el.validate_participants(bad, "participants.csv")
    assert caught.value.message == "participants.csv: participant register rejected (4 problems)"
    assert caught.value.problems == [
        "participants.csv: row 3: start_date: must be a date like 2026-01-31, got '01/02/2024'",
        "participants.csv: row 4: participant_id: duplicate of row 2 ('P1')",
        "participants.csv: row 5: participant_id: is blank",
        "participants.csv: row 6: start_date: must be a date like 2026-01-31, got blank",
    ]


def test_participant_file_missing_a_column():
    with pytest.raises(ImportRejected) as caught:
        el.validate_participants(pd.DataFrame({"participant_id": ["P1"]}), "participants.csv")
    assert caught.value.problems == ["participants.csv: missing column 'start_date'"]


def test_event_rows_with_bad_dates_or_blank_ids():
    frame = events(("P1", "acc_entry", "2024-13-01"), ("", "acc_entry", "2024-02-01"), ("P1", "acc_entry", "10/02/2024"))
    with pytest.raises(ImportRejected) as caught:
        el.validate_event_rows(frame, "events.csv")
    assert caught.value.problems == [
        "events.csv: row 2: achieved_on: must be a date like 2026-01-31, got '2024-13-01'",
        "events.csv: row 3: participant_id: is blank",
        "events.csv: row 4: achieved_on: must be a date like 2026-01-31, got '10/02/2024'",
    ]
