"""Payment-by-results commands, registered onto the ``fuel`` app (one import at the end of cli.py).

``fuel contracts load|show|list|from-indigo``, ``fuel participants import``,
``fuel outcomes import``, ``fuel claims run|show|approve|dispute|invoice|pay|sample|recheck|
mechanism|plan``. Each parses its arguments, calls one service of ``models/pbr_store.py`` in one
transaction (all or nothing) and prints a table, or JSON with ``--json``.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import FuelError, ValidationError
from ledger.periods import parse_date
from ledger.shell.cli_common import (
    FIXTURES, JsonFlag, SheetOption, Table, UserOption, app, current_user, engine, read_text, write_scope,
)

contracts_app = typer.Typer(rich_markup_mode=None, help="Outcomes contracts: load a contract file, show it, build one from INDIGO data.",
                            no_args_is_help=True)
participants_app = typer.Typer(rich_markup_mode=None, help="The participant register of a contract (personal data, kept off the ledger).",
                               no_args_is_help=True)
outcomes_app = typer.Typer(rich_markup_mode=None, help="Outcome events submitted by providers.", no_args_is_help=True)
claims_app = typer.Typer(rich_markup_mode=None, help="Claim runs and their lifecycle: run, dispute, approve, invoice, pay, sample.",
                         no_args_is_help=True)


for _name, _sub in (("contracts", contracts_app), ("participants", participants_app),
                    ("outcomes", outcomes_app), ("claims", claims_app)):
    app.add_typer(_sub, name=_name)

ContractOption = Annotated[str, typer.Option("--contract", help="Contract id, as in the contract file's `id`.")]
PeriodOption = Annotated[str, typer.Option("--period", help="Claim period: a quarter like 2026Q3.")]
DateOption = Annotated[Optional[str], typer.Option("--date", help="Effective date, YYYY-MM-DD (default: today).")]
DEFAULT_INDIGO = FIXTURES / "indigo"


def _print(payload, as_json: bool, rows: list[dict] | None = None, columns: list[str] | None = None,
           title: str | None = None, lines: list[str] | None = None) -> None:
    from reports.render import emit

    if as_json:
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    for line in lines or []:
        typer.echo(line)
    if rows is not None and columns is not None:
        emit(rows, columns, "table", title=title)


def _day(text: str | None, what: str = "--date") -> date:
    return parse_date(text, what) if text else date.today()


def _run_lines(run) -> list[str]:
    from ledger.money import format_amount

    return [f"claim run {run.contract_id} {run.period}: {run.status}; {run.line_count} lines; gross "
            f"{format_amount(run.gross_pence, separators=True)}, net {format_amount(run.net_pence, separators=True)}, "
            f"clawback {format_amount(run.clawback_pence, separators=True)}, due {format_amount(run.due_pence, separators=True)}"
            + (f"; invoice {run.invoice_ref}" if run.invoice_ref else "")]


# ---------------------------------------------------------------------------- contracts


@contracts_app.command("load")
def contracts_load(
    file: Annotated[Path, typer.Argument(help="Contract file (TOML), see docs/contract-format.md.")],
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check and store an outcomes contract. Loading the same file again changes nothing."""
    from models.pbr_store import load_contract

    text = read_text(file)
    with engine().begin() as conn:
        contract, status = load_contract(conn, text, file.name, current_user(user), only_fund=write_scope(conn, user))
    payload = {"contract": contract.contract_id, "status": status, "fund": contract.fund,
               "outcomes": len(contract.outcomes), "payers": list(contract.payer_ids),
               "rate_card_versions": [v.version for v in contract.rate_cards],
               "mechanisms": [k for k, _ in contract.mechanisms]}  # fmt: skip
    _print(payload, as_json, lines=[f"contract {contract.contract_id}: {status} ({len(contract.outcomes)} outcomes, "
                                    f"payers {', '.join(contract.payer_ids)}, fund {contract.fund or '-'})"])


@contracts_app.command("list")
def contracts_list(as_json: JsonFlag = False) -> None:
    """List the contracts loaded."""
    from models.pbr_store import list_contracts

    with engine().connect() as conn:
        rows = list_contracts(conn)
    _print(rows, as_json, rows, ["id", "name", "project", "provider", "fund", "currency"], "Outcomes contracts")


