"""Project pipeline service: record stage changes (append-only) and report the pipeline.

The pipeline report is one SQL query (portable between SQLite and PostgreSQL): each project's
latest stage change on or before the date, its latest recorded commitment on or before the
date, and what was disbursed to it by then, grouped by stage and theme.

* **committed**: the fund's commitment to the project (memo, off the ledger), as last recorded
  with a stage change (``--committed``) on or before the date;
* **deployed**: what was disbursed to the project by then: debits to the disbursement accounts
  (loans, working capital advances, grants) made by disbursement events, reversals netted
  (the same rule as ``fuel report sources-uses --by project``); repayments do not reduce it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select

from ledger.errors import NotFound
from ledger.flows import DISBURSED_ACCOUNTS, Disbursement
from ledger.pipeline import STAGES, UNSTAGED, StageChange, check_change
from models.fund_tables import ProjectRow
from models.ledger_store import entries_t, postings_t, utc_now
from models.partner_tables import ProjectStageRow

stages_t = ProjectStageRow.__table__
projects_t = ProjectRow.__table__

PIPELINE_COLUMNS = ["stage", "theme", "projects", "committed_pence", "deployed_pence", "undeployed_pence"]


def _latest(conn: Connection, project_id: str) -> StageChange | None:
    row = conn.execute(
        select(stages_t).where(stages_t.c.project_id == project_id).order_by(stages_t.c.id.desc()).limit(1)
    ).mappings().first()
    if row is None:
        return None
    return StageChange(project_id, row["stage"], row["effective_date"], row["committed_pence"], row["note"])


def record_stage(conn: Connection, change: StageChange, by: str = "fuel") -> dict:
    """Append a stage change after checking it against the project's last one."""
    if conn.execute(select(projects_t.c.id).where(projects_t.c.id == change.project_id)).first() is None:
        raise NotFound(f"unknown project {change.project_id!r}: add it with `fuel projects add` first", field="project")
    kind = check_change(_latest(conn, change.project_id), change)
    result = conn.execute(stages_t.insert().values(
        project_id=change.project_id, stage=change.stage, effective_date=change.effective_date,
        committed_pence=change.committed_pence, note=change.note.strip() if change.note else None,
        recorded_at=utc_now(), recorded_by=by,
    ))  # fmt: skip
    return {"id": int(result.inserted_primary_key[0]), "project": change.project_id, "stage": change.stage,
            "effective_date": change.effective_date.isoformat(), "kind": kind,
            "committed_pence": change.committed_pence}  # fmt: skip


def stage_history(conn: Connection, project_id: str) -> list[dict]:
    rows = conn.execute(select(stages_t).where(stages_t.c.project_id == project_id).order_by(stages_t.c.id)).mappings()
    return [{"id": r["id"], "stage": r["stage"], "effective_date": _iso(r["effective_date"]),
             "committed_pence": r["committed_pence"], "note": r["note"], "recorded_by": r["recorded_by"],
             "recorded_at": r["recorded_at"].isoformat(timespec="seconds")} for r in rows]  # fmt: skip


def current_stage(conn: Connection, project_id: str, as_of: date) -> str | None:
    return conn.execute(
        select(stages_t.c.stage).where(stages_t.c.project_id == project_id, stages_t.c.effective_date <= as_of)
        .order_by(stages_t.c.id.desc()).limit(1)
    ).scalar()  # fmt: skip


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def pipeline(conn: Connection, as_of: date, fund: str | None = None) -> list[dict]:
    """Per stage and theme as of a date: projects, committed, deployed, undeployed (in SQL)."""
    on_or_before = stages_t.c.effective_date <= as_of
    last_change = (select(stages_t.c.project_id, func.max(stages_t.c.id).label("id"))
                   .where(on_or_before).group_by(stages_t.c.project_id).subquery("last_change"))  # fmt: skip
    last_commit = (select(stages_t.c.project_id, func.max(stages_t.c.id).label("id"))
                   .where(on_or_before, stages_t.c.committed_pence.is_not(None))
                   .group_by(stages_t.c.project_id).subquery("last_commit"))  # fmt: skip
    stage_row = stages_t.alias("stage_row")
    commit_row = stages_t.alias("commit_row")
    e, r = entries_t.alias("e"), entries_t.alias("r")
    deployed = (
        select(postings_t.c.project.label("project_id"), func.sum(postings_t.c.amount_pence).label("pence"))
        .select_from(postings_t.join(e, e.c.id == postings_t.c.entry_id).outerjoin(r, r.c.id == e.c.reverses_id))
        .where(func.coalesce(r.c.event_kind, e.c.event_kind) == Disbursement.kind,
               postings_t.c.account_code.in_(sorted(DISBURSED_ACCOUNTS)), postings_t.c.effective_date <= as_of)
        .group_by(postings_t.c.project).subquery("deployed")
    )  # fmt: skip
    committed = func.coalesce(func.sum(commit_row.c.committed_pence), 0)
    deployed_sum = func.coalesce(func.sum(deployed.c.pence), 0)
    query = (
        select(stage_row.c.stage, projects_t.c.theme, func.count(projects_t.c.id), committed, deployed_sum)
        .select_from(
            projects_t.outerjoin(last_change, last_change.c.project_id == projects_t.c.id)
            .outerjoin(stage_row, stage_row.c.id == last_change.c.id)
            .outerjoin(last_commit, last_commit.c.project_id == projects_t.c.id)
            .outerjoin(commit_row, commit_row.c.id == last_commit.c.id)
            .outerjoin(deployed, deployed.c.project_id == projects_t.c.id)
        )
        .group_by(stage_row.c.stage, projects_t.c.theme)
    )  # fmt: skip
    if fund:
        query = query.where(projects_t.c.fund_id == fund)
    order = {name: i for i, name in enumerate((*STAGES, UNSTAGED))}
    # An unstaged project has no commitment on record: its undeployed money is unknown, not
    # "deployed minus nothing" (a negative figure no one committed to).
    rows = [{"stage": s or UNSTAGED, "theme": t, "projects": int(n),
             "committed_pence": int(c) if s else None, "deployed_pence": int(d),
             "undeployed_pence": int(c) - int(d) if s else None}
            for s, t, n, c, d in conn.execute(query)]  # fmt: skip
    return sorted(rows, key=lambda row: (order[row["stage"]], row["theme"]))
