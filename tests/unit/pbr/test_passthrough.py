"""The pass-through rule with hand-checked figures: share-based, fee-based, mixed, caps, the
clawback split, rounding and the prime's remainder; and the partner terms in a contract file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ledger.errors import ImportRejected, InvariantBroken
from ledger.pbr.contracts import load_contract_toml
from ledger.pbr.passthrough import PartnerPrior, PartnerTerms, pass_through

REPO = Path(__file__).resolve().parents[3]
BASE = (REPO / "tests" / "data" / "pbr" / "contract.toml").read_text()


def lines(*rows):
    """rows: (participant, partner, net_pence) accepted, or (participant, partner, net_pence, False)."""
    return pd.DataFrame(
        [{"participant_id": r[0], "partner_id": r[1], "net_pence": r[2], "accepted": r[3] if len(r) > 3 else True}
         for r in rows]
    )


def test_share_based_rounds_once_per_partner_with_its_named_mode():
    # A: 333.33 + 333.34 = 666.67 received; 0.35 x 66,667 = 23,333.45 -> 23,333 pence (half_up).
    # B: 1,000.01 received; 0.125 x 100,001 = 12,500.125 -> 12,500 (down).
    terms = (PartnerTerms("A", "A", share=Decimal("0.35")),
             PartnerTerms("B", "B", share=Decimal("0.125"), rounding="down"))
    frame = lines(("p1", "A", 33_333), ("p2", "A", 33_334), ("p3", "B", 100_001), ("p4", "", 50_000),
                  ("p5", "A", 99_999, False))
    result = pass_through(frame, terms, period="2026Q3")
    a, b = result.partner("A"), result.partner("B")
    assert (a.lines, a.participants, a.received_pence, a.share_pence, a.fees_pence) == (2, 2, 66_667, 23_333, 0)
    assert (b.received_pence, b.share_pence) == (100_001, 12_500)
    assert result.received_pence == 216_668 and result.prime_own_received_pence == 50_000
    # The prime keeps the rest of what was received: 216,668 - 23,333 - 12,500.
    assert result.prime_retained_share_pence == 180_835 == result.prime_net_pence


def test_half_up_rounds_a_half_penny_up():
    result = pass_through(lines(("p1", "A", 1)), (PartnerTerms("A", "A", share=Decimal("0.5")),), period="2026Q3")
    assert result.partner("A").share_pence == 1 and result.prime_retained_share_pence == 0


def test_fee_based_per_period_and_once_per_new_participant():
    # 1,000 a period + 150 for each participant not seen before: p1 was counted in an earlier
    # period, p2 and p3 are new (p3 twice in the period, counted once); p4's line was rejected.
    terms = (PartnerTerms("W", "Wirral Works", fee_per_period_pence=100_000, fee_per_participant_pence=15_000),)
    frame = lines(("p1", "W", 50_000), ("p2", "W", 50_000), ("p3", "W", 0), ("p3", "W", 120_000),
                  ("p4", "W", 0, False))
    prior = {"W": PartnerPrior(earned_pence=115_000, participants=frozenset({"p1"}))}
    w = pass_through(frame, terms, period="2026Q4", prior=prior).partner("W")
    assert (w.participants, w.new_participants) == (3, 2)
    assert (w.fee_period_pence, w.fee_participants_pence, w.fees_pence, w.share_pence) == (100_000, 30_000, 130_000, 0)


def test_fee_for_the_period_is_due_even_without_outcomes():
    terms = (PartnerTerms("W", "W", fee_per_period_pence=25_000),)
    result = pass_through(lines(("p9", "", 10_000)), terms, period="2026Q3")
    assert result.partner("W").total_pence == 25_000
    # The prime received 100.00 and pays 250.00 of fees: it keeps all the outcome money, nets -150.
    assert (result.prime_retained_share_pence, result.prime_net_pence) == (10_000, -15_000)


def test_mixed_share_and_fees():
    # 60% of 1,700.00 = 1,020.00 plus 250.00 a period plus 2 x 40.00 per new participant = 1,350.00.
    terms = (PartnerTerms("S", "Sefton", share=Decimal("0.60"), fee_per_period_pence=25_000,
                          fee_per_participant_pence=4_000),)
    s = pass_through(lines(("p6", "S", 50_000), ("p7", "S", 120_000)), terms, period="2026Q3").partner("S")
    assert (s.share_pence, s.fees_pence, s.total_pence, s.cap_applied) == (102_000, 33_000, 135_000, "")


def test_partner_whose_participants_hit_the_contract_cap():
    # Bridge: 85% of 4,500.00 = 3,825.00, but its cap is 3,000.00 in all and 500.00 went earlier:
    # 2,500.00 is left, so the share is cut by 1,325.00; the prime keeps 4,500.00 - 2,500.00.
    terms = (PartnerTerms("B", "Bridge", share=Decimal("0.85"), cap_pence=300_000),)
    frame = lines(("p1", "B", 200_000), ("p2", "B", 200_000), ("p3", "B", 50_000))
    result = pass_through(frame, terms, period="2026Q4", prior={"B": PartnerPrior(earned_pence=50_000)})
    b = result.partner("B")
    assert (b.share_before_cap_pence, b.cap_reduction_pence, b.share_pence, b.cap_applied) == (
        382_500, 132_500, 250_000, "total")
    assert result.prime_retained_share_pence == 200_000
    # Once the cap is used up, later periods pay nothing more.
    later = pass_through(frame, terms, period="2027Q1", prior={"B": PartnerPrior(earned_pence=300_000)}).partner("B")
    assert (later.total_pence, later.cap_reduction_pence) == (0, 382_500)


def test_period_cap_keeps_fees_first_then_cuts_the_share():
    # 50% of 2,000.00 = 1,000.00 share + 800.00 fee = 1,800.00 over a 1,200.00 period cap:
    # the fee is kept whole, the share cut to 400.00.
    terms = (PartnerTerms("M", "M", share=Decimal("0.5"), fee_per_period_pence=80_000, cap_per_period_pence=120_000),)
    m = pass_through(lines(("p1", "M", 200_000)), terms, period="2026Q3").partner("M")
    assert (m.fees_pence, m.share_pence, m.cap_reduction_pence, m.cap_applied) == (80_000, 40_000, 60_000, "period")
    # Fees above the cap are cut too.
    terms = (PartnerTerms("F", "F", fee_per_period_pence=80_000, cap_per_period_pence=50_000),)
    f = pass_through(lines(("p1", "F", 10)), terms, period="2026Q3").partner("F")
    assert (f.fees_pence, f.cap_reduction_pence) == (50_000, 30_000)


def test_clawback_is_split_over_partners_and_the_prime_pro_rata_to_net():
    # Net 300 (A) / 100 (B) / 100 (prime); a clawback of 1.01 splits 60.6 / 20.2 / 20.2 pence ->
    # 60 / 20 / 20 and the last penny to the largest remainder (A): 61 / 20 / 20.
    terms = (PartnerTerms("A", "A", share=Decimal("1")), PartnerTerms("B", "B", share=Decimal("1")))
    result = pass_through(lines(("p1", "A", 300), ("p2", "B", 100), ("p3", "", 100)), terms, period="2026Q3",
                          clawback_pence=101)
    assert [(p.clawback_pence, p.received_pence) for p in result.partners] == [(61, 239), (20, 80)]
    assert result.prime_own_received_pence == 80 and result.received_pence == 399
    assert result.shares_pence + result.prime_retained_share_pence == 399


def test_lines_of_an_unknown_partner_are_a_bug_not_a_silent_gift():
    with pytest.raises(InvariantBroken, match="not in the contract: Z"):
        pass_through(lines(("p1", "Z", 100)), (PartnerTerms("A", "A", share=Decimal("1")),), period="2026Q3")


JOINT = BASE + """
[prime]
id = "jp"
name = "Joint prime vehicle"

