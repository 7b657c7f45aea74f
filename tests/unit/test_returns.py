"""XIRR and multiples, against Excel's documented example and hand-solvable flows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from ledger.errors import FuelError, ValidationError
from ledger.returns import multiples, xirr, xirr_many

# Excel's XIRR help page: these flows "return 0.373362535 or 37.34%". Excel's own iteration
# stops within 0.000001% (1e-8) of the root, which is 0.37336253352 (pyxirr agrees).
EXCEL_FLOWS = [
    (date(2008, 1, 1), -1_000_000),
    (date(2008, 3, 1), 275_000),
    (date(2008, 10, 30), 425_000),
    (date(2009, 2, 15), 325_000),
    (date(2009, 4, 1), 275_000),
]


def test_excel_documented_example():
    result = xirr(EXCEL_FLOWS)
    assert result.reason is None
    assert abs(result.rate - 0.373362535) < 1e-8
    assert result.rate_decimal(4) == Decimal("0.3734")


def test_agrees_with_pyxirr():
    import pyxirr  # a test dependency: the independent XIRR oracle
    expected = pyxirr.xirr([d for d, _ in EXCEL_FLOWS], [a for _, a in EXCEL_FLOWS])
    assert abs(xirr(EXCEL_FLOWS).rate - expected) < 1e-9


def test_hand_solvable_rates():
    # 730 days = 2 years on ACT/365F. 100 -> 121: (1 + r)^2 = 1.21, r = 10%.
    assert abs(xirr([(date(2021, 1, 1), -10_000), (date(2023, 1, 1), 12_100)]).rate - 0.10) < 1e-12
    # 100 -> 81: (1 + r)^2 = 0.81, r = -10%.
    assert abs(xirr([(date(2021, 1, 1), -10_000), (date(2023, 1, 1), 8_100)]).rate + 0.10) < 1e-12
    # Order of the list does not matter, and same-day flows are netted: -60 and -40 on day 0.
    flows = [(date(2023, 1, 1), 12_100), (date(2021, 1, 1), -6_000), (date(2021, 1, 1), -4_000)]
    assert abs(xirr(flows).rate - 0.10) < 1e-12


def test_not_applicable_cases_say_why():
    assert xirr([]).reason == "fewer than 2 flows"
    assert xirr([(date(2021, 1, 1), -100)]).reason == "fewer than 2 flows"
    only_in = [(date(2021, 1, 1), -100), (date(2022, 1, 1), -100)]
    assert xirr(only_in).reason == "all flows have the same sign (netted by date)"
    assert xirr(only_in).rate is None and xirr(only_in).is_na
    # Same-day flows that cancel leave nothing to solve.
    assert xirr([(date(2021, 1, 1), -100), (date(2021, 1, 1), 100)]).reason.startswith("all flows have the same sign")


def test_rate_beyond_the_search_range_is_not_applicable():
    # Doubling in one day is (2^365 - 1) a year: far beyond 1,000,000 (100,000,000%).
    result = xirr([(date(2021, 1, 1), -100), (date(2021, 1, 2), 200)])
    assert result.reason == "no IRR between -99.9999% and 100000000.0000% a year"


def test_multiple_sign_changes_with_a_unique_root():
    # -10,000, +5,000, -1,000, +8,000 a year apart. With v = 1/(1+r):
    # f(v) = -10,000 + 5,000v - 1,000v^2 + 8,000v^3, f'(v) = 5,000 - 2,000v + 24,000v^2 > 0
    # (discriminant 4e6 - 4.8e8 < 0), so one root despite three sign changes.
    # At 8%: -10,000 + 4,629.63 - 857.34 + 6,350.66 = +122.95; at 10%: -270.48; so 8% < r < 10%.
    flows = [(date(2001, 1, 1), -10_000), (date(2002, 1, 1), 5_000),
             (date(2003, 1, 1), -1_000), (date(2004, 1, 1), 8_000)]
    result = xirr(flows)
    assert 0.08 < result.rate < 0.10
    npf = pytest.importorskip("numpy_financial")
    assert abs(result.rate - npf.irr([-10_000, 5_000, -1_000, 8_000])) < 1e-10  # whole years: same as IRR


def test_two_roots_are_reported_as_not_applicable_or_nearest_zero():
    # -100, +230, -132: 132v^2 - 230v + 100 = 0, v = (230 +- 10) / 264, so r = 10% or 20%.
    flows = [(date(2001, 1, 1), -10_000), (date(2002, 1, 1), 23_000), (date(2003, 1, 1), -13_200)]
    result = xirr(flows)
    assert result.rate is None
    assert result.reason == "multiple IRRs: 10.0000%, 20.0000%"
    assert [round(r, 9) for r in result.roots] == [0.1, 0.2]
    assert abs(xirr(flows, multiple="nearest_zero").rate - 0.10) < 1e-12
    with pytest.raises(ValidationError, match="multiple must be one of n/a, nearest_zero"):
        xirr(flows, multiple="largest")


def test_sign_changes_but_no_root():
    # -100, +150, -100: 100v^2 - 150v + 100 has discriminant 22,500 - 40,000 < 0: NPV < 0 always.
    flows = [(date(2001, 1, 1), -10_000), (date(2002, 1, 1), 15_000), (date(2003, 1, 1), -10_000)]
    result = xirr(flows)
    assert result.rate is None
    assert result.reason == "no IRR: NPV never changes sign between -99.9999% and 100000000.0000% a year"


def test_money_must_be_int_pence():
    with pytest.raises(FuelError, match="must be a whole number of pence"):
        xirr([(date(2021, 1, 1), -100.0), (date(2022, 1, 1), 110)])
    with pytest.raises(ValidationError, match="flow 0 must be \\(date, pence\\)"):
        xirr([("2021-01-01", -100), (date(2022, 1, 1), 110)])


def test_xirr_many_agrees_with_xirr_one_by_one():
    rows = [("excel", d, a) for d, a in EXCEL_FLOWS]
    rows += [("ten", date(2021, 1, 1), -10_000), ("ten", date(2023, 1, 1), 12_100)]
    rows += [("two_roots", date(2001, 1, 1), -10_000), ("two_roots", date(2002, 1, 1), 23_000),
             ("two_roots", date(2003, 1, 1), -13_200)]
    rows += [("unique", date(2001, 1, 1), -10_000), ("unique", date(2002, 1, 1), 5_000),
             ("unique", date(2003, 1, 1), -1_000), ("unique", date(2004, 1, 1), 8_000)]
    rows += [("one", date(2021, 1, 1), -5)]
    rows += [("same_sign", date(2021, 1, 1), -5), ("same_sign", date(2021, 2, 1), -5)]
    rows += [("too_fast", date(2021, 1, 1), -100), ("too_fast", date(2021, 1, 2), 200)]
    frame = pd.DataFrame(rows, columns=["investor", "day", "amount_pence"])
    result = xirr_many(frame)
    for investor, group in frame.groupby("investor"):
        one = xirr(list(zip(group["day"], group["amount_pence"].astype(int).tolist())))
        if one.rate is None:
            assert np.isnan(result.loc[investor, "rate"])
            assert result.loc[investor, "reason"] == one.reason
        else:
            assert abs(result.loc[investor, "rate"] - one.rate) < 1e-12
            assert result.loc[investor, "reason"] is None


def test_xirr_many_refuses_float_money():
    frame = pd.DataFrame({"investor": ["a", "a"], "day": [date(2021, 1, 1), date(2022, 1, 1)],
                          "amount_pence": [-100.0, 110.0]})
    with pytest.raises(ValidationError, match="amount_pence must be integer pence, got dtype float64"):
        xirr_many(frame)


# ---------------------------------------------------------------------------------------------
# Multiples
# ---------------------------------------------------------------------------------------------


def test_multiples_exact_and_displayed():
    # Paid in 1,000, distributed 400, NAV 900: DPI 0.4, RVPI 0.9, TVPI 1.3.
    result = multiples(100_000, 40_000, 90_000)
    assert (result.dpi, result.rvpi, result.tvpi) == (Decimal("0.4000"), Decimal("0.9000"), Decimal("1.3000"))
    assert result.tvpi_exact == Fraction(13, 10)


def test_rounding_difference_sits_in_rvpi_so_tvpi_adds_up():
    # Paid 3, distributed 1, NAV 1: DPI 1/3 -> 0.3333, TVPI 2/3 -> 0.6667, so RVPI shows 0.3334.
    result = multiples(3, 1, 1)
    assert (result.dpi, result.rvpi, result.tvpi) == (Decimal("0.3333"), Decimal("0.3334"), Decimal("0.6667"))
    assert result.dpi + result.rvpi == result.tvpi
    assert result.dpi_exact + result.rvpi_exact == result.tvpi_exact == Fraction(2, 3)
    # Half rounds up: 1/8 = 0.125 -> 0.13 at two places.
    assert multiples(8, 1, 0, places=2).dpi == Decimal("0.13")


def test_multiples_not_applicable_without_paid_in():
    result = multiples(0, 0, 5_000)
    assert result.is_na and result.tvpi is None and result.reason == "n/a: nothing paid in"


def test_multiples_refuse_negative_paid_in_and_floats():
    with pytest.raises(ValidationError, match="must not be negative"):
        multiples(-1, 0, 0)
    with pytest.raises(FuelError, match="whole number of pence"):
        multiples(100, 10.5, 0)
