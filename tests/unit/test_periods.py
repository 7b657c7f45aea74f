from datetime import date

import pytest

from ledger.errors import ValidationError
from ledger.periods import Period, parse_date


def test_quarters_are_half_open():
    q3 = Period.parse("2026Q3")
    assert (q3.start, q3.end, q3.last_day) == (date(2026, 7, 1), date(2026, 10, 1), date(2026, 9, 30))
    assert date(2026, 9, 30) in q3 and date(2026, 10, 1) not in q3
    assert Period.parse("2026q4").end == date(2027, 1, 1)
    assert Period.containing(date(2026, 2, 28)).name == "2026Q1"
    assert q3.previous().name == "2026Q2" and q3.next().name == "2026Q4"


@pytest.mark.parametrize("text", ["2026Q5", "Q3 2026", "2026-3", ""])
def test_bad_quarter_names(text):
    with pytest.raises(ValidationError, match="is not a quarter like 2026Q3"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["9999Q4", "0000Q1"])
def test_quarters_outside_the_calendar_are_refused_naming_the_field(text):
    with pytest.raises(ValidationError, match="the year must be") as raised:
        Period.parse(text)
    assert raised.value.field == "period"


@pytest.mark.parametrize("text", ["01/02/2026", "2026-13-01", "2026-2-1", "yesterday"])
def test_only_iso_dates(text):
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        parse_date(text)
