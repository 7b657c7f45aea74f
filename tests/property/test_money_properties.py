from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import MoneyError
from ledger.money import Money, allocate, format_amount, parse_amount

amounts = st.integers(min_value=-10**14, max_value=10**14)
weights = st.lists(
    st.one_of(st.integers(0, 10**9), st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)),
    min_size=1,
    max_size=30,
).filter(lambda ws: sum(ws) > 0)


@given(amounts, weights)
def test_allocation_conserves_every_penny(total, ws):
    parts = allocate(total, ws)
    assert sum(parts) == total
    assert len(parts) == len(ws)
    # each share is within a penny of its exact pro-rata share
    weight_sum = sum(Decimal(w) for w in ws)
    for part, w in zip(parts, ws):
        exact = Decimal(total) * Decimal(w) / weight_sum
        assert abs(Decimal(part) - exact) < 1
        if w == 0:
            assert part == 0


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_money_never_accepts_a_float(value):
    with pytest.raises(MoneyError):
        Money(value)


@given(amounts)
def test_parse_and_format_round_trip(pence):
    assert parse_amount(format_amount(pence)) == pence
