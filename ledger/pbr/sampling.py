"""Validation sampling and clawback (DESIGN.md section 5, item 14).

A commissioner re-checks a sample of the lines it has paid. Stages, each a pure function:

1. :func:`select_sample`: which paid lines to re-check. Deterministic and order-free: each line
   is ranked by SHA-256 of ``"<seed>:<line_id>"`` and the lowest ``sample_size`` ranks are taken.
   The same seed and the same set of lines always give the same sample, whatever order the
   lines arrive in; adding lines never reshuffles the ranks of the others.
2. :func:`assess_sample`: the re-check result (ids found invalid) becomes a recovery:
   ``error_rate = invalid value / sampled value`` (an exact Fraction), and either
   ``"extrapolate"``: ``round(error_rate * total paid value of the claim)`` with a named mode, or
   ``"line"``: the sum of the invalid lines only. Recovery never exceeds the total paid.
3. :func:`schedule_clawback`: the recovery is taken from the following statements as a negative
   adjustment. It never takes a statement's net below zero: if the next statement is smaller
   than the clawback, that statement nets to zero and the rest is carried forward to the one
   after, and so on; whatever is left after the last statement given is reported as still
   outstanding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from ledger.errors import InvariantBroken, ValidationError
from ledger.money import DEFAULT_ROUNDING, ROUNDING_MODES, check_pence, round_minor

RECOVERY_METHODS = ("extrapolate", "line")


def _rank_key(seed: int | str, line_id: str) -> bytes:
    return hashlib.sha256(f"{seed}:{line_id}".encode()).digest()


def select_sample(line_ids: Iterable[str], sample_size: int, seed: int | str) -> tuple[str, ...]:
    """The ``sample_size`` line ids with the lowest SHA-256 rank under ``seed``, in rank order.

    A sample size at or above the number of lines samples every line.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ValidationError(f"seed must be an int or text, got {seed!r}", field="seed")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
        raise ValidationError(f"sample_size must be a whole number >= 0, got {sample_size!r}", field="sample_size")
    ids = [str(line_id) for line_id in line_ids]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        duplicates = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
        raise ValidationError(f"duplicate line ids: {', '.join(duplicates[:10])}", field="line_id")
    # Tie-break on the id itself so the order is total even in the (theoretical) event of a
    # hash collision.
    ranked = sorted(ids, key=lambda line_id: (_rank_key(seed, line_id), line_id))
    return tuple(ranked[:sample_size])


@dataclass(frozen=True, slots=True)
class SampleAssessment:
    sampled_ids: tuple[str, ...]
    invalid_ids: tuple[str, ...]
    sampled_value_pence: int
    invalid_value_pence: int
    error_rate: Fraction  # invalid value / sampled value; 0 when the sample is worth nothing
    total_paid_pence: int  # the whole claim's paid value
    method: str  # "extrapolate" or "line"
    rounding: str
    recovery_pence: int  # the clawback to carry to the next statement


def assess_sample(
    paid_pence_by_line: Mapping[str, int],
    sampled_ids: Sequence[str],
    invalid_ids: Iterable[str],
    *,
    method: str = "extrapolate",
    rounding: str = DEFAULT_ROUNDING,
) -> SampleAssessment:
    """Turn a re-check of ``sampled_ids`` (``invalid_ids`` failed it) into a recovery.

    ``paid_pence_by_line`` is every paid line of the claim (line id -> amount paid, pence >= 0).
    """
    if method not in RECOVERY_METHODS:
        raise ValidationError(f"unknown recovery method {method!r} (known: {', '.join(RECOVERY_METHODS)})",
                              field="method")
    if rounding not in ROUNDING_MODES:
        raise ValidationError(f"unknown rounding mode {rounding!r}", field="rounding")
    for line_id, amount in paid_pence_by_line.items():
        check_pence(amount, f"paid_pence[{line_id}]")
        if amount < 0:
            raise ValidationError(f"line {line_id} has a negative paid amount ({amount})", field="amount_pence")
    sampled = tuple(sampled_ids)
    invalid = tuple(sorted(set(invalid_ids)))
    unknown = [i for i in sampled if i not in paid_pence_by_line]
    if unknown:
        raise ValidationError(f"sampled lines not in the claim: {', '.join(unknown[:10])}", field="sampled_ids")
    if len(set(sampled)) != len(sampled):
        raise ValidationError("a line was sampled twice", field="sampled_ids")
    outside = sorted(set(invalid) - set(sampled))
    if outside:
        # Only re-checked lines can be found invalid; anything else is a separate correction.
        raise ValidationError(f"lines found invalid but not in the sample: {', '.join(outside[:10])}",
                              field="invalid_ids")
    sampled_value = sum(paid_pence_by_line[i] for i in sampled)
    invalid_value = sum(paid_pence_by_line[i] for i in invalid)
    total = sum(paid_pence_by_line.values())
    error_rate = Fraction(invalid_value, sampled_value) if sampled_value else Fraction(0)
    if method == "line":
        recovery = invalid_value
    else:
        recovery = round_minor(error_rate * total, rounding)
    if not 0 <= recovery <= total:
        raise InvariantBroken(f"recovery {recovery} outside [0, {total}]")  # error_rate <= 1, so a bug
    return SampleAssessment(sampled, invalid, sampled_value, invalid_value, error_rate, total, method,
                            rounding, recovery)


@dataclass(frozen=True, slots=True)
class ClawbackStep:
    statement_index: int
    net_before_pence: int  # the statement's net before the clawback
    adjustment_pence: int  # negative (or 0): what the clawback takes from this statement
    net_after_pence: int  # never below zero because of the clawback
    carried_forward_pence: int  # clawback still to recover after this statement


@dataclass(frozen=True, slots=True)
class ClawbackSchedule:
    clawback_pence: int
    steps: tuple[ClawbackStep, ...]
    recovered_pence: int
    outstanding_pence: int  # not yet recovered after the last statement given


def schedule_clawback(clawback_pence: int, next_statements_net_pence: Sequence[int]) -> ClawbackSchedule:
    """Take ``clawback_pence`` from the following statements, in order, as negative adjustments.

    Each statement gives up at most its own net (a statement already at or below zero gives up
    nothing); the rest is carried forward to the next statement.
    """
    check_pence(clawback_pence, "clawback_pence")
    if clawback_pence < 0:
        raise ValidationError(f"clawback_pence must be >= 0, got {clawback_pence}", field="clawback_pence")
    outstanding = clawback_pence
    steps = []
    for index, net in enumerate(next_statements_net_pence):
        check_pence(net, f"next_statements_net_pence[{index}]")
        taken = min(outstanding, max(net, 0))
        outstanding -= taken
        steps.append(ClawbackStep(index, net, -taken, net - taken, outstanding))
    return ClawbackSchedule(clawback_pence, tuple(steps), clawback_pence - outstanding, outstanding)
