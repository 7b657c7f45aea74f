"""``fuel export 360giving|indigo|journal``: a fund's data in the formats its sector reads.

Each command reads the database, builds the document with a pure function (reports/), checks
it, and only then writes its file(s), so a refused export leaves nothing half-written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ValidationError
from ledger.periods import parse_date
from ledger.shell.cli import export_app
from ledger.shell.cli_common import FIXTURES, engine, read_text

FundOption = Annotated[str, typer.Option("--fund", help="Fund id (fuel fund list).")]
FromOption = Annotated[Optional[str], typer.Option("--from", help="First date included (YYYY-MM-DD).")]
ToOption = Annotated[Optional[str], typer.Option("--to", help="Last date included (YYYY-MM-DD).")]


def _check_folder(out: Path) -> None:
    if not out.parent.is_dir():
        raise ValidationError(f"--out {out}: folder {out.parent} does not exist", field="out")


def _dates(start: str | None, end: str | None):
    first = parse_date(start, "--from") if start else None
    last = parse_date(end, "--to") if end else None
    if first and last and last < first:
        raise ValidationError(f"--to {last} is before --from {first}", field="to")
    return first, last


@export_app.command("360giving")
def export_360giving(
    fund: FundOption,
    out: Annotated[Path, typer.Option("--out", help="FILE.json or FILE.xlsx (the standard's spreadsheet).")],
    start: FromOption = None,
    end: ToOption = None,
    publisher: Annotated[Optional[Path], typer.Option("--publisher", help="Publisher profile (TOML): 360Giving "
                         "prefix, org-ids, beneficiary locations. Default: none, the publisher's own scheme.")] = None,
) -> None:
    """The fund's grants (to projects, first-loss, to delivery partners) in the 360Giving Data
    Standard 1.4, validated against the shipped schema and codelists. Participants never appear."""
    from models.db import reading
    from models.opendata_store import fund_reference, fund_row, grant_records
    from reports import giving360

    suffix = out.suffix.lower()
    if suffix not in (".json", ".xlsx"):
        raise ValidationError(f"--out {out}: the file must end in .json or .xlsx", field="out")
    _check_folder(out)
    first, last = _dates(start, end)
    with reading(engine()) as conn:
        fund_data = fund_row(conn, fund)
        records = grant_records(conn, fund, first, last)
        reference = fund_reference(conn, fund)
    profile = (giving360.parse_publisher(read_text(publisher), str(publisher), fund, fund_data["name"]) if publisher
               else giving360.default_publisher(fund, fund_data["name"]))  # fmt: skip
    package = giving360.build_package(records, reference, fund_data, profile)
    problems = giving360.validate_package(package)
    if problems:
        raise ValidationError(f"the 360Giving export of {fund} does not validate: " + "; ".join(problems[:5]))
    if suffix == ".json":
        giving360.write_json(package, out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / "grants.json"
            giving360.write_json(package, staged)
            giving360.write_xlsx(staged, Path(tmp) / "grants.xlsx")
            out.write_bytes((Path(tmp) / "grants.xlsx").read_bytes())
    total = sum(g.amount_pence for g in records)
    typer.echo(f"wrote {out}: {len(records)} grant(s) of {fund}, {giving360.pounds(total)} {fund_data['currency']} "
               f"awarded; valid against 360Giving schema {giving360.SCHEMA_VERSION}")  # fmt: skip




@export_app.command("indigo")
def export_indigo(
    fund: FundOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the INDIGO CSV files (created; files replaced).")],
    plans: Annotated[Optional[list[str]], typer.Option("--plans", help="CONTRACT=FILE: a plan CSV (type, plan_version, "
                     "made_on, quarter, amount) whose Planned rows are published for that contract. Repeatable.")] = None,
) -> None:
    """The fund's outcomes contracts in the INDIGO "all data by type" CSV layout (GO Lab INDIGO):
    projects, outcome metrics, rate cards, payer commitments, results, actual and planned outcome
    payments, investments, transactions, each value with its public/private status.
    `fuel contracts from-indigo FUEL-<contract> --indigo-dir OUT` rebuilds each contract."""
    import csv
    import io

    import pandas as pd

    from ledger.pbr.indigo_export import indigo_tables
    from ledger.pbr.plans import plans_from_frame
    from models.db import reading
    from models.opendata_store import fund_reference, fund_row, indigo_figures

    planned: dict[str, list] = {}
    for item in plans or []:
        contract_id, sep, file_name = item.partition("=")
        if not sep or not contract_id.strip() or not file_name.strip():
            raise ValidationError(f"--plans {item!r}: expected CONTRACT=FILE", field="plans")
        path = Path(file_name.strip())
        frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False, comment="#")
        if "type" not in frame.columns:
            raise ValidationError(f"{path}: missing column 'type' (type, plan_version, made_on, quarter, amount)", field="plans")
        versions, _ = plans_from_frame(frame[frame["type"].str.strip() == "Planned"])
        planned[contract_id.strip()] = [(v.version_id, v.made_on, q, pence) for v in versions for q, pence in v.amounts_pence]
    with reading(engine()) as conn:
        fund_data = fund_row(conn, fund)
        figures = indigo_figures(conn, fund, planned)
        reference = fund_reference(conn, fund)
    if not figures:
        raise ValidationError(f"fund {fund} has no outcomes contracts: nothing to export", field="fund")
    unknown = set(planned) - {f.contract.contract_id for f in figures}
    if unknown:
        raise ValidationError(f"--plans: contract {sorted(unknown)[0]!r} is not one of {fund}'s contracts", field="plans")
    kinds = {"payer": "Outcome payer", "investor": "Investor", "provider": "Service provider", "manager": "Fund manager"}
    organisations = {pid: (p["name"], kinds.get(p["kind"], p["kind"])) for pid, p in reference["parties"].items()}
    organisations[fund] = (fund_data["name"], "Fund (intermediary)")
    tables = indigo_tables(figures, organisations)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out}: is a file; INDIGO export needs a folder", field="out")
    out.mkdir(parents=True, exist_ok=True)
    texts = {}
    for name, table in tables.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.header())
        writer.writerows(table.records())
        texts[name] = buffer.getvalue()
    for name, text in texts.items():  # all built before any is written
        (out / name).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(texts)} INDIGO files to {out}: {len(figures)} project(s) of {fund} "
               f"({', '.join('FUEL-' + f.contract.contract_id for f in figures)})")


DEFAULT_ACCOUNT_MAP = FIXTURES / "journal" / "account_map.toml"


@export_app.command("journal")
def export_journal(
    fmt: Annotated[str, typer.Option("--format", help="xero (manual journal CSV) or sage (Sage 50 audit trail JD/JC).")],
    fund: FundOption,
    out: Annotated[Path, typer.Option("--out", help="FILE.csv. Xero takes 300 lines a file: more are written as "
                   "FILE-001.csv, FILE-002.csv, ..., never splitting a journal.")],
    start: FromOption = None,
    end: ToOption = None,
    account_map: Annotated[Path, typer.Option("--map", help="Account map (TOML): Fuel account -> your codes, "
                           "tax rate, tracking.")] = DEFAULT_ACCOUNT_MAP,
) -> None:
    """The fund's ledger as journals an accountant imports into Xero or Sage 50: one journal per
    entry, each balancing, with tracking for source and project (the fund in the narration)."""
    import csv
    import io

    from models.db import reading
    from models.opendata_store import fund_postings, fund_row
    from reports import journal_export as je

    builders = {"xero": (je.xero_rows, je.XERO_COLUMNS, je.XERO_LINES_MAX), "sage": (je.sage_rows, je.SAGE_COLUMNS, None)}
    if fmt not in builders:
        raise ValidationError(f"--format {fmt!r}: choose xero or sage", field="format")
    if out.suffix.lower() != ".csv":
        raise ValidationError(f"--out {out}: the file must end in .csv", field="out")
    _check_folder(out)
    first, last = _dates(start, end)
    mapping = je.parse_account_map(read_text(account_map), str(account_map))
    from sqlalchemy import select

    from models.tables import AccountRow

    with reading(engine()) as conn:
        fund_data = fund_row(conn, fund)
        names = {r.code: r.name for r in conn.execute(select(AccountRow.__table__.c.code, AccountRow.__table__.c.name))}
        build, columns, lines_max = builders[fmt]
        journals = build(fund_postings(conn, fund, first, last), mapping, fund, fund_data["currency"], names,
                         str(account_map))  # fmt: skip
    if not journals:
        raise ValidationError(f"fund {fund} has no entries from {je.period_label(first, last)}: nothing to export",
                              field="fund")  # fmt: skip
    files = je.split_files(journals, lines_max) if lines_max else [[row for j in journals for row in j]]
    paths = [out] if len(files) == 1 else [out.with_name(f"{out.stem}-{i:03d}{out.suffix}") for i in range(1, len(files) + 1)]
    from reports.render import spreadsheet_safe

    texts = []
    for rows in files:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        # Text typed into Fuel must not run as a formula, nor break a row, in the accountant's sheet.
        writer.writerows([[spreadsheet_safe(" ".join(cell.splitlines())) for cell in row] for row in rows])
        texts.append(buffer.getvalue())
    for path, text in zip(paths, texts):  # every file built and checked before the first is written
        path.write_text(text, encoding="utf-8", newline="")
    lines = sum(len(j) for j in journals)
    typer.echo(f"wrote {', '.join(str(p) for p in paths)}: {len(journals)} journal(s), {lines} line(s) of {fund} "
               f"for {fmt}, each balancing")
