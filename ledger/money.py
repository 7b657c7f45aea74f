"""Money: integer minor units (pence) with a currency, and the only ways to round and split it.

Rules (DESIGN.md section 3):

* an amount is an ``int`` of minor units; a ``float`` is refused wherever it could enter;
* rates and percentages are ``Decimal``; money meets a rate only in :func:`apply_rate`, which
  rounds through :func:`round_minor` with a named mode;
* splitting goes through :func:`allocate`, which conserves the total exactly (largest
  remainder, ties to the earliest weight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, Sequence

from ledger.errors import MoneyError

#: ISO 4217 currencies Fuel knows, with their minor-unit exponent.
CURRENCY_EXPONENTS: dict[str, int] = {
    "GBP": 2,
    "EUR": 2,
    "USD": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "JPY": 0,
}
DEFAULT_CURRENCY = "GBP"

#: Named rounding modes a contract or fund term may choose. ``half_up`` is the default.
ROUNDING_MODES: dict[str, str] = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
}
DEFAULT_ROUNDING = "half_up"


def check_currency(currency: object) -> str:
    """Return ``currency`` if Fuel knows it, else raise naming it."""
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise MoneyError(f"unknown currency {currency!r} (known: {known})", field="currency")
    return currency


def check_pence(amount: object, what: str = "amount_pence") -> int:
    """Return ``amount`` if it is a whole number of minor units (an ``int``), else raise."""
    # bool is an int subclass; True pence is a bug, not an amount.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(
            f"{what} must be a whole number of pence (int), got {type(amount).__name__} {amount!r}",
            field=what,
        )
    return amount


def round_minor(value: Decimal | Fraction | int, mode: str = DEFAULT_ROUNDING) -> int:
    """Round an exact quantity of minor units to a whole number with a named mode.

    This is the one place Fuel rounds money. ``value`` must be exact (Decimal, Fraction, int).
    """
    if isinstance(value, float):
        raise MoneyError("refusing to round a float: compute money with Decimal or Fraction")
    try:
        rounding = ROUNDING_MODES[mode]
    except KeyError:
        raise MoneyError(
            f"unknown rounding mode {mode!r} (known: {', '.join(ROUNDING_MODES)})", field="rounding"
        ) from None
    if isinstance(value, Fraction):
        # Decimal division at high precision, then quantise: exact enough for any
        # realistic amount, and ties (x.5 exactly) stay exact because they have short decimals.
        if value.denominator == 1:
            return value.numerator
        from decimal import localcontext

        with localcontext() as ctx:
            ctx.prec = 60
            value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(Decimal(value).quantize(Decimal(1), rounding=rounding))


def apply_rate(amount_pence: int, rate: Decimal | str | int, mode: str = DEFAULT_ROUNDING) -> int:
    """``amount_pence * rate``, rounded with the named mode. ``rate`` is a Decimal, never a float."""
    check_pence(amount_pence)
    return round_minor(Decimal(amount_pence) * to_decimal(rate, "rate"), mode)


def to_decimal(value: object, what: str = "rate") -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"{what} must be a Decimal or a string, not {type(value).__name__}", field=what)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise MoneyError(f"{what} {value!r} is not a number", field=what) from None
    else:
        raise MoneyError(f"{what} must be a Decimal or a string, not {type(value).__name__}", field=what)
    if not result.is_finite():
        raise MoneyError(f"{what} {value!r} is not a finite number", field=what)
    return result


#: ASCII digits only: "\d" would also take Arabic-Indic, full-width and mathematical digits (issue 16).
_AMOUNT_TEXT = re.compile(r"^(-)?([0-9]+)(?:\.([0-9]+))?$")


def parse_amount(text: str, currency: str = DEFAULT_CURRENCY, what: str = "amount") -> int:
    """Parse a plain decimal string in major units (``"1234.50"``) to minor units.

    Refuses thousands separators, currency symbols, exponents and more decimal places than the
    currency has: each would otherwise be a silent guess about what the user meant.
    """
    exponent = CURRENCY_EXPONENTS[check_currency(currency)]
    if not isinstance(text, str):
        raise MoneyError(f"{what} must be text like 1234.50, got {type(text).__name__}", field=what)
    stripped = text.strip()
    match = _AMOUNT_TEXT.match(stripped)
    if not match:
        raise MoneyError(
            f"{what} {text!r} is not a plain amount like 1234.50 "
            "(no currency symbols, thousands separators or exponents)",
            field=what,
        )
    sign, whole, frac = match.groups()
    frac = frac or ""
    if len(frac) > exponent:
        raise MoneyError(
            f"{what} {text!r} has more than {exponent} decimal places for {currency}; "
            "Fuel will not guess how to round it",
            field=what,
        )
    minor = int(whole) * 10**exponent + (int(frac.ljust(exponent, "0")) if exponent else 0)
    return -minor if sign else minor


def format_amount(amount_pence: int, currency: str = DEFAULT_CURRENCY, *, separators: bool = False) -> str:
    """Minor units to a plain major-unit string: ``123456 -> "1234.56"`` (``"1,234.56"``)."""
    check_pence(amount_pence)
    exponent = CURRENCY_EXPONENTS[check_currency(currency)]
    sign = "-" if amount_pence < 0 else ""
    whole, frac = divmod(abs(amount_pence), 10**exponent)
    whole_text = f"{whole:,}" if separators else str(whole)
    return f"{sign}{whole_text}.{frac:0{exponent}d}" if exponent else f"{sign}{whole_text}"


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of minor units in one currency. Immutable; never built from a float."""

    amount_pence: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        check_pence(self.amount_pence)
        check_currency(self.currency)

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> "Money":
        return cls(parse_amount(text, currency), currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> "Money":
        return cls(0, currency)

    def _same_currency(self, other: object) -> "Money":
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: "Money") -> "Money":
        return Money(self.amount_pence + self._same_currency(other).amount_pence, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        return Money(self.amount_pence - self._same_currency(other).amount_pence, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount_pence, self.currency)

    def __mul__(self, factor: int) -> "Money":
        # Only whole multiples keep pence exact; a rate goes through apply_rate.
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise MoneyError(
                f"Money can only be multiplied by an int; use apply_rate() for {type(factor).__name__}"
            )
        return Money(self.amount_pence * factor, self.currency)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> "Money":
        raise MoneyError("dividing money would lose pence; use allocate() to split it")

    def __floordiv__(self, other: object) -> "Money":
        raise MoneyError("dividing money would lose pence; use allocate() to split it")

    def times_rate(self, rate: Decimal | str, mode: str = DEFAULT_ROUNDING) -> "Money":
        return Money(apply_rate(self.amount_pence, rate, mode), self.currency)

    def allocate(self, weights: Sequence[int | Decimal]) -> list["Money"]:
        return [Money(part, self.currency) for part in allocate(self.amount_pence, weights)]

    def __str__(self) -> str:
        return f"{format_amount(self.amount_pence, self.currency, separators=True)} {self.currency}"


def allocate(total_pence: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split ``total_pence`` in proportion to ``weights``, conserving it exactly.

    Largest remainder: each share is first rounded towards zero, then the pence left over go one
    each to the shares with the largest remainders; ties go to the earlier weight. Negative totals
    split as their absolute value, negated. Zero weights receive nothing.
    """
    check_pence(total_pence, "total_pence")
    exact_weights: list[Fraction] = []
    for index, weight in enumerate(weights):
        if isinstance(weight, (float, bool)):
            raise MoneyError(f"weight {index} is a {type(weight).__name__}; use int or Decimal")
        exact = Fraction(weight)
        if exact < 0:
            raise MoneyError(f"weight {index} is negative ({weight}); weights must be >= 0")
        exact_weights.append(exact)
    weight_sum = sum(exact_weights, Fraction(0))
    if not exact_weights or weight_sum == 0:
        if total_pence == 0:
            return [0] * len(exact_weights)
        raise MoneyError("cannot allocate a non-zero amount over weights that sum to zero")
    sign = -1 if total_pence < 0 else 1
    magnitude = abs(total_pence)
    exact_shares = [magnitude * w / weight_sum for w in exact_weights]
    floors = [share.numerator // share.denominator for share in exact_shares]
    leftover = magnitude - sum(floors)
    # Sort by remainder descending, then index ascending: deterministic tie-break.
    order = sorted(range(len(floors)), key=lambda i: (-(exact_shares[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [sign * part for part in floors]


def sum_pence(amounts: Iterable[int]) -> int:
    """Sum minor units, refusing anything that is not an int."""
    total = 0
    for amount in amounts:
        total += check_pence(amount)
    return total
