"""Incubator calls service (docs/calls.md): open a call in versions, take applications, record
conflicts, scores and decisions, award grants and pay them in tranches through the existing
disbursement posting rule, and link the projects to the contracts they win.

The rules are pure (``ledger/calls.py``); this module loads what they need and writes the
append-only rows in the caller's transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, func, select

from ledger.calls import (
    DECISIONS, Application, Call, application_score, budget_problems, call_open_problem, check_scores,
    eligibility_reasons, fund_award, make_application, score_hundredths, tranche_amounts,
)  # fmt: skip
from ledger.errors import FuelError, ImportRejected, NotFound, ValidationError
from ledger.flows import Disbursement
from ledger.funds import Party, Project
from ledger.pipeline import StageChange
from models.calls_tables import (
    CallApplicationRow, CallAwardRow, CallBudgetLineRow, CallConflictRow, CallDecisionRow, CallEventRow,
    CallPaymentRow, CallRow, CallScoreRow, ProjectContractRow,
)  # fmt: skip
from models.flows_store import book_of, load_position, record_event, save_party, save_project
from models.ledger_store import utc_now
from models.pipeline_store import record_stage

calls_t = CallRow.__table__
lines_t = CallBudgetLineRow.__table__
events_t = CallEventRow.__table__
apps_t = CallApplicationRow.__table__
conflicts_t = CallConflictRow.__table__
scores_t = CallScoreRow.__table__
decisions_t = CallDecisionRow.__table__
awards_t = CallAwardRow.__table__
payments_t = CallPaymentRow.__table__
contracts_link_t = ProjectContractRow.__table__

APPLICATION_COLUMNS = ("reference", "org_id", "org_name", "org_type", "org_size", "area", "theme", "project",
                       "outcomes", "amount", "submitted_on")  # fmt: skip


# ---------------------------------------------------------------------------- calls


class CallState:
    """A call's latest version with its events: what every other step checks against."""

    def __init__(self, call: Call, version: int, closed_on: date | None, published_on: date | None) -> None:
        self.call, self.version, self.closed_on, self.published_on = call, version, closed_on, published_on


def load_call(conn: Connection, call_id: str) -> CallState:
    row = conn.execute(select(calls_t).where(calls_t.c.id == call_id).order_by(calls_t.c.version.desc()).limit(1)).mappings().first()
    if row is None:
        raise NotFound(f"unknown call {call_id!r}: open it with `fuel calls open FILE` first", field="call")
    call = Call.from_rules(row["id"], row["fund_id"], json.loads(row["rules_json"]))
    events = {k: d for k, d in conn.execute(
        select(events_t.c.kind, func.min(events_t.c.effective_date)).where(events_t.c.call_id == call_id).group_by(events_t.c.kind))}
    return CallState(call, row["version"], events.get("closed"), events.get("published"))


def has_calls(conn: Connection, fund: str | None = None) -> bool:
    q = select(calls_t.c.id).limit(1)
    return conn.execute(q if fund is None else q.where(calls_t.c.fund_id == fund)).first() is not None


def reservations(conn: Connection, fund: str | None = None, exclude_call: str | None = None) -> dict[tuple, int]:
    """Money calls hold, per (fund, source, tranche, restriction): a call's budget until its
    decisions are published, then what it awarded less what has been paid."""
    held: dict[tuple, int] = defaultdict(int)
    ids = conn.execute(select(calls_t.c.id).distinct() if fund is None
                       else select(calls_t.c.id).where(calls_t.c.fund_id == fund).distinct()).scalars().all()
    for call_id in ids:
        if call_id == exclude_call:
            continue
        state = load_call(conn, call_id)
        if state.published_on is None:
            for line in state.call.budget:
                held[(state.call.fund, *line.group)] += line.amount_pence
        else:
            for award in conn.execute(select(awards_t).where(awards_t.c.call_id == call_id)).mappings():
                paid = conn.execute(select(func.coalesce(func.sum(payments_t.c.amount_pence), 0))
                                    .where(payments_t.c.award_id == award["id"])).scalar()
                held[(award["fund_id"], award["source"], award["tranche"], award["restriction"])] += award["amount_pence"] - int(paid)
    return {k: v for k, v in held.items() if v}


