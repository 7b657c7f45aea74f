from decimal import Decimal
from fractions import Fraction

import pytest

from ledger.errors import MoneyError
from ledger.money import (
    Money,
    allocate,
    apply_rate,
    format_amount,
    parse_amount,
    round_minor,
)


def test_money_refuses_float_and_bool():
    with pytest.raises(MoneyError, match="must be a whole number of pence"):
        Money(12.5)
    with pytest.raises(MoneyError, match="got bool"):
        Money(True)


def test_money_refuses_unknown_currency():
    with pytest.raises(MoneyError, match="unknown currency 'XYZ'"):
        Money(100, "XYZ")


def test_money_arithmetic_keeps_currency():
    assert Money(150) + Money(250) == Money(400)
    assert Money(150) - Money(250) == Money(-100)
    assert -Money(5) == Money(-5)
    assert Money(7) * 3 == Money(21) == 3 * Money(7)
    with pytest.raises(MoneyError, match="cannot combine GBP with EUR"):
        Money(1) + Money(1, "EUR")


def test_arithmetic_that_would_lose_pence_is_an_error():
    with pytest.raises(MoneyError, match="would lose pence"):
        Money(100) / 3
    with pytest.raises(MoneyError, match="would lose pence"):
        Money(100) // 3
    with pytest.raises(MoneyError, match="apply_rate"):
        Money(100) * Decimal("0.5")


def test_round_minor_named_modes():
    assert round_minor(Decimal("2.5")) == 3  # half_up is the default
    assert round_minor(Decimal("-2.5")) == -3
    assert round_minor(Decimal("2.5"), "half_even") == 2
    assert round_minor(Decimal("2.99"), "down") == 2
    assert round_minor(Fraction(5, 2)) == 3
    with pytest.raises(MoneyError, match="unknown rounding mode 'bankers'"):
        round_minor(Decimal(1), "bankers")
    with pytest.raises(MoneyError, match="refusing to round a float"):
        round_minor(2.5)


def test_apply_rate_rounds_half_up():
    # 30% central top-up share of 1,001 pence = 300.3 -> 300
    assert apply_rate(1001, Decimal("0.30")) == 300
    # 14% of 12,345 pence = 1,728.3 -> 1,728; 45% of 12,345 = 5,555.25 -> 5,555
    assert apply_rate(12345, "0.14") == 1728
    assert apply_rate(12345, "0.45") == 5555
    assert apply_rate(5, "0.5") == 3  # 2.5 -> 3 half-up
    with pytest.raises(MoneyError, match="Decimal or a string, not float"):
        apply_rate(100, 0.3)


@pytest.mark.parametrize(
    "text, pence",
    [("1234.50", 123450), ("0.01", 1), ("-3", -300), ("  7.1 ", 710), ("8200", 820000)],
)
def test_parse_amount(text, pence):
    assert parse_amount(text) == pence


@pytest.mark.parametrize(
    "text, message",
    [
        ("£1,234.5", "not a plain amount"),
        ("1,234.50", "not a plain amount"),
        ("1e3", "not a plain amount"),
        ("12.345", "more than 2 decimal places"),
        ("", "not a plain amount"),
    ],
)
def test_parse_amount_refuses_guesses(text, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text)


def test_format_amount():
    assert format_amount(123456) == "1234.56"
    assert format_amount(-5) == "-0.05"
    assert format_amount(123456789, separators=True) == "1,234,567.89"
    assert format_amount(1500, "JPY") == "1500"
    assert str(Money(262900000)) == "2,629,000.00 GBP"


def test_allocate_largest_remainder_and_tie_break():
    # 100 over three equal weights: 33.33 each, the spare penny goes to the first.
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    # remainders 0.5, 0.5 -> earliest wins
    assert allocate(1, [1, 1]) == [1, 0]
    # pro rata commitments 500k/300k/200k of a 100,001 call
    assert allocate(100001, [500000, 300000, 200000]) == [50001, 30000, 20000]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(10, [0, 3, 1]) == [0, 8, 2]  # 7.5 -> 8, 2.5 -> 2: largest remainder ties to earliest
    assert allocate(0, [0, 0]) == [0, 0]


def test_allocate_refuses_bad_weights():
    with pytest.raises(MoneyError, match="weight 1 is negative"):
        allocate(10, [1, -1])
    with pytest.raises(MoneyError, match="sum to zero"):
        allocate(10, [0, 0])
    with pytest.raises(MoneyError, match="weight 0 is a float"):
        allocate(10, [0.5, 0.5])
