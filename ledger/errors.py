"""One hierarchy of errors a user can act on.

Every class here is a *user* mistake or a refused request: the CLI prints its message and
exits non-zero, the API maps it to a problem-details response. A broken invariant inside Fuel
is an ``InvariantBroken`` and is a bug, never a user's fault.
"""

from __future__ import annotations


class FuelError(Exception):
    """Base of every error Fuel reports to a user (no traceback)."""

    #: short machine-readable code, used by the API's problem ``type``.
    code = "fuel-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class MoneyError(FuelError, ValueError):
    code = "money"


class ValidationError(FuelError, ValueError):
    """Input that is malformed or breaks a rule of the ledger."""

    code = "validation"


class UnbalancedEntry(ValidationError):
    code = "unbalanced-entry"


class ClosedPeriodError(FuelError):
    code = "closed-period"


class IdempotencyConflict(FuelError):
    code = "idempotency-conflict"


class NotFound(FuelError, LookupError):
    code = "not-found"


class AlreadyReversed(FuelError):
    code = "already-reversed"


class ImportRejected(FuelError):
    """A whole file was refused; ``problems`` lists every bad row/field."""

    code = "import-rejected"

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *("  " + p for p in self.problems)])


class InvariantBroken(AssertionError):
    """A rule Fuel itself guarantees did not hold: a bug, not a user mistake."""