def open_call(conn: Connection, call: Call, by: str = "fuel") -> dict:
    """Record a call (a new version when its rules changed; nothing when they did not)."""
    book = book_of(conn, call.fund)
    rules = call.rules()
    digest = hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()
    last = conn.execute(select(calls_t.c.version, calls_t.c.content_sha256, calls_t.c.fund_id).where(calls_t.c.id == call.id)
                        .order_by(calls_t.c.version.desc()).limit(1)).first()  # fmt: skip
    if last is not None and last.fund_id != call.fund:
        raise ValidationError(f"call {call.id} belongs to fund {last.fund_id}, not {call.fund}", field="fund")
    if last is not None and last.content_sha256 == digest:
        return {"call": call.id, "version": last.version, "status": "unchanged"}
    if last is not None and load_call(conn, call.id).published_on is not None:
        raise ValidationError(f"call {call.id}: its decisions are published; it cannot change", field="call")
    position = load_position(conn)
    held = reservations(conn, call.fund, exclude_call=call.id)
    available = {line.group: position.cash_in(call.fund, call.currency, *line.group) - held.get((call.fund, *line.group), 0)
                 for line in call.budget}  # fmt: skip
    problems = budget_problems(call, book.restrictions, available)
    if problems:
        raise ImportRejected(f"call {call.id}: the budget cannot be reserved; nothing was written", problems)
    version = 1 if last is None else last.version + 1
    now = utc_now()
    conn.execute(calls_t.insert().values(
        id=call.id, version=version, fund_id=call.fund, theme=call.theme, opens_on=call.opens_on, closes_on=call.closes_on,
        budget_pence=call.budget_pence, currency=call.currency, rules_json=json.dumps(rules, sort_keys=True),
        content_sha256=digest, recorded_at=now, recorded_by=by))  # fmt: skip
    conn.execute(lines_t.insert(), [dict(call_id=call.id, version=version, line_no=i, fund_id=call.fund, source=line.source,
                                         tranche=line.tranche, restriction=line.restriction, amount_pence=line.amount_pence)
                                    for i, line in enumerate(call.budget, start=1)])  # fmt: skip
    return {"call": call.id, "version": version, "status": "opened" if version == 1 else "new version"}


def close_call(conn: Connection, call_id: str, on: date, kind: str = "closed", by: str = "fuel") -> dict:
    """Close a call early (``closed``) or publish its decisions (``published``)."""
    state = load_call(conn, call_id)
    if kind == "published" and state.published_on is not None:
        return {"call": call_id, kind: state.published_on.isoformat(), "status": "already"}
    if kind == "closed" and state.closed_on is not None:
        return {"call": call_id, kind: state.closed_on.isoformat(), "status": "already"}
    conn.execute(events_t.insert().values(call_id=call_id, kind=kind, effective_date=on, recorded_at=utc_now(), recorded_by=by))
    return {"call": call_id, kind: on.isoformat(), "status": "recorded"}


def list_calls(conn: Connection, fund: str | None = None) -> list[dict]:
    ids = conn.execute(select(calls_t.c.id).distinct().order_by(calls_t.c.id)).scalars().all()
    out = []
    for call_id in ids:
        s = load_call(conn, call_id)
        if fund and s.call.fund != fund:
            continue
        n = conn.execute(select(func.count()).select_from(apps_t).where(apps_t.c.call_id == call_id)).scalar()
        out.append({"call": call_id, "version": s.version, "fund": s.call.fund, "name": s.call.name, "theme": s.call.theme,
                    "opens_on": s.call.opens_on.isoformat(), "closes_on": s.call.closes_on.isoformat(),
                    "budget_pence": s.call.budget_pence, "applications": int(n),
                    "closed_on": s.closed_on and s.closed_on.isoformat(),
                    "published_on": s.published_on and s.published_on.isoformat()})  # fmt: skip
    return out


