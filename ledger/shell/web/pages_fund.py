"""Fund manager pages: the dashboard, record an event, import a flows CSV, close a quarter,
issue statements. Each handler parses the form, calls the same service as the API
(``models.flows_store``, ``models.ledger_store``, ``reports.fund_reports``,
``models.statements_store``) and renders a template; rules and access checks live there and in
``access``."""

from __future__ import annotations

import io
import secrets
import zipfile
from dataclasses import MISSING, fields
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool

from ledger.errors import FuelError, ImportRejected
from ledger.shell.api.access import AUD, FM, fund_investors
from ledger.shell.web.access import viewer
from ledger.shell.web.forms import read_form
from ledger.shell.web.render import page
from models.api_store import Principal
from models.db import reading

pages = APIRouter()
Viewer = Annotated[Principal, Depends(viewer)]

KIND_LABELS = {
    "drawdown_notice": "Drawdown notice (capital call)", "drawdown_received": "Drawdown received",
    "grant_received": "Grant received", "public_money_received": "Public money received",
    "disbursement": "Disbursement to a project", "repayment": "Repayment from a project",
    "outcome_payment": "Outcome payment received", "fee": "Fee", "valuation_change": "Valuation change",
    "distribution": "Distribution to an investor", "transfer": "Transfer between sources",
}  # fmt: skip
#: form field -> event field, for money typed in pounds
MONEY_FIELDS = {"amount": "amount_pence", "principal": "principal_pence", "interest": "interest_pence"}
#: event field (as the domain names it in errors) -> form field
ERROR_FIELDS = {"amount_pence": "amount", "principal_pence": "principal", "interest_pence": "interest",
                "date": "effective_date", "kind": "kind"}
SOURCES = ("social_investment", "charitable", "public")


def _base(request: Request) -> str:
    return request.scope.get("root_path", "")


def _recorded_by(principal: Principal) -> str:
    return f"web:{principal.name}"[:100]


def event_fields() -> dict[str, list[str]]:
    """Per event kind, the form fields it takes (money fields by their pounds name)."""
    from ledger.flows import EVENT_TYPES

    out = {}
    for kind, cls in EVENT_TYPES.items():
        names = []
        for f in fields(cls):
            if f.name in ("fund", "key"):
                continue
            names.append({v: k for k, v in MONEY_FIELDS.items()}.get(f.name, f.name))
        out[kind] = names
    return out


def _required(kind: str) -> set[str]:
    from ledger.flows import EVENT_TYPES

    back = {v: k for k, v in MONEY_FIELDS.items()}
    return {back.get(f.name, f.name) for f in fields(EVENT_TYPES[kind])
            if f.default is MISSING and f.name not in ("fund", "key")}


# ---------------------------------------------------------------------------- dashboard


@pages.get("/funds")
def funds(request: Request, principal: Viewer):
    from models.flows_store import load_books

    with reading(request.app.state.engine) as conn:
        books = load_books(conn)
    shown = [b.fund for f, b in sorted(books.items()) if principal.role == AUD or f == principal.scope]
    return page(request, "funds.html.j2", title="Funds", funds=shown)


def dashboard_data(conn, fund_id: str, as_of: date) -> dict:
    from models.flows_store import book_of
    from models.pbr_store import list_contracts
    from models.web_store import claim_runs, recent_entries
    from ledger.shell.web.pages_value import value_story
    from reports.fund_reports import cash_report, deployment_report, outcome_pipeline_report

    book = book_of(conn, fund_id)
    cash = cash_report(conn, as_of, fund_id)
    deployment = deployment_report(conn, as_of, fund_id)
    contracts = [c["id"] for c in list_contracts(conn) if c["fund"] == fund_id]
    pipeline = outcome_pipeline_report(conn, {}, as_of)
    pipeline_rows = [r for r in pipeline.tables[1].rows if r["contract"] in contracts]
    cash_rows, commitment_rows = (list(t.rows) for t in cash.tables)
    return {
        "fund": book.fund, "as_of": as_of,
        "cash_rows": cash_rows, "cash_total": sum(r["cash_pence"] for r in cash_rows),
        "cash_by_source": {s: sum(r["cash_pence"] for r in cash_rows if r["source"] == s)
                           for s in sorted({r["source"] for r in cash_rows})},
        "commitments": commitment_rows,
        "commitment_totals": {k: sum(r[k] for r in commitment_rows)
                              for k in ("committed_pence", "called_pence", "received_pence", "called_unpaid_pence",
                                        "unfunded_pence")},
        "deployment": deployment.tables[0], "pipeline": pipeline_rows,
        "pipeline_columns": pipeline.tables[1].columns, "claims": claim_runs(conn, contracts),
        "entries": recent_entries(conn, fund_id, 10),
        "narrative": value_story(conn, fund_id, as_of),
        "forecasts": forecast_fans(conn, fund_id, as_of),
    }  # fmt: skip


