"""Local VCSE shares (ledger/vcse.py) on a small constructed fund, pinned to the penny."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import ImportRejected
from ledger.vcse import Flow, Organisation, organisations_from_rows, shares

AREAS = ("E08000012", "E08000011")
ORGS = {
    "local-charity": Organisation("local-charity", "charity", "small", "E08000012"),
    "local-cic": Organisation("local-cic", "cic", "medium", "E08000011"),
    "far-charity": Organisation("far-charity", "charity", "large", "E09000001"),    # VCSE, not local
    "local-firm": Organisation("local-firm", "private", "major", "E08000012"),     # local, not VCSE
}
FLOWS = [
    Flow("2025Q1", "delivery", "project-a", "local-charity", 10_000_01),
    Flow("2025Q1", "delivery", "project-b", "far-charity", 5_000_00),
    Flow("2025Q1", "outcome", "jp", "local-firm", 7_000_00),
    Flow("2025Q1", "outcome", "jp", "local-cic", 3_000_00),
    Flow("2025Q2", "delivery", "jp", "local-cic", 1_333_33),
    Flow("2025Q2", "delivery", "jp", "no-profile", 666_67),                        # unknown: not VCSE
    Flow("2025Q2", "outcome", "jp", "local-charity", 2_500_00),
]


def test_shares_per_quarter_for_the_fund_and_the_joint_prime():
    result = shares(FLOWS, ORGS, AREAS, {"jp": "joint prime jp"})
    got = {(r["group"], r["quarter"], r["measure"]): (r["total_pence"], r["local_vcse_pence"], r["share"])
           for r in result["quarters"]}
    assert got == {
        ("fund", "2025Q1", "delivery"): (15_000_01, 10_000_01, Decimal("0.6667")),
        ("fund", "2025Q1", "outcome"): (10_000_00, 3_000_00, Decimal("0.3000")),
        ("fund", "2025Q2", "delivery"): (2_000_00, 1_333_33, Decimal("0.6667")),
        ("fund", "2025Q2", "outcome"): (2_500_00, 2_500_00, Decimal("1.0000")),
        ("joint prime jp", "2025Q1", "outcome"): (10_000_00, 3_000_00, Decimal("0.3000")),
        ("joint prime jp", "2025Q2", "delivery"): (2_000_00, 1_333_33, Decimal("0.6667")),
        ("joint prime jp", "2025Q2", "outcome"): (2_500_00, 2_500_00, Decimal("1.0000")),
    }
    assert result["by_size"] == {
        ("fund", "delivery", "small"): 10_000_01, ("fund", "delivery", "medium"): 1_333_33,
        ("fund", "outcome", "medium"): 3_000_00, ("fund", "outcome", "small"): 2_500_00,
        ("joint prime jp", "delivery", "medium"): 1_333_33, ("joint prime jp", "outcome", "medium"): 3_000_00,
        ("joint prime jp", "outcome", "small"): 2_500_00,
    }
    assert result["by_area"][("fund", "delivery", "E08000012")] == 10_000_01
    assert result["by_area"][("fund", "outcome", "E08000011")] == 3_000_00
    assert not any(k[2] == "E09000001" for k in result["by_area"])  # not local: not in the local VCSE figures


def test_a_bad_profile_file_names_every_row_and_field():
    rows = [{"party_id": "a", "org_type": "charity", "size_band": "small", "la_code": "E08000012"},
            {"party_id": "a", "org_type": "trust", "size_band": "tiny", "la_code": "Liverpool"}]
    with pytest.raises(ImportRejected) as error:
        organisations_from_rows(rows, "orgs.csv")
    problems = error.value.problems
    assert "orgs.csv: row 3: party_id: 'a' appears twice" in problems
    assert any(p.startswith("orgs.csv: row 3: org_type: 'trust' is not one of") for p in problems)
    assert any(p.startswith("orgs.csv: row 3: size_band: 'tiny'") for p in problems)
    assert "orgs.csv: row 3: la_code: 'LIVERPOOL' is not an ONS local authority code like E08000012" in problems
