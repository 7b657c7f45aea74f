"""The project pipeline: the stages a project moves through, and which moves are allowed (pure).

Stages, in order: idea, incubation, acceleration, contracted, delivering,
service_delivery_complete, complete; and ``closed`` (stopped or wound up, from any stage).

Moves (docs/joint-prime.md, "Project pipeline"):

* forward to any later stage, skipping stages allowed (a project can arrive ready to contract);
* to ``closed`` from any stage; nothing moves out of ``closed`` (a closed project that comes
  back is a new project);
* backward only as a correction, which must give a reason (kept in the history);
* the same stage again only to record a revised commitment (``committed_pence``);
* never dated before the project's previous change: the history reads in date order.

Each change is a new row in an append-only history (who, when, note); the current stage is the
latest change on or before a date, so the pipeline can be seen as of any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.errors import ValidationError

STAGES: tuple[str, ...] = (
    "idea", "incubation", "acceleration", "contracted", "delivering", "service_delivery_complete", "complete", "closed",
)  # fmt: skip
CLOSED = "closed"
#: Projects with no stage change yet are reported under this name.
UNSTAGED = "unstaged"
NOTE_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class StageChange:
    project_id: str
    stage: str
    effective_date: date
    committed_pence: int | None = None
    note: str | None = None


def check_stage(stage: object) -> str:
    if stage not in STAGES:
        raise ValidationError(f"stage {stage!r} is not one of {', '.join(STAGES)}", field="stage")
    return stage  # type: ignore[return-value]


def check_change(previous: StageChange | None, change: StageChange) -> str:
    """Raise if ``change`` may not follow ``previous``; else return its kind:
    ``start``, ``forward``, ``close``, ``correction`` or ``recommit``."""
    check_stage(change.stage)
    if change.committed_pence is not None:
        if isinstance(change.committed_pence, bool) or not isinstance(change.committed_pence, int) or change.committed_pence < 0:
            raise ValidationError(f"committed amount must be whole pence, not negative, got {change.committed_pence!r}",
                                  field="committed")  # fmt: skip
    if change.note is not None and len(change.note) > NOTE_MAX_CHARS:
        raise ValidationError(f"note is longer than {NOTE_MAX_CHARS} characters", field="note")
    if previous is None:
        return "start"
    where = f"project {change.project_id}"
    if change.effective_date < previous.effective_date:
        raise ValidationError(
            f"{where}: a stage change dated {change.effective_date} is before its last change "
            f"({previous.stage} on {previous.effective_date}); the history reads in date order",
            field="date",
        )
    if previous.stage == CLOSED:
        raise ValidationError(f"{where} is closed (since {previous.effective_date}); nothing moves out of closed",
                              field="stage")  # fmt: skip
    old, new = STAGES.index(previous.stage), STAGES.index(change.stage)
    if new == old:
        if change.committed_pence is None:
            raise ValidationError(f"{where} is already {change.stage}; repeat a stage only to record a revised "
                                  "commitment (--committed)", field="stage")  # fmt: skip
        return "recommit"
    if change.stage == CLOSED:
        return "close"
    if new > old:
        return "forward"
    if not change.note or not change.note.strip():
        raise ValidationError(
            f"{where}: moving back from {previous.stage} to {change.stage} is a correction and needs a reason (--note)",
            field="note",
        )
    return "correction"
