"""The 360Giving Data Standard (schema 1.4) form of a fund's grants, its validation and its files.

:func:`build_package` is pure: grant records (models/opendata_store.py), the fund's reference
data and a publisher profile (TOML, docs/formats.md) in; a 360Giving package (``{"grants": [...],
...}``) out, with every amount as a :class:`~decimal.Decimal` of pounds made from integer pence.
:func:`validate_package` checks it against the schema and codelists shipped in
``fixtures/360giving/`` (copied from ThreeSixtyGiving/standard 1.4.3, CC BY 4.0), offline.
:func:`write_json` writes the numbers exactly (``1234.5`` is written ``1234.50``, never a
binary-float artefact); :func:`write_xlsx` turns that JSON into the standard's spreadsheet (one
row per grant, the standard's column titles) with ``flattentool``, which also reads it back.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

from ledger.errors import ValidationError

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "360giving"
GRANT_SCHEMA = SCHEMA_DIR / "360-giving-schema.json"
PACKAGE_SCHEMA = SCHEMA_DIR / "360-giving-package-schema.json"
SCHEMA_VERSION = "1.4"
#: The package schema refers to the grant schema of 1.4.2; the grant schema's own $id is 1.4.3.
GRANT_SCHEMA_URLS = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json",
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.3/schema/360-giving-schema.json",
)
FUEL_VOCABULARY = "Fuel"
KIND_TITLES = {
    "project_grant": "Grant to a project",
    "first_loss_grant": "First-loss grant to a project",
    "partner_grant": "Grant to a delivery partner (outcome payments passed through)",
}
_PREFIX = re.compile(r"^360G-[A-Za-z0-9]+$")
_GEOCODE_TYPES: frozenset[str] | None = None


@dataclass(frozen=True)
class Location:
    name: str
    geocode: str
    geocode_type: str = "MD"
    country: str = "GB"


@dataclass(frozen=True)
class Publisher:
    """Who publishes, and the identifiers Fuel's own data does not hold."""

    prefix: str  # the publisher's 360Giving prefix, e.g. 360G-lcrblended
    name: str
    org_id: str  # the funding organisation's org-id (defaults to the prefix)
    website: str | None
    organisations: Mapping[str, Mapping[str, str]]  # party id -> charity_number / company_number / org_id / name
    project_locations: Mapping[str, tuple[Location, ...]]
    project_programmes: Mapping[str, Mapping[str, str]]  # project id -> code / title (the call), when no contract


def _str(data: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{where}: {key} is required", field=key)
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}: {key} must be non-empty text", field=key)
    return value.strip()


def geocode_types() -> frozenset[str]:
    global _GEOCODE_TYPES
    if _GEOCODE_TYPES is None:
        with (SCHEMA_DIR / "codelists" / "geoCodeType.csv").open(encoding="utf-8") as handle:
            _GEOCODE_TYPES = frozenset(row["Code"] for row in csv.DictReader(handle))
    return _GEOCODE_TYPES


