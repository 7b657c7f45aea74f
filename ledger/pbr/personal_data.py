"""What the participant register may hold (DESIGN.md section 8): a pseudonymous id and the
attributes a contract's rules need, never a direct identifier.

A participants file with a column that names a person, an address, a contact detail or a
government/NHS number is refused whole: Fuel has no use for it, and holding it would turn a
pseudonymous register into an identifying one. Attributes a rule may need (date of birth for
an age rule, an age band, a cohort, a local authority area) are still accepted.
"""

from __future__ import annotations

import re

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


def _normalised(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def identifying_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The columns of a header that would put direct identifiers in the register, in order."""
    return [c for c in columns if _normalised(str(c)) in IDENTIFYING_COLUMNS]


def refusal(source_name: str, column: str) -> str:
    return (f"{source_name}: column {column!r} looks like personal data that identifies a participant; the "
            "register keeps only the pseudonymous participant_id and the attributes a contract needs "
            "(start_date, cohort, partner, e.g. age_band): remove the column")