@contracts_app.command("show")
def contracts_show(contract_id: Annotated[str, typer.Argument(help="Contract id.")], as_json: JsonFlag = False) -> None:
    """Show a contract: term, caps, payers, outcomes and the rate card versions' prices."""
    from models.pbr_store import get_contract

    with engine().connect() as conn:
        c = get_contract(conn, contract_id)
    prices = [
        {"version": v.version, "effective_from": v.effective_from.isoformat(),
         "effective_to": v.effective_to.isoformat() if v.effective_to else None, "outcome_id": p.outcome_id,
         "price_pence": p.price_pence, "count_cap": c.outcome(p.outcome_id).count_cap,
         "value_cap_pence": c.outcome(p.outcome_id).value_cap_pence,
         "once_only": c.outcome(p.outcome_id).once_only, "requires": ",".join(c.outcome(p.outcome_id).requires)}
        for v in c.rate_cards for p in v.prices
    ]  # fmt: skip
    payload = {
        "id": c.contract_id, "name": c.name, "project": c.project, "provider": c.provider, "fund": c.fund,
        "currency": c.currency, "rounding": c.rounding, "start": c.start.isoformat(), "end": c.end.isoformat(),
        "participant_cap_pence": c.participant_cap_pence, "contract_cap_pence": c.contract_cap_pence,
        "payers": [{"id": p.payer_id, "name": p.name, "cap_pence": p.cap_pence,
                    "share": str(p.share) if p.share is not None else "remainder"} for p in c.payers],
        "exclusive_groups": [list(g) for g in c.exclusive_groups], "mechanisms": [k for k, _ in c.mechanisms],
        "prices": prices,
    }  # fmt: skip
    _print(payload, as_json, prices, ["version", "outcome_id", "price_pence", "count_cap", "value_cap_pence",
                                      "once_only", "requires"], f"{c.contract_id}: {c.name}",
           lines=[f"{c.contract_id}: {c.name} (project {c.project}, provider {c.provider}, fund {c.fund or '-'})",
                  f"term {c.start} to {c.end} (exclusive); payers: "
                  + ", ".join(f"{p['id']} ({p['share']})" for p in payload["payers"])])  # fmt: skip