def parse_publisher(text: str, source_name: str, fund_id: str, fund_name: str) -> Publisher:
    """Read a publisher profile (TOML); every problem names the file and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source_name}: not valid TOML: {exc}") from None
    pub = data.get("publisher", {})
    if not isinstance(pub, dict):
        raise ValidationError(f"{source_name}: [publisher] must be a table", field="publisher")
    prefix = _str(pub, "prefix", f"{source_name} [publisher]") or f"360G-{re.sub(r'[^A-Za-z0-9]', '', fund_id)}"
    if not _PREFIX.match(prefix):
        raise ValidationError(f"{source_name} [publisher]: prefix {prefix!r} must look like 360G-<letters and digits>",
                              field="prefix")  # fmt: skip
    organisations: dict[str, dict[str, str]] = {}
    for party_id, org in (data.get("organisations") or {}).items():
        where = f"{source_name} [organisations.{party_id}]"
        if not isinstance(org, dict):
            raise ValidationError(f"{where}: must be a table", field="organisations")
        unknown = set(org) - {"charity_number", "company_number", "org_id", "name"}
        if unknown:
            raise ValidationError(f"{where}: unknown key {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        organisations[party_id] = {k: _str(org, k, where) for k in org}  # type: ignore[misc]
    locations: dict[str, tuple[Location, ...]] = {}
    programmes: dict[str, dict[str, str]] = {}
    for project_id, proj in (data.get("projects") or {}).items():
        where = f"{source_name} [projects.{project_id}]"
        if not isinstance(proj, dict):
            raise ValidationError(f"{where}: must be a table", field="projects")
        found = []
        for i, loc in enumerate(proj.get("locations") or [], start=1):
            at = f"{where} location {i}"
            if not isinstance(loc, dict):
                raise ValidationError(f"{at}: must be a table", field="locations")
            kind = _str(loc, "geocode_type", at) or "MD"
            if kind not in geocode_types():
                raise ValidationError(f"{at}: geocode_type {kind!r} is not in the 360Giving geoCodeType codelist",
                                      field="geocode_type")  # fmt: skip
            found.append(Location(_str(loc, "name", at, True), _str(loc, "geocode", at, True), kind,  # type: ignore[arg-type]
                                  _str(loc, "country", at) or "GB"))
        locations[project_id] = tuple(found)
        if "programme" in proj:
            prog = proj["programme"]
            if not isinstance(prog, dict):
                raise ValidationError(f"{where}: programme must be a table with code and title", field="programme")
            programmes[project_id] = {"code": _str(prog, "code", f"{where} programme", True),
                                      "title": _str(prog, "title", f"{where} programme", True)}  # type: ignore[dict-item]
    return Publisher(prefix=prefix, name=_str(pub, "name", f"{source_name} [publisher]") or fund_name,
                     org_id=_str(pub, "org_id", f"{source_name} [publisher]") or prefix,
                     website=_str(pub, "website", f"{source_name} [publisher]"),
                     organisations=organisations, project_locations=locations, project_programmes=programmes)


def default_publisher(fund_id: str, fund_name: str) -> Publisher:
    return parse_publisher("", "(no publisher file)", fund_id, fund_name)


def pounds(pence: int, exponent: int = 2) -> Decimal:
    """Integer minor units as an exact Decimal of major units (``123456`` -> ``1234.56``)."""
    return Decimal(pence).scaleb(-exponent)


def org_id(publisher: Publisher, party_id: str) -> str:
    """Registered number first (charity, then company), else the publisher's own scheme."""
    org = publisher.organisations.get(party_id, {})
    if org.get("org_id"):
        return org["org_id"]
    if org.get("charity_number"):
        return f"GB-CHC-{org['charity_number']}"
    if org.get("company_number"):
        return f"GB-COH-{org['company_number']}"
    return f"{publisher.prefix}-org-{party_id}"


def _recipient(publisher: Publisher, party_id: str, name: str) -> dict:
    org = publisher.organisations.get(party_id, {})
    out: dict[str, Any] = {"id": org_id(publisher, party_id), "name": org.get("name") or name}
    if org.get("charity_number"):
        out["charityNumber"] = org["charity_number"]
    if org.get("company_number"):
        out["companyNumber"] = org["company_number"]
    return out


def build_package(records: Sequence[Any], reference: Mapping[str, Any], fund: Mapping[str, Any],
                  publisher: Publisher, issued: date | None = None) -> dict:
    """The 360Giving package of ``records``; no participant data is read or written."""
    funder = {"id": publisher.org_id, "name": fund["name"]}
    parties, projects = reference["parties"], reference["projects"]
    contracts = reference["contracts"]
    by_project = {c.project: c for c in contracts.values()}
    tranches = reference["tranches"]
    grants = []
    for g in records:
        project = projects.get(g.project_id or "", {})
        contract = contracts.get(g.contract_id) if g.contract_id else by_project.get(g.project_id)
        kind = g.kind
        if kind == "project_grant" and g.tranche and tranches.get(g.tranche, {}).get("kind") == "grant":
            kind = "first_loss_grant"
        if kind == "partner_grant":
            partner = next((p for p in (contract.partners if contract else ()) if p.partner_id == g.recipient_id), None)
            recipient_name = partner.name if partner else parties.get(g.recipient_id, {}).get("name", g.recipient_id)
            title = f"{contract.name if contract else g.contract_id}: delivery partner grant {g.period}"
            description = (f"{recipient_name}'s share of the outcome payments the fund received under "
                           f"{contract.name if contract else g.contract_id} for {g.period}, passed through to it "
                           "as a delivery partner of the joint-prime contract")  # fmt: skip
        else:
            recipient_name = parties.get(g.recipient_id, {}).get("name", g.recipient_id)
            title = f"{project.get('name', g.project_id)}: {KIND_TITLES[kind].lower()}"
            description = g.description
        grant: dict[str, Any] = {
            "id": f"{publisher.prefix}-{fund['id']}-{g.entry_id}",
            "title": title[:200],
            "description": description,
            "currency": g.currency,
            "amountAwarded": pounds(g.amount_pence),
            "awardDate": g.award_date.isoformat(),
            "recipientOrganization": [_recipient(publisher, g.recipient_id, recipient_name)],
            "fundingOrganization": [funder],
        }
        if contract is not None:
            grant["plannedDates"] = [{"startDate": contract.start.isoformat(),
                                      "endDate": date.fromordinal(contract.end.toordinal() - 1).isoformat()}]
            grant["grantProgramme"] = [{"code": contract.contract_id, "title": contract.name}]
        elif g.project_id in publisher.project_programmes:
            grant["grantProgramme"] = [dict(publisher.project_programmes[g.project_id])]
        locations = publisher.project_locations.get(g.project_id or "", ())
        if locations:
            grant["beneficiaryLocation"] = [{"name": loc.name, "geoCode": loc.geocode, "geoCodeType": loc.geocode_type,
                                             "countryCode": loc.country} for loc in locations]  # fmt: skip
        classes = [{"vocabulary": f"{FUEL_VOCABULARY} grant kind", "code": kind, "title": KIND_TITLES[kind]}]
        if project.get("theme"):
            classes.append({"vocabulary": f"{FUEL_VOCABULARY} theme", "code": project["theme"], "title": project["theme"]})
        if g.source:
            classes.append({"vocabulary": f"{FUEL_VOCABULARY} source of money", "code": g.source, "title": g.source})
        grant["classifications"] = classes
        grants.append(grant)
    if not grants:
        raise ValidationError(f"fund {fund['id']}: no grants in the period asked for; nothing to publish", field="fund")
    issued = issued or datetime.now(timezone.utc).date()
    package: dict[str, Any] = {
        "grants": grants, "version": SCHEMA_VERSION, "title": f"Grants made by {fund['name']}",
        "issued": issued.isoformat(),
        "publisher": {"identifier": publisher.org_id, "name": publisher.name},
    }
    if publisher.website:
        package["publisher"]["website"] = publisher.website
    return package


