"""Fund statement terms in the database, registered onto the ``fuel`` app (one import line in
cli.py): ``fuel terms load FILE``, ``fuel terms show``, ``fuel terms list``. ``fuel fund load``
stores the terms its setup file names (``[fund] terms = "..."``) through the same functions.
Storage and rules: ``models/terms_store.py``; format and versions: ``docs/statements.md``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Optional

import typer

from ledger.errors import ImportRejected
from ledger.periods import parse_date
from ledger.shell.cli_common import AsOfOption, CsvFlag, JsonFlag, UserOption, app, as_of_date, current_user, engine
from ledger.shell.cli_common import output_format, read_text

terms_app = typer.Typer(rich_markup_mode=None, help="Fund statement terms (allocation, targets, waterfall): load, show, list versions.",
                        no_args_is_help=True)
app.add_typer(terms_app, name="terms")

FundOption = Annotated[Optional[str], typer.Option("--fund", help="Fund id (default: the only fund in the database).")]


def read_terms_file(path: Path):
    """A terms file and the waterfall file it names (``waterfall = "..."``, relative to it), as text."""
    from models.terms_store import TermsSource

    text = read_text(path)
    try:
        waterfall = tomllib.loads(text).get("waterfall")
    except tomllib.TOMLDecodeError as exc:
        raise ImportRejected(f"{path.name}: not valid TOML", [f"{path.name}: {exc}"]) from None
    if not isinstance(waterfall, str) or not waterfall:
        return TermsSource(text, path.name, None, "")  # the parser reports the missing waterfall
    try:
        waterfall_text = (path.parent / waterfall).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ImportRejected(f"{path.name}: fund terms rejected",
                             [f"{path.name}.waterfall: file {waterfall!r} not found next to the terms"]) from None
    return TermsSource(text, path.name, waterfall_text, waterfall)


def store_setup_terms(conn, setup, setup_file: Path, loaded_by: str):
    """Store the terms a fund setup file names (None when it names none): what ``fuel fund load`` does."""
    from models.terms_store import store_terms

    if setup.terms_file is None:
        return None
    source = read_terms_file(setup_file.parent / setup.terms_file)
    return store_terms(conn, source, loaded_by=loaded_by, fund=setup.fund.id)


def describe(version, outcome: str) -> str:
    verb = {"added": "stored", "unchanged": "unchanged (the same terms are already stored)"}[outcome]
    return (f"terms of fund {version.fund}: version {version.version}, effective from {version.effective_from}, "
            f"{verb}")


@terms_app.command("load")
def terms_load(
    file: Annotated[Path, typer.Argument(help="Terms file (TOML, docs/statements.md), e.g. fixtures/demo/terms.toml; "
                                         "its waterfall file is read too.")],
    effective_from: Annotated[Optional[str], typer.Option(
        "--effective-from", help="First day this version applies, YYYY-MM-DD (default: the fund's start for the "
                                 "first version, today for a later one).")] = None,
    user: UserOption = None,
) -> None:
    """Store a fund's statement terms and waterfall as a new version. Loading the same files again
    changes nothing; changed terms become a new version from their effective date."""
    from models.terms_store import store_terms

    day = parse_date(effective_from, "--effective-from") if effective_from else None
    source = read_terms_file(file)
    with engine().begin() as conn:
        version, outcome = store_terms(conn, source, effective_from=day, loaded_by=current_user(user))
    typer.echo(describe(version, outcome))


@terms_app.command("show")
def terms_show(fund: FundOption = None, as_of: AsOfOption = None, as_json: JsonFlag = False,
               text: Annotated[bool, typer.Option("--text", help="Print the stored terms and waterfall files.")] = False,
               ) -> None:
    """The terms that apply on a date: version, allocation methods, waterfall tranches, targets."""
    from ledger.shell.cli_flows import _resolve_fund
    from models.db import reading
    from models.terms_store import applicable_terms

    day = as_of_date(as_of)
    with reading(engine()) as conn:
        version, source, terms = applicable_terms(conn, _resolve_fund(conn, fund), day)
    if text:
        typer.echo(f"# {source.terms_name}\n{source.terms_text}\n# {source.waterfall_name}\n{source.waterfall_text}")
        return
    info = {**version.as_dict(), "as_of": day.isoformat(), "allocation": dict(terms.allocation),
            "recallable_kinds": list(terms.recallable_kinds),
            "waterfall": {"name": terms.waterfall.name, "mode": terms.waterfall.mode,
                          "tranches": [{"id": t.id, "rank": t.rank, "repayable": t.repayable}
                                       for t in terms.waterfall.tranches],
                          "tiers": len(terms.waterfall.tiers)},
            "targets": len(terms.targets)}
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"Fund {version.fund}: terms version {version.version}, effective from {version.effective_from} "
               f"(applies on {day})")
    typer.echo(f"  terms file      {version.terms_name}  sha256 {version.terms_sha256}")
    typer.echo(f"  waterfall file  {version.waterfall_name}  sha256 {version.waterfall_sha256}")
    typer.echo(f"  loaded          {info['loaded_at']} by {version.loaded_by}")
    typer.echo("  allocation      " + ", ".join(f"{k} = {v}" for k, v in terms.allocation.items()))
    typer.echo(f"  waterfall       {terms.waterfall.name} ({terms.waterfall.mode}, {len(terms.waterfall.tiers)} tiers): "
               + ", ".join(f"{t.id} rank {t.rank}{'' if t.repayable else ' (not repayable)'}"
                           for t in terms.waterfall.tranches))
    typer.echo(f"  targets         {len(terms.targets)}")


@terms_app.command("list")
def terms_list(fund: Annotated[Optional[str], typer.Option("--fund", help="One fund's versions (default: all).")] = None,
               as_csv: CsvFlag = False, as_json: JsonFlag = False) -> None:
    """Every stored version of every fund's terms: fund, version, effective from, files, hashes, loaded."""
    from models.db import reading
    from models.terms_store import list_terms
    from reports.render import emit

    fmt = output_format(as_csv, as_json)
    with reading(engine()) as conn:
        rows = [v.as_dict() for v in list_terms(conn, fund)]
    emit(rows, ["fund", "version", "effective_from", "terms_name", "waterfall_name", "terms_sha256",
                "loaded_at", "loaded_by"], fmt, title="Fund terms")
