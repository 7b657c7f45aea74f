"""The identifier patterns of ledger/pbr/personal_data.py: what they catch, and that a long cell
is scanned once (the unanchored e-mail pattern backtracked once per character of a 5 MB cell)."""

from __future__ import annotations

import pytest

from ledger.pbr.personal_data import identifying_value


@pytest.mark.parametrize(("value", "kind"), [
    ("jo.smith@example.org", "an e-mail address"),
    ("see o'neil+case@nhs.net today", "an e-mail address"),
    ("QQ 12 34 56 C", "a National Insurance number"),
    ("0151 496 0123", "a UK phone number"),
    ("+44 7700 900123", "a UK phone number"),
    ("L1 8JQ", "a full postcode"),
])  # fmt: skip
def test_direct_identifiers_are_named(value: str, kind: str) -> None:
    assert identifying_value(value) == kind


@pytest.mark.parametrize("value", ["DOC-2026-0001", "P001", "x@y", "cohort-A", "25-34"])
def test_pseudonymous_references_pass(value: str) -> None:
    assert identifying_value(value) is None


def test_a_five_megabyte_cell_without_an_identifier_is_scanned_in_one_pass() -> None:
    # Quadratic backtracking here hung CI for 90 minutes; pytest-timeout bounds every test.
    assert identifying_value("DOC-" + "x" * 5_000_000) is None
    assert identifying_value("DOC-" + "x" * 5_000_000 + " jo@example.org") == "an e-mail address"