# ---------------------------------------------------------------------------- applications


def _insert_application(conn: Connection, state: CallState, app: Application, by: str) -> tuple[int, bool]:
    existing = conn.execute(select(apps_t).where(apps_t.c.call_id == state.call.id, apps_t.c.org_id == app.org_id,
                                                 apps_t.c.reference == app.reference)).mappings().first()  # fmt: skip
    if existing is not None:
        if existing["amount_pence"] != app.amount_pence or existing["project"] != app.project:
            raise ValidationError(f"application {app.reference} of {app.org_id} was already made with different content",
                                  field="reference")  # fmt: skip
        return existing["id"], False
    reasons = eligibility_reasons(state.call, app)
    result = conn.execute(apps_t.insert().values(
        call_id=state.call.id, call_version=state.version, reference=app.reference, org_id=app.org_id, org_name=app.org_name,
        org_type=app.org_type, org_size=app.org_size, area=app.area, theme=app.theme, project=app.project,
        outcomes=app.outcomes, amount_pence=app.amount_pence, submitted_on=app.submitted_on, eligible=not reasons,
        reasons="\n".join(reasons), recorded_at=utc_now(), recorded_by=by))  # fmt: skip
    return int(result.inserted_primary_key[0]), True


def submit_application(conn: Connection, call_id: str, values: dict, by: str = "fuel") -> dict:
    """One application (the applicant's form); refused when the call is not open that day."""
    state = load_call(conn, call_id)
    app = make_application(values)
    problem = call_open_problem(state.call, app.submitted_on, state.closed_on)
    if problem:
        raise ValidationError(problem, field="submitted_on")
    app_id, created = _insert_application(conn, state, app, by)
    return {**get_application(conn, app_id), "status": "submitted" if created else "already submitted"}


def import_applications(conn: Connection, call_id: str, text: str, source_name: str, by: str = "fuel") -> dict:
    """A CSV of applications: every row checked first; any bad row and nothing is written."""
    state = load_call(conn, call_id)
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in APPLICATION_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRejected(f"{source_name}: the header lacks {', '.join(missing)}; nothing was written",
                             [f"columns needed: {', '.join(APPLICATION_COLUMNS)}"])  # fmt: skip
    apps, problems = [], []
    for number, row in enumerate(reader, start=2):
        try:
            app = make_application(row)
            problem = call_open_problem(state.call, app.submitted_on, state.closed_on)
            if problem:
                raise ValidationError(problem, field="submitted_on")
            apps.append(app)
        except FuelError as exc:
            problems.append(f"{source_name}: row {number}, field {exc.field or '-'}: {exc}")
    if not apps and not problems:
        problems.append(f"{source_name}: no applications in the file")
    if problems:
        raise ImportRejected(f"{source_name}: {len(problems)} problem(s) found; nothing was written", problems)
    made = [_insert_application(conn, state, app, by) for app in apps]
    return {"call": call_id, "submitted": sum(1 for _, c in made if c), "already": sum(1 for _, c in made if not c),
            "applications": [get_application(conn, i) for i, _ in made]}  # fmt: skip