# ---------------------------------------------------------------------------- validation


def _validator(schema_path: Path):
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    grant = DRAFT202012.create_resource(json.loads(GRANT_SCHEMA.read_text(encoding="utf-8")))
    package = json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8"))
    registry = Registry().with_resources([(url, grant) for url in GRANT_SCHEMA_URLS])
    registry = registry.with_resource(package["$id"], DRAFT202012.create_resource(package))
    schema = package if schema_path == PACKAGE_SCHEMA else grant.contents
    # Dates are `oneOf` a date-time format and a date pattern: without format checking a plain
    # date would match both branches and fail the `oneOf`.
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def to_plain(value: Any) -> Any:
    """Decimals as floats, for the validator (it checks types, not digits)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def validate_package(package: Mapping[str, Any]) -> list[str]:
    """Every way ``package`` breaks the schema or a codelist, as ``path: message`` lines."""
    problems = [f"{'/'.join(str(p) for p in err.absolute_path) or '(package)'}: {err.message}"
                for err in _validator(PACKAGE_SCHEMA).iter_errors(to_plain(package))]  # fmt: skip
    for i, grant in enumerate(package.get("grants", [])):
        for j, loc in enumerate(grant.get("beneficiaryLocation", [])):
            if loc.get("geoCodeType") not in geocode_types():
                problems.append(f"grants/{i}/beneficiaryLocation/{j}/geoCodeType: {loc.get('geoCodeType')!r} "
                                "is not in the geoCodeType codelist")  # fmt: skip
    return problems


# ---------------------------------------------------------------------------- files


def dumps(package: Mapping[str, Any]) -> str:
    """JSON text with each Decimal written as the exact number it is."""
    marks: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            marks.append(format(value, "f"))
            return f"\x00{len(marks) - 1}\x00"
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    text = json.dumps(package, indent=2, ensure_ascii=False, default=mark)
    return re.sub(r'"\\u0000(\d+)\\u0000"', lambda m: marks[int(m.group(1))], text)


def write_json(package: Mapping[str, Any], path: Path) -> None:
    path.write_text(dumps(package) + "\n", encoding="utf-8")


def write_xlsx(json_path: Path, xlsx_path: Path) -> None:
    """The standard's spreadsheet form of a written package (flattentool, column titles)."""
    import flattentool

    # One row per grant on `grants`, each list (recipient, funder, locations, ...) on its own
    # sheet keyed by the grant's Identifier; no empty columns. Not rolled up: flattentool writes
    # a rolled-up item on both sheets, and reading it back would then double it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flattentool warns about schema fields without titles
        flattentool.flatten(str(json_path), output_name=str(xlsx_path), output_format="xlsx",
                            schema=str(GRANT_SCHEMA), main_sheet_name="grants", root_list_path="grants",
                            root_id="", use_titles=True, remove_empty_schema_columns=True)  # fmt: skip


def read_xlsx(xlsx_path: Path, json_path: Path) -> dict:
    """The package back from its spreadsheet (flattentool unflatten, titles to fields)."""
    import flattentool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flattentool.unflatten(str(xlsx_path), output_name=str(json_path), input_format="xlsx", schema=str(GRANT_SCHEMA),
                              root_list_path="grants", root_id="", convert_titles=True)  # fmt: skip
    return json.loads(json_path.read_text(encoding="utf-8"), parse_float=Decimal)
