"""What the participant register may hold (DESIGN.md section 8): a pseudonymous id and the
attributes a contract's rules need, never a direct identifier.

A participants file with a column that names a person, an address, a contact detail or a
government/NHS number is refused whole: Fuel has no use for it, and holding it would turn a
pseudonymous register into an identifying one. Attributes a rule may need (an age band, a
cohort, a local authority area) are still accepted; a date of birth is not (an age band is the
pseudonymous alternative).

Column names are not enough: an e-mail address used as a participant id, or a National
Insurance number typed into the cohort column, identifies a person just as well. So every value
of every column (evidence references included) is also matched against the shapes of the
direct identifiers a UK provider holds: e-mail address, NI number, UK phone number and full
postcode. The patterns are deliberately a little wide: a refused pseudonymous id is cheap to
rename, a stored NI number cannot be taken back from the claims a council has seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Column names (normalised: lower case, letters and digits only) that identify a person.
IDENTIFYING_COLUMNS: frozenset[str] = frozenset({
    # names
    "name", "fullname", "firstname", "forename", "forenames", "givenname", "middlename", "lastname", "surname",
    "familyname", "preferredname", "maidenname", "knownas", "alias",
    # where they live and how to reach them
    "address", "address1", "address2", "address3", "addressline1", "addressline2", "homeaddress", "street",
    "streetaddress", "housenumber", "postcode", "zipcode", "zip", "email", "emailaddress", "phone",
    "phonenumber", "telephone", "mobile", "mobilenumber", "tel",
    # government, health and justice identifiers
    "ni", "nino", "ninumber", "nationalinsurance", "nationalinsurancenumber", "nhs", "nhsnumber", "chinumber",
    "passport", "passportnumber", "drivinglicence", "drivinglicencenumber", "pncid", "pncnumber", "prisonnumber",
    "nomsnumber", "ssn", "socialsecuritynumber", "uln", "upn",
    # identifying free text
    "notes", "comments", "casenotes",
})

#: Column names (normalised) that hold a date of birth: refused, an age band says enough.
BIRTH_DATE_COLUMNS: frozenset[str] = frozenset({
    "dob", "dateofbirth", "birthdate", "birthday", "birthdt", "dobdate", "dateofbirthddmmyyyy", "yearofbirth",
    "birthyear", "yob",
})

#: The shapes of direct identifiers, in the order a message names them.
IDENTIFYING_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Anchored at the start of a local part, so a long cell with no "@" is scanned once, not once
    # per character (unanchored, a 5 MB evidence reference took hours).
    ("an e-mail address", re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)),
    ("a National Insurance number", re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])", re.ASCII)),
    ("a UK phone number", re.compile(r"(?<![\w+])(?:\+44|0044|0)[\s()-]*[1-9](?:[\s()-]*\d){8,9}(?!\d)", re.ASCII)),
    ("a full postcode", re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,2}\d[A-Za-z\d]?|GIR) ?\d[A-Za-z]{2}(?![A-Za-z0-9])", re.ASCII)),
)


def _normalised(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def identifying_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The columns of a header that would put direct identifiers in the register, in order."""
    return [c for c in columns if _normalised(str(c)) in IDENTIFYING_COLUMNS]


def birth_date_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The columns of a header that hold a date of birth, in order."""
    return [c for c in columns if _normalised(str(c)) in BIRTH_DATE_COLUMNS or "birth" in _normalised(str(c))]


def birth_date_refusal(source_name: str, column: str) -> str:
    return (f"{source_name}: column {column!r} holds a date of birth, which with a start date identifies a "
            "participant; give an age band instead (e.g. age_band with 18-24, 25-34): remove the column")


def identifying_value(value: str) -> str | None:
    """What kind of direct identifier ``value`` looks like, or None."""
    for kind, pattern in IDENTIFYING_VALUES:
        if pattern.search(value):
            return kind
    return None


def identifying_values(rows: Iterable[tuple[int, dict[str, str]]], source_name: str,
                       limit: int = 200) -> list[tuple[int, str]]:
    """``(row, message)`` for every cell that looks like a direct identifier, naming row and column.
    The value itself is never repeated in the message (it would then sit in logs and terminals)."""
    problems: list[tuple[int, str]] = []
    for row_number, cells in rows:
        for column, value in cells.items():
            kind = identifying_value(str(value)) if value else None
            if kind:
                problems.append((row_number, f"{source_name}: row {row_number}: column {column!r}: the value looks "
                                 f"like {kind}, which identifies a person; the register and outcome files hold "
                                 "pseudonymous ids only: replace it with the provider's own reference"))
                if len(problems) >= limit:
                    return problems
    return problems


def refusal(source_name: str, column: str) -> str:
    return (f"{source_name}: column {column!r} looks like personal data that identifies a participant; the "
            "register keeps only the pseudonymous participant_id and the attributes a contract needs "
            "(start_date, cohort, partner, e.g. age_band): remove the column")