[[partners]]
id = "A"
name = "Partner A"
share = "0.80"
cap = "2000.00"

[[partners]]
id = "B"
name = "Partner B"
fee_per_period_pence = 50000
fee_per_participant = "25.50"
"""


def test_contract_file_with_partners_loads_and_old_files_still_do():
    contract = load_contract_toml(JOINT, "joint.toml")
    assert contract.prime.prime_id == "jp" and contract.partner_ids == ("A", "B")
    a, b = contract.partners
    assert (a.kind, a.share, a.cap_pence, a.rounding) == ("share", Decimal("0.80"), 200_000, "half_up")
    assert (b.kind, b.fee_per_period_pence, b.fee_per_participant_pence) == ("fee", 50_000, 2_550)
    for path in (REPO / "fixtures" / "contracts").glob("*.toml"):
        load_contract_toml(path.read_text(), path.name)
    assert load_contract_toml(BASE, "contract.toml").partners == ()
    example = load_contract_toml((REPO / "fixtures" / "contracts" / "joint_prime_example.toml").read_text(), "x")
    assert [p.kind for p in example.partners] == ["share", "fee", "mixed"]


def test_every_problem_in_the_partner_terms_is_listed():
    bad = BASE + """
[prime]
id = "jp"
name = "Joint prime"
kind = "bank"

[[partners]]
id = "A"
name = "A"
share = 0.5
cap = "-1.00"

[[partners]]
id = "A"
name = "Again"
share = "1.5"
rounding = "sideways"

[[partners]]
id = "jp"
name = "No terms"
colour = "red"
"""
    with pytest.raises(ImportRejected) as caught:
        load_contract_toml(bad, "bad.toml")
    problems = caught.value.problems
    expected = [
        "bad.toml: prime.kind: must be one of fund_vehicle, lead_provider, got 'bank'",
        'bad.toml: partners[0].share: must be text like "0.30", not the TOML float 0.5 (floats are binary)',
        "bad.toml: partners[0].cap: must not be negative, got -1.00",
        "bad.toml: partners[1].id: duplicate partner id 'A'",
        "bad.toml: partners[1].share: must be between 0 and 1 (a share of what the prime received), got 1.5",
        "bad.toml: partners[1].rounding: unknown rounding mode 'sideways' (known: half_up, half_even, down)",
        "bad.toml: partners[2].colour: unknown field (known: cap, cap_pence, cap_per_period, cap_per_period_pence, "
        "fee_per_participant, fee_per_participant_pence, fee_per_period, fee_per_period_pence, id, name, rounding, share)",
        "bad.toml: partners[2].id: partner id 'jp' is the prime's id; a partner is someone else",
        "bad.toml: partners[2]: needs subcontract terms: a share, fee_per_period, fee_per_participant, or a mix",
    ]
    assert problems == expected