def forecast_fans(conn, fund_id: str, as_of: date) -> list[dict]:
    """Per contract with a forecast: its fan chart and the figures beside it (docs/value.md)."""
    from reports.forecast_reports import fan_svg, fund_forecast

    out = []
    for c in fund_forecast(conn, fund_id, as_of, investors=False, backtest=False)["contracts"]:
        if c["result"] is None:
            continue
        basis = c["basis"]
        cap = c["result"].contract_cap_quarter["central"]
        out.append({"contract": c["contract"], "svg": fan_svg(c), "paid_pence": basis.inputs.paid_to_date_pence,
                    **{k: basis.inputs.paid_to_date_pence + c["result"].total_pence(k) for k in ("low", "central", "high")},
                    "end": basis.quarters[-1],
                    "cap_quarter": "" if cap is None else basis.quarters[basis.observed - 1 + cap]})
    return out


@pages.get("/funds/{fund_id}")
def dashboard(fund_id: str, request: Request, principal: Viewer, posted: int | None = None,
              imported: int | None = None, closed: str | None = None):
    with reading(request.app.state.engine) as conn:
        data = dashboard_data(conn, fund_id, date.today())
    notice = None
    if posted is not None:
        notice = f"Entry {posted} posted."
    elif imported is not None:
        notice = f"Import done: {imported} entries posted."
    elif closed:
        notice = f"Quarter {closed} closed."
    return page(request, "dashboard.html.j2", title=f"{data['fund'].name}: dashboard", notice=notice,
                can_write=principal.role == FM, **data)


# ---------------------------------------------------------------------------- record an event


def _event_form(request: Request, fund_id: str, values: dict, errors: dict, status: int = 200):
    from models.flows_store import book_of, parties_t
    from sqlalchemy import select

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
        parties = conn.execute(select(parties_t.c.id, parties_t.c.name, parties_t.c.kind).order_by(parties_t.c.id)).all()
        investors = sorted(fund_investors(conn, fund_id))
    names = {p.id: p.name for p in parties}
    options = {
        "tranche": [(t.id, t.name) for t in book.tranches.values()],
        "investor": [(i, names.get(i, i)) for i in investors] + [(p.id, p.name) for p in parties
                                                                 if p.kind == "investor" and p.id not in investors],
        "project": [(p.id, p.name) for p in book.projects.values()],
        "restriction": [(r.id, r.name) for r in book.restrictions.values()],
        "payer": [(p.id, p.name) for p in parties if p.kind == "payer"],
        "manager": [(p.id, p.name) for p in parties if p.kind == "manager"],
        "source": [(s, s.replace("_", " ")) for s in SOURCES],
    }
    options["to_tranche"], options["to_restriction"], options["to_source"] = (
        options["tranche"], options["restriction"], options["source"])
    kind = values.get("kind") or "drawdown_received"
    per_kind = event_fields()
    all_fields = []
    for names_ in per_kind.values():
        all_fields.extend(n for n in names_ if n not in all_fields)
    return page(request, "event_form.html.j2", status_code=status, title="Record an event", fund=book.fund,
                kinds=KIND_LABELS, kind=kind, per_kind=per_kind, all_fields=all_fields, options=options,
                required=_required(kind), values=values, errors=errors,
                key=values.get("key") or "web:" + secrets.token_urlsafe(16))


@pages.get("/funds/{fund_id}/events/new")
def new_event(fund_id: str, request: Request, principal: Viewer, kind: str | None = None):
    return _event_form(request, fund_id, {"kind": kind or "drawdown_received",
                                          "effective_date": date.today().isoformat()}, {})


