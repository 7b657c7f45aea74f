"""Periods: half-open date ranges ``[start, end)``; quarters are named like ``2026Q3``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.errors import ValidationError

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open range of effective dates, ``start <= d < end``."""

    name: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError(f"period {self.name}: end {self.end} is not after start {self.start}")

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @classmethod
    def quarter(cls, year: int, number: int) -> "Period":
        if number not in (1, 2, 3, 4):
            raise ValidationError(f"quarter number must be 1-4, got {number}")
        start = date(year, 3 * number - 2, 1)
        end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
        return cls(f"{year}Q{number}", start, end)

    @classmethod
    def parse(cls, text: str) -> "Period":
        """Parse a quarter name such as ``2026Q3``."""
        match = _QUARTER.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValidationError(f"period {text!r} is not a quarter like 2026Q3", field="period")
        year = int(match.group(1))
        if not 1 <= year <= 9998:  # the quarter's end (the next 1 January) must be a date too
            raise ValidationError(f"period {text!r}: the year must be 0001 to 9998", field="period")
        return cls.quarter(year, int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> "Period":
        """The calendar quarter that contains ``day``."""
        return cls.quarter(day.year, (day.month - 1) // 3 + 1)

    def previous(self) -> "Period":
        return Period.containing(self.start - timedelta(days=1))

    def next(self) -> "Period":
        return Period.containing(self.end)

    def year_start(self) -> date:
        return date(self.start.year, 1, 1)

    def __str__(self) -> str:
        return self.name


#: Plausible dates (issue 16 item 12): nothing Fuel records happened before 1990 or after 2100,
#: and a date near ``date.max`` overflows the day arithmetic of every as-of query. A deployment
#: can widen them with FUEL_DATE_MIN / FUEL_DATE_MAX (YYYY-MM-DD).
DATE_MIN: date = date.fromisoformat(os.environ.get("FUEL_DATE_MIN", "1990-01-01"))
DATE_MAX: date = date.fromisoformat(os.environ.get("FUEL_DATE_MAX", "2100-12-31"))


def check_date_bounds(day: date, what: str = "date") -> date:
    """``day`` if it lies in ``[DATE_MIN, DATE_MAX]``; otherwise a ValidationError naming the field."""
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(f"{what} {day.isoformat()} is outside the plausible dates {DATE_MIN.isoformat()} to "
                              f"{DATE_MAX.isoformat()}", field=what)
    return day


def parse_date(text: str, what: str = "date") -> date:
    """Parse an ISO date ``YYYY-MM-DD``; anything else is refused with the field named.

    Only ISO is accepted: ``03/04/2026`` is 3 April in the UK and 4 March in the US, and money
    must not depend on a guess.
    """
    if isinstance(text, date):
        return check_date_bounds(text, what)
    try:
        if not isinstance(text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a date in the form YYYY-MM-DD", field=what) from None
    return check_date_bounds(day, what)