def _app_row(conn: Connection, app_id: int) -> dict:
    row = conn.execute(select(apps_t).where(apps_t.c.id == app_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown application {app_id}", field="application")
    return dict(row)


def _latest_scores(conn: Connection, app_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(scores_t).where(scores_t.c.application_id == app_id).order_by(scores_t.c.id)).mappings():
        out[r["assessor"]] = json.loads(r["scores_json"])  # a later row (a correction) replaces the earlier
    return out


def _latest_decision(conn: Connection, app_id: int) -> dict | None:
    row = conn.execute(select(decisions_t).where(decisions_t.c.application_id == app_id)
                       .order_by(decisions_t.c.id.desc()).limit(1)).mappings().first()  # fmt: skip
    return None if row is None else dict(row)


def get_application(conn: Connection, app_id: int, with_scores: bool = True) -> dict:
    row = _app_row(conn, app_id)
    state = load_call(conn, row["call_id"])
    decision = _latest_decision(conn, app_id)
    scores = _latest_scores(conn, app_id)
    award = conn.execute(select(awards_t.c.id, awards_t.c.project_id).where(awards_t.c.application_id == app_id)).first()
    out = {"id": row["id"], "call": row["call_id"], "reference": row["reference"], "org_id": row["org_id"],
           "org_name": row["org_name"], "org_type": row["org_type"], "org_size": row["org_size"], "area": row["area"],
           "theme": row["theme"], "project": row["project"], "outcomes": row["outcomes"], "amount_pence": row["amount_pence"],
           "submitted_on": row["submitted_on"].isoformat() if hasattr(row["submitted_on"], "isoformat") else row["submitted_on"],
           "eligible": bool(row["eligible"]), "reasons": row["reasons"].split("\n") if row["reasons"] else [],
           "assessors": len(scores),
           "score_hundredths": score_hundredths(application_score(state.call, scores)),
           "decision": decision and decision["decision"], "decision_reasons": decision and decision["reasons"],
           "decided_on": decision and str(decision["decided_on"]), "decided_by": decision and decision["recorded_by"],
           "award_id": award and award.id, "project_id": award and award.project_id}  # fmt: skip
    if not with_scores:
        out.pop("score_hundredths")
        out.pop("assessors")
    return out


def list_applications(conn: Connection, call_id: str | None = None, org_id: str | None = None) -> list[dict]:
    q = select(apps_t.c.id).order_by(apps_t.c.id)
    if call_id:
        load_call(conn, call_id)
        q = q.where(apps_t.c.call_id == call_id)
    if org_id:
        q = q.where(apps_t.c.org_id == org_id)
    return [get_application(conn, i) for i in conn.execute(q).scalars()]


# ---------------------------------------------------------------------------- assessment


def _published_refusal(state: CallState, what: str, corrects_id: int | None) -> None:
    if state.published_on is not None and corrects_id is None:
        raise ValidationError(f"call {state.call.id}: decisions were published on {state.published_on}; {what} "
                              "is fixed, record a correction (--corrects ID) with a reason", field="corrects")  # fmt: skip


def declare_conflict(conn: Connection, app_id: int, assessor: str, note: str) -> dict:
    _app_row(conn, app_id)
    if not note or not note.strip():
        raise ValidationError("say what the conflict of interest is (--note)", field="note")
    if conn.execute(select(scores_t.c.id).where(scores_t.c.application_id == app_id, scores_t.c.assessor == assessor)).first():
        raise ValidationError(f"assessor {assessor} already scored application {app_id}: a conflict is declared before "
                              "scoring; ask the panel to set the score aside with a correction", field="assessor")  # fmt: skip
    if conn.execute(select(conflicts_t.c.id).where(conflicts_t.c.application_id == app_id, conflicts_t.c.assessor == assessor)).first():
        return {"application": app_id, "assessor": assessor, "status": "already declared"}
    conn.execute(conflicts_t.insert().values(application_id=app_id, assessor=assessor, note=note.strip()[:500], recorded_at=utc_now()))
    return {"application": app_id, "assessor": assessor, "status": "declared"}


def has_conflict(conn: Connection, app_id: int, assessor: str) -> bool:
    return conn.execute(select(conflicts_t.c.id).where(conflicts_t.c.application_id == app_id,
                                                       conflicts_t.c.assessor == assessor)).first() is not None  # fmt: skip


def score_application(conn: Connection, app_id: int, assessor: str, scores: dict[str, int],
                      note: str | None = None, corrects_id: int | None = None) -> dict:
    row = _app_row(conn, app_id)
    state = load_call(conn, row["call_id"])
    if has_conflict(conn, app_id, assessor):
        raise ValidationError(f"assessor {assessor} declared a conflict of interest on application {app_id}; "
                              "someone else scores it", field="assessor")  # fmt: skip
    if not row["eligible"]:
        raise ValidationError(f"application {app_id} is not eligible ({'; '.join(row['reasons'].split(chr(10)))}); "
                              "it is not scored", field="application")  # fmt: skip
    _published_refusal(state, "its scores", corrects_id)
    check_scores(state.call, scores)
    result = conn.execute(scores_t.insert().values(application_id=app_id, assessor=assessor, scores_json=json.dumps(scores, sort_keys=True),
                                                   corrects_id=corrects_id, note=note, recorded_at=utc_now()))  # fmt: skip
    return {"id": int(result.inserted_primary_key[0]), "application": app_id, "assessor": assessor,
            "score_hundredths": score_hundredths(application_score(state.call, {assessor: scores}))}


def decide(conn: Connection, app_id: int, decision: str, reasons: str, on: date, by: str = "fuel",
           amount_pence: int | None = None, corrects_id: int | None = None) -> dict:
    row = _app_row(conn, app_id)
    state = load_call(conn, row["call_id"])
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}", field="decision")
    if not reasons or not reasons.strip():
        raise ValidationError("a decision gives its reasons (--reasons)", field="reasons")
    _published_refusal(state, "its decisions", corrects_id)
    amount = row["amount_pence"] if amount_pence is None else amount_pence
    if decision == "award":
        if not row["eligible"]:
            raise ValidationError(f"application {app_id} is not eligible; it cannot be awarded", field="decision")
        if not _latest_scores(conn, app_id):
            raise ValidationError(f"application {app_id} has no scores yet; assess it before deciding", field="decision")
        if not 0 < amount <= row["amount_pence"]:
            raise ValidationError("an award is more than zero and at most the amount asked", field="amount")
    else:
        amount = 0
    result = conn.execute(decisions_t.insert().values(
        application_id=app_id, decision=decision, amount_pence=amount, reasons=reasons.strip()[:2000], decided_on=on,
        corrects_id=corrects_id, recorded_at=utc_now(), recorded_by=by))  # fmt: skip
    return {"id": int(result.inserted_primary_key[0]), "application": app_id, "decision": decision, "amount_pence": amount}


# ---------------------------------------------------------------------------- awards and payments


def award(conn: Connection, app_id: int, on: date, by: str = "fuel", project_id: str | None = None) -> dict:
    """Commit the grant a published award decision made: the provider and project are set up,
    the project enters the pipeline at ``incubation`` with the award as its commitment."""
    row = _app_row(conn, app_id)
    state = load_call(conn, row["call_id"])
    if state.published_on is None:
        raise ValidationError(f"call {state.call.id}: publish its decisions (`fuel calls publish`) before awarding", field="call")
    decision = _latest_decision(conn, app_id)
    if decision is None or decision["decision"] != "award":
        raise ValidationError(f"application {app_id} was not awarded by the panel", field="application")
    existing = conn.execute(select(awards_t).where(awards_t.c.application_id == app_id)).mappings().first()
    if existing is not None:
        return {**_award_out(dict(existing), state.call), "status": "already awarded"}
    call = state.call
    remaining = {line.group: line.amount_pence for line in call.budget}
    for a in conn.execute(select(awards_t).where(awards_t.c.call_id == call.id)).mappings():
        remaining[(a["source"], a["tranche"], a["restriction"])] -= a["amount_pence"]
    line = fund_award(call, decision["amount_pence"], remaining)
    project = project_id or f"{call.id}-{app_id}"[:64]  # the application id: references repeat across organisations
    save_party(conn, Party(row["org_id"], row["org_name"], "provider"))
    save_project(conn, Project(project, call.fund, row["project"], row["org_id"], call.theme, "active"))
    record_stage(conn, StageChange(project, "incubation", on, decision["amount_pence"], f"awarded by call {call.id}"), by)
    result = conn.execute(awards_t.insert().values(
        application_id=app_id, call_id=call.id, project_id=project, fund_id=call.fund, source=line.source, tranche=line.tranche,
        restriction=line.restriction, amount_pence=line.amount_pence, awarded_on=on, recorded_at=utc_now(), recorded_by=by))  # fmt: skip
    award_row = dict(conn.execute(select(awards_t).where(awards_t.c.id == result.inserted_primary_key[0])).mappings().one())
    return {**_award_out(award_row, call), "status": "awarded"}


def _award_out(a: dict, call: Call) -> dict:
    return {"award_id": a["id"], "call": a["call_id"], "application": a["application_id"], "project": a["project_id"],
            "source": a["source"], "tranche": a["tranche"], "restriction": a["restriction"], "amount_pence": a["amount_pence"],
            "tranches": [{"tranche_no": i, "milestone": m.name, "amount_pence": p}
                         for i, (m, p) in enumerate(zip(call.milestones, tranche_amounts(call, a["amount_pence"])), start=1)]}  # fmt: skip


def award_of(conn: Connection, app_id: int) -> int:
    award_id = conn.execute(select(awards_t.c.id).where(awards_t.c.application_id == app_id)).scalar()
    if award_id is None:
        raise ValidationError(f"application {app_id} has no award yet (`fuel calls award`)", field="application")
    return int(award_id)


def pay_tranche(conn: Connection, award_id: int, tranche_no: int, on: date, by: str = "fuel") -> dict:
    """Pay one tranche of an award on its milestone: a grant disbursement, posted by the
    existing rule (restriction and cash checked there), keyed so a repeat changes nothing."""
    a = conn.execute(select(awards_t).where(awards_t.c.id == award_id)).mappings().first()
    if a is None:
        raise NotFound(f"unknown award {award_id}", field="award")
    call = load_call(conn, a["call_id"]).call
    amounts = tranche_amounts(call, a["amount_pence"])
    if not 1 <= tranche_no <= len(amounts):
        raise ValidationError(f"award {award_id} has tranches 1 to {len(amounts)}, not {tranche_no}", field="tranche")
    done = conn.execute(select(payments_t).where(payments_t.c.award_id == award_id, payments_t.c.tranche_no == tranche_no)).mappings().first()
    if done is not None:
        return {"award": award_id, "tranche_no": tranche_no, "entry_id": done["entry_id"], "amount_pence": done["amount_pence"],
                "status": "already paid"}  # fmt: skip
    milestone = call.milestones[tranche_no - 1].name
    event = Disbursement(fund=a["fund_id"], effective_date=on, project=a["project_id"], amount_pence=amounts[tranche_no - 1],
                         form="grant", source=a["source"], tranche=a["tranche"], restriction=a["restriction"],
                         description=f"call {call.id}: award {award_id} tranche {tranche_no} ({milestone})"[:200],
                         key=f"calls:award:{award_id}:tranche:{tranche_no}")  # fmt: skip
    result, _ = record_event(conn, event, by)
    conn.execute(payments_t.insert().values(award_id=award_id, tranche_no=tranche_no, milestone=milestone,
                                            amount_pence=amounts[tranche_no - 1], entry_id=result.entry.id, paid_on=on,
                                            recorded_at=utc_now()))  # fmt: skip
    return {"award": award_id, "tranche_no": tranche_no, "entry_id": result.entry.id, "amount_pence": amounts[tranche_no - 1],
            "status": "paid"}


def link_contract(conn: Connection, project_id: str, contract_id: str, on: date, by: str = "fuel") -> dict:
    """Move the project to ``contracted`` and record the outcomes contract it won."""
    from models.pbr_store import contracts_t

    if conn.execute(select(contracts_t.c.id).where(contracts_t.c.id == contract_id)).first() is None:
        raise NotFound(f"unknown contract {contract_id!r}", field="contract")
    if conn.execute(select(contracts_link_t.c.project_id).where(contracts_link_t.c.project_id == project_id)).first():
        raise ValidationError(f"project {project_id} is already linked to a contract", field="project")
    stage = record_stage(conn, StageChange(project_id, "contracted", on, None, f"won contract {contract_id}"), by)
    conn.execute(contracts_link_t.insert().values(project_id=project_id, contract_id=contract_id, effective_date=on,
                                                  recorded_at=utc_now(), recorded_by=by))  # fmt: skip
    return {"project": project_id, "contract": contract_id, "stage": stage["stage"], "effective_date": on.isoformat()}