def parse_event(fund_id: str, form: dict[str, str], currency: str):
    """The domain event from the form, or the errors per form field (every one found)."""
    from ledger.flows import EVENT_TYPES
    from ledger.money import parse_amount
    from ledger.shell.api.schemas import EVENT_MODELS

    kind = form.get("kind", "")
    if kind not in EVENT_TYPES:
        return None, {"kind": "Choose what happened."}
    errors: dict[str, str] = {}
    values: dict[str, object] = {"kind": kind}
    for name in event_fields()[kind]:
        text = (form.get(name) or "").strip()
        if name in MONEY_FIELDS:
            if not text:
                if name in _required(kind):
                    errors[name] = "Enter an amount in pounds, like 1234.50."
                continue
            try:
                values[MONEY_FIELDS[name]] = parse_amount(text, currency, name)
            except FuelError as exc:
                errors[name] = exc.message
        elif text:
            values[name] = text
        elif name in _required(kind):
            errors[name] = f"Enter the {name.replace('_', ' ')}."
    if form.get("key"):
        values["key"] = form["key"][:200]
    if errors:
        return None, errors
    try:
        body = EVENT_MODELS[kind].model_validate(values)  # the API's own request schema
    except PydanticError as exc:
        for item in exc.errors():
            name = str(item["loc"][0]) if item.get("loc") else "kind"
            errors.setdefault(ERROR_FIELDS.get(name, name), item.get("msg", "not valid"))
        return None, errors
    try:
        return EVENT_TYPES[kind](fund=fund_id, **body.model_dump(exclude={"kind"})), {}
    except FuelError as exc:
        return None, {ERROR_FIELDS.get(exc.field or "", exc.field or "form"): exc.message}


@pages.post("/funds/{fund_id}/events")
async def record_event(fund_id: str, request: Request, principal: Viewer):
    from models.flows_store import book_of, record_event as record

    form = await read_form(request)
    engine = request.app.state.engine

    def run():
        with reading(engine) as conn:
            currency = book_of(conn, fund_id).fund.currency
        event, errors = parse_event(fund_id, form, currency)
        if errors:
            return None, errors
        try:
            with engine.begin() as conn:
                result, _ = record(conn, event, _recorded_by(principal))
        except FuelError as exc:
            return None, {ERROR_FIELDS.get(exc.field or "", exc.field or "form"): exc.message}
        return result.entry.id, {}

    entry_id, errors = await run_in_threadpool(run)
    if errors:
        known = set(event_fields().get(form.get("kind", ""), [])) | {"kind"}
        errors = {(k if k in known else "form"): v for k, v in errors.items()}
        return await run_in_threadpool(_event_form, request, fund_id, dict(form), errors, 422)
    return RedirectResponse(f"{_base(request)}/funds/{fund_id}?posted={entry_id}", status_code=303)


# ---------------------------------------------------------------------------- import a flows CSV


@pages.get("/funds/{fund_id}/imports/new")
def new_import(fund_id: str, request: Request, principal: Viewer):
    from models.flows_store import book_of

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
    return page(request, "import_form.html.j2", title="Import a flows file", fund=book.fund, problems=[], error=None,
                csv_text="")


def split_problem(text: str) -> tuple[str, str]:
    """``"flows.csv row 3: amount ..."`` -> ("3", "amount ..."); other problems keep no row."""
    head, sep, rest = text.partition(": ")
    if sep and "row " in head:
        return head.rsplit("row ", 1)[1].strip(), rest
    return "", text


@pages.post("/funds/{fund_id}/imports")
async def run_import(fund_id: str, request: Request, principal: Viewer):
    from models.flows_store import book_of, import_flows

    form = await read_form(request)
    engine = request.app.state.engine
    text = form.get("file") or form.get("csv_text") or ""
    name = (form.get("file_filename") or "pasted.csv") if form.get("file") else "pasted.csv"

    def run():
        with reading(engine) as conn:
            book = book_of(conn, fund_id)
        if not text.strip():
            return book, None, [], "Choose a CSV file, or paste its text."
        try:
            with engine.begin() as conn:  # every parsed row must be for this page's fund
                result = import_flows(conn, text, name, _recorded_by(principal), only_fund=fund_id)
        except ImportRejected as exc:
            return book, None, [split_problem(p) for p in exc.problems], exc.message
        except FuelError as exc:
            return book, None, [], exc.message
        return book, result, [], None

    book, result, problems, error = await run_in_threadpool(run)
    if result is None:
        return page(request, "import_form.html.j2", status_code=422, title="Import a flows file", fund=book.fund,
                    problems=problems, error=error, csv_text=form.get("csv_text", ""))
    return RedirectResponse(f"{_base(request)}/funds/{fund_id}?imported={result.posted}", status_code=303)


# ---------------------------------------------------------------------------- close a quarter


def _closes_page(request: Request, fund_id: str, error: str | None = None, value: str = "", status: int = 200):
    from ledger.periods import Period
    from models.flows_store import book_of
    from models.ledger_store import list_closes

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
        closes = list_closes(conn)
    suggestion = value or (closes[-1].period.next().name if closes
                           else Period.containing(date.today()).name)
    return page(request, "closes.html.j2", status_code=status, title="Close a quarter", fund=book.fund,
                closes=closes, error=error, value=suggestion, can_write=getattr(request.state, "principal").role == FM)