@contracts_app.command("from-indigo")
def contracts_from_indigo(
    project_id: Annotated[str, typer.Argument(help="INDIGO project id, e.g. INDIGO-POJ-0154.")],
    indigo_dir: Annotated[Optional[Path], typer.Option("--indigo-dir", help="Folder of an INDIGO export with its "
                          "original file names (default: the cited extract in fixtures/indigo).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the contract file here (default: stdout).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Build a contract file from a real project's INDIGO rate card and payer caps, and say
    what the data lacks."""
    import pandas as pd

    from ledger.pbr.contracts import load_contract_toml
    from ledger.pbr.indigo import FILES, contract_from_indigo

    folder = indigo_dir or DEFAULT_INDIGO
    frames = {}
    for key, name in FILES.items():
        path = folder / name
        if not path.exists():
            if key == "results":
                frames[key] = pd.DataFrame(columns=["Project ID"])
                continue
            raise FuelError(f"{path}: file not found (an INDIGO export folder holds {', '.join(FILES.values())})")
        try:
            frames[key] = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise FuelError(f"{path}: not a readable CSV: {exc}") from None
        missing = {"projects": ["ID"], "organisations": ["ID"]}.get(key, ["Project ID"])
        if any(col not in frames[key].columns for col in missing):
            raise FuelError(f"{path}: missing column {missing[0]!r}; is this an INDIGO export?")
    template = contract_from_indigo(frames, project_id.strip())
    contract = load_contract_toml(template.toml_text, f"{project_id}.toml")  # it must load
    if out is not None:
        out.write_text(template.toml_text, encoding="utf-8")
    payload = {"project": project_id, "contract": template.contract_id, "out": str(out) if out else None,
               "outcomes": len(contract.outcomes), "contract_cap_pence": contract.contract_cap_pence,
               "payers": [{"id": p.payer_id, "cap_pence": p.cap_pence} for p in contract.payers],
               "lacks": list(template.lacks)}  # fmt: skip
    if as_json:
        if out is None:
            payload["toml"] = template.toml_text
        typer.echo(json.dumps(payload, indent=2))
        return
    if out is None:
        typer.echo(template.toml_text)
    else:
        typer.echo(f"wrote {out}: contract {template.contract_id} with {len(contract.outcomes)} outcomes")
    if template.lacks:
        typer.echo("What the INDIGO data lacks:", err=out is None)
    for item in template.lacks:
        typer.echo(f"  - {item}", err=out is None)


# ---------------------------------------------------------------------------- participants and outcomes


def _report_lines(report) -> list[str]:
    lines = [f"{report.file_name}: {report.status}; {report.rows} rows, {report.added} added, "
             f"{report.already_known} already known"]
    for reason, count in sorted(report.reasons().items()):
        lines.append(f"  {count} row(s) the contract will reject: {reason}")
    return lines


@app.command("templates")
def templates(contract: ContractOption,
              out: Annotated[Path, typer.Option("--out", help="Directory for participants.xlsx and outcomes.xlsx.")],
              as_json: JsonFlag = False) -> None:
    """Write the blank Excel workbooks a provider fills in for a contract (drop-down outcome ids, notes)."""
    from ledger.shell.xlsx_templates import write_templates
    from models.pbr_store import get_contract

    with engine().connect() as conn:
        c = get_contract(conn, contract)
    written = [str(path) for path in write_templates(c, out)]
    _print({"contract": contract, "written": written}, as_json, lines=[f"wrote {path}" for path in written])


#: columns whose numbers, in a workbook, are Excel serial dates
PARTICIPANT_DATES = frozenset({"start_date"})
OUTCOME_DATES = frozenset({"achieved_on", "submitted_on"})


@participants_app.command("import")
def participants_import(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx: participant_id, start_date (YYYY-MM-DD), optional "
                                              "cohort, other columns kept as attributes.")],
    contract: ContractOption,
    sheet: SheetOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add participants to a contract's register, all or nothing. Re-importing a file adds nothing."""
    from models.pbr_store import import_participants

    table = Table(file, sheet, PARTICIPANT_DATES)
    try:
        with engine().begin() as conn:
            report = import_participants(conn, contract, table.text, table.source_name, current_user(user))
    except FuelError as exc:
        raise table.explain(exc) from None
    _print(report.as_dict(), as_json, lines=_report_lines(report))


@outcomes_app.command("import")
def outcomes_import(
    file: Annotated[Path, typer.Argument(help="CSV or .xlsx: participant_id, outcome_id, achieved_on, optional "
                                              "evidence_ref and submitted_on.")],
    contract: ContractOption,
    submitted_on: Annotated[Optional[str], typer.Option("--submitted-on", help="Submission date for rows without "
                            "one, YYYY-MM-DD (default: today); checked against the claim deadline.")] = None,
    sheet: SheetOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a provider's outcome events, all or nothing, with a report of rows the rules reject."""
    from models.pbr_store import import_outcomes

    day = parse_date(submitted_on, "--submitted-on") if submitted_on else None
    table = Table(file, sheet, OUTCOME_DATES)
    try:
        with engine().begin() as conn:
            report = import_outcomes(conn, contract, table.text, table.source_name, current_user(user), day)
    except FuelError as exc:
        raise table.explain(exc) from None
    rows = [{"row": r, "participant_id": p, "outcome_id": o, "reason": why} for r, p, o, why in report.rejected]
    _print(report.as_dict(), as_json, rows if rows else None, ["row", "participant_id", "outcome_id", "reason"],
           "Rows the contract will reject", lines=_report_lines(report))


# ---------------------------------------------------------------------------- claims


@claims_app.command("run")
def claims_run(contract: ContractOption, period: PeriodOption, user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Price, cap and split the waiting outcome events for a period. Running it again returns the
    stored run unchanged."""
    from models.pbr_store import run_claims, run_payers

    with engine().begin() as conn:
        run = run_claims(conn, contract, period, current_user(user))
        payers = run_payers(conn, run)
    _print(run.as_dict() | {"payers": payers}, as_json, payers,
           ["payer_id", "share_pence", "clawback_pence"], "Payers",
           lines=_run_lines(run) + ([] if run.created else ["(already run: the stored run is shown)"]))


@claims_app.command("show")
def claims_show(
    contract: ContractOption,
    period: PeriodOption,
    lines: Annotated[bool, typer.Option("--lines", help="Show every claim line (the annex), not the per-outcome summary.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Write the lines (with --lines) or the summary as CSV.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The claim statement: per outcome counts, prices, reductions and net; or every line."""
    from reports.pbr_reports import statement
    from reports.render import emit

    with engine().connect() as conn:
        data = statement(conn, contract, period)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    rows = data["lines"] if lines else data["by_outcome"]
    columns = list(rows[0]) if rows else []
    if as_csv:
        emit(rows, columns, "csv")
        return
    for line in _claim_header(data):
        typer.echo(line)
    short = columns if lines else ["outcome_id", "rate_card_version", "unit_price_pence", "count_claimed",
                                   "count_validated", "count_rejected", "gross_pence", "cap_reductions_pence", "net_pence"]
    emit(rows, short, "table", title="Claim lines" if lines else "By outcome")
    emit(data["payers"], ["payer_id", "share_pence", "clawback_pence", "approved_pence", "paid_pence"], "table", title="Payers")


def _claim_header(data: dict) -> list[str]:
    from ledger.money import format_amount

    run = data["run"]
    currency = data["currency"]

    def money(pence: int) -> str:
        return f"{format_amount(pence, currency, separators=True)} {currency}"

    return [f"claim run {run['contract']} {run['period']}: {run['status']}; rate card "
            f"{', '.join(data['rate_card_versions']) or '-'}; net {money(run['net_pence'])}, clawback "
            f"{money(run['clawback_pence'])}, due {money(run['due_pence'])}"]


@claims_app.command("dispute")
def claims_dispute(
    contract: ContractOption, period: PeriodOption,
    line: Annotated[int, typer.Option("--line", help="Line number (line_no in `fuel claims show --lines`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the payer disputes the line.")],
    user: UserOption = None, as_json: JsonFlag = False,
) -> None:
    """A payer disputes one line before approval: it is left out of the approved amount."""
    from models.pbr_store import dispute_line

    with engine().begin() as conn:
        status = dispute_line(conn, contract, period, line, reason, current_user(user))
    _print({"contract": contract, "period": period, "line": line, "status": status}, as_json,
           lines=[f"line {line} of {contract} {period}: {status}"])


@claims_app.command("approve")
def claims_approve(contract: ContractOption, period: PeriodOption, on: DateOption = None, user: UserOption = None,
                   as_json: JsonFlag = False) -> None:
    """The payers approve the run: posts Dr outcome payments receivable / Cr outcome income per payer."""
    from models.pbr_store import approve, run_payers

    with engine().begin() as conn:
        run = approve(conn, contract, period, _day(on), current_user(user))
        payers = run_payers(conn, run)
    _print(run.as_dict() | {"payers": payers}, as_json, payers,
           ["payer_id", "share_pence", "clawback_pence", "approved_pence", "approval_entry_id"], "Approved",
           lines=_run_lines(run))


@claims_app.command("invoice")
def claims_invoice(contract: ContractOption, period: PeriodOption,
                   ref: Annotated[str, typer.Option("--ref", help="Invoice reference.")],
                   user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Mark an approved run as invoiced to its payers."""
    from models.pbr_store import invoice

    with engine().begin() as conn:
        run = invoice(conn, contract, period, ref, current_user(user))
    _print(run.as_dict(), as_json, lines=_run_lines(run))


@claims_app.command("pay")
def claims_pay(contract: ContractOption, period: PeriodOption, on: DateOption = None,
               payer: Annotated[Optional[str], typer.Option("--payer", help="Record one payer's payment only.")] = None,
               user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Record the payers' cash: posts Dr cash / Cr outcome payments receivable."""
    from models.pbr_store import pay, run_payers

    with engine().begin() as conn:
        run = pay(conn, contract, period, _day(on), current_user(user), payer)
        payers = run_payers(conn, run)
    _print(run.as_dict() | {"payers": payers}, as_json, payers,
           ["payer_id", "approved_pence", "paid_pence", "payment_entry_id"], "Paid", lines=_run_lines(run))


@claims_app.command("sample")
def claims_sample(contract: ContractOption, period: PeriodOption,
                  size: Annotated[int, typer.Option("--size", help="How many paid lines to re-check.")],
                  seed: Annotated[str, typer.Option("--seed", help="Seed of the deterministic selection.")],
                  user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Choose the paid lines of a run to re-check (validation sampling)."""
    from models.pbr_store import draw_sample

    with engine().begin() as conn:
        result = draw_sample(conn, contract, period, size, seed, current_user(user))
    _print(result, as_json, lines=[f"sample of {contract} {period}: lines {result['sampled_lines']}"])


@claims_app.command("recheck")
def claims_recheck(contract: ContractOption, period: PeriodOption,
                   invalid: Annotated[str, typer.Option("--invalid", help="Sampled line numbers that failed, "
                                                        "comma-separated ('' for none).")],
                   method: Annotated[str, typer.Option("--method", help="extrapolate (error rate x claim) or line.")] = "extrapolate",
                   user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Record the re-check: error rate and the recovery carried to the next claim run."""
    from models.pbr_store import record_recheck

    try:
        numbers = [int(x) for x in invalid.split(",") if x.strip()]
    except ValueError:
        raise ValidationError(f"--invalid {invalid!r}: give line numbers like 3,7", field="invalid") from None
    with engine().begin() as conn:
        result = record_recheck(conn, contract, period, numbers, method, current_user(user))
    _print(result, as_json, lines=[f"re-check of {contract} {period}: error rate {result['error_rate']}; recovery "
                                   f"{result['recovery_pence']} pence carried to the next claim run"])


@claims_app.command("mechanism")
def claims_mechanism(contract: ContractOption, period: PeriodOption,
                     data: Annotated[Path, typer.Option("--data", help="TOML file or .xlsx sheet of the period's "
                                                        "figures (docs/pbr.md, docs/formats.md).")],
                     index: Annotated[int, typer.Option("--index", help="Which [[mechanisms]] entry (0 = first).")] = 0,
                     sheet: SheetOption = None,
                     user: UserOption = None, as_json: JsonFlag = False) -> None:
    """Import a period's mechanism figures (all or nothing), compute the payment and record it
    with the file; the next `fuel claims run` bills it beside the rate-card lines."""
    from ledger.pbr.mechanism_inputs import compute_mechanism, figures_from_rows
    from ledger.periods import Period
    from ledger.shell.xlsx_in import is_workbook
    from models.pbr_store import get_contract, mechanism_results, read_csv_text, record_mechanism

    table = Table(data, sheet, frozenset({"start", "end"})) if is_workbook(data) else None
    text = table.text if table else read_text(data)
    if table is None:
        try:
            figures = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FuelError(f"{data}: not valid TOML: {exc}") from None
    with engine().begin() as conn:
        c = get_contract(conn, contract)
        if not 0 <= index < len(c.mechanisms):
            raise ValidationError(f"contract {contract} has {len(c.mechanisms)} mechanism(s); --index {index} is not one",
                                  field="index")
        kind, params = c.mechanisms[index]
        if table is not None:
            try:
                rows = read_csv_text(text, table.source_name).to_dict("records")
                figures = figures_from_rows(kind, rows, table.source_name)
            except FuelError as exc:
                raise table.sheet_text.explain_any(exc) from None
        quarter = Period.parse(period)
        payment, result = compute_mechanism(kind, dict(params), figures, quarter,
                                            mechanism_results(conn, contract, index, quarter.name))
        status = record_mechanism(conn, contract, quarter.name, index, kind, text, payment, result, current_user(user),
                                  file_name=data.name)
    payload = {"contract": contract, "period": quarter.name, "kind": kind, "payment_pence": payment,
               "status": status, "result": result}  # fmt: skip
    _print(payload, as_json, lines=[f"{kind} for {contract} {quarter.name}: payment {payment} pence ({status}); "
                                    f"billed by the next `fuel claims run`"])


@claims_app.command("plan")
def claims_plan(contract: ContractOption,
                plans: Annotated[Path, typer.Option("--plans", help="CSV: type (Planned), plan_version, made_on, quarter, amount.")],
                as_of: Annotated[Optional[str], typer.Option("--as-of", help="Report date (default: today).")] = None,
                as_json: JsonFlag = False) -> None:
    """Planned versus actual outcome payments (actuals: what the payers paid per claim period)."""
    import io

    import pandas as pd

    from ledger.pbr.plans import plan_vs_actual, plans_from_frame
    from models.pbr_store import actuals_by_quarter, get_contract

    frame = pd.read_csv(io.StringIO(read_text(plans)), dtype=str, keep_default_na=False, comment="#")
    versions, _ = plans_from_frame(frame[frame["type"].str.strip() == "Planned"])
    with engine().connect() as conn:
        get_contract(conn, contract)
        actuals = actuals_by_quarter(conn, contract)
    table = plan_vs_actual(versions, actuals, _day(as_of, "--as-of"))
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in table.to_dict("records")]
    _print({"contract": contract, "rows": rows}, as_json, rows, list(table.columns), f"Plan versus actual: {contract}")