@pages.get("/funds/{fund_id}/closes")
def closes(fund_id: str, request: Request, principal: Viewer):
    return _closes_page(request, fund_id)


@pages.post("/funds/{fund_id}/closes")
async def close(fund_id: str, request: Request, principal: Viewer):
    from ledger.periods import Period
    from models.bank_store import guarded_close

    form = await read_form(request)
    text = (form.get("period") or "").strip()

    def run():
        try:  # refused when the fund requires reconciled quarter ends and this one is not
            with request.app.state.engine.begin() as conn:
                guarded_close(conn, Period.parse(text), _recorded_by(principal))
        except FuelError as exc:
            return exc.message
        return None

    error = await run_in_threadpool(run)
    if error:
        return await run_in_threadpool(_closes_page, request, fund_id, error, text, 422)
    return RedirectResponse(f"{_base(request)}/funds/{fund_id}?closed={Period.parse(text).name}", status_code=303)


# ---------------------------------------------------------------------------- issue statements


def quarters_since(first: date, last: date, most: int = 40) -> list[str]:
    """Quarter names from the one containing ``first`` to the one containing ``last``, newest first."""
    from ledger.periods import Period

    out, q = [], Period.containing(first)
    end = Period.containing(last)
    while q.start <= end.start and len(out) < most:
        out.append(q.name)
        q = q.next()
    return out[::-1]


def fund_quarters(conn, fund_id: str) -> list[str]:
    """The quarters a reader may choose, newest first: from the fund's first commitment to the last
    closed quarter (else the last with an entry), so the default is a quarter that has happened."""
    from ledger.periods import Period
    from models.flows_store import commitments_t
    from models.web_store import last_reported_day
    from sqlalchemy import func, select

    first = conn.execute(select(func.min(commitments_t.c.commitment_date))
                         .where(commitments_t.c.fund_id == fund_id)).scalar()
    last = last_reported_day(conn, fund_id, date.today())
    if first is None or last is None:
        return []
    first = first if isinstance(first, date) else date.fromisoformat(str(first)[:10])
    today = date.today()
    # a quarter still running would be "as of" its end, a day that has not come yet
    return [q for q in quarters_since(first, last) if Period.parse(q).last_day <= today]


@pages.get("/funds/{fund_id}/statements")
def statements(fund_id: str, request: Request, principal: Viewer, quarter: str | None = None):
    from models.flows_store import book_of, parties_t
    from sqlalchemy import select

    with reading(request.app.state.engine) as conn:
        book = book_of(conn, fund_id)
        investors = sorted(fund_investors(conn, fund_id))
        names = dict(conn.execute(select(parties_t.c.id, parties_t.c.name).where(parties_t.c.id.in_(investors))).all())
        quarters = fund_quarters(conn, fund_id)
    chosen = quarter if quarter in quarters else (quarters[0] if quarters else "")
    return page(request, "statements_issue.html.j2", title="Issue statements", fund=book.fund, quarters=quarters,
                quarter=chosen, investors=[(i, names.get(i, i)) for i in investors], error=None,
                can_write=principal.role == FM)


@pages.post("/funds/{fund_id}/statements")
async def issue_statements(fund_id: str, request: Request, principal: Viewer):
    """Every investor's statement for the quarter (HTML, CSV and PDF), as one zip download."""
    form = await read_form(request)
    quarter = (form.get("quarter") or "").strip()
    formats = [f for f in ("html", "csv", "pdf") if form.get(f"format_{f}")] or ["html", "csv", "pdf"]

    def run() -> bytes:
        import tempfile
        from pathlib import Path

        from ledger.periods import Period
        from ledger.statements import assemble_statements
        from models.statements_store import statement_inputs
        from models.terms_store import terms_for
        from reports.statements import write_statement

        period = Period.parse(quarter)
        with reading(request.app.state.engine) as conn:
            inputs = statement_inputs(conn, fund_id, period, terms_for(conn, fund_id, period.last_day))
        built = assemble_statements(inputs)
        buffer = io.BytesIO()
        with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for statement in built:
                for path in write_statement(statement, Path(folder), formats):
                    archive.write(path, path.name)
        return buffer.getvalue()

    body = await run_in_threadpool(run)
    name = f"{fund_id}_{quarter}_statements.zip"
    return Response(body, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
