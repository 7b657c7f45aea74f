"""A fund's outcomes contracts in the INDIGO "all data by type" CSV layout (GO Lab INDIGO).

:func:`indigo_tables` is pure: contracts and their figures (read by models/opendata_store.py)
in, one table per INDIGO file out (file name -> header and rows), with the export's own column
names (``... - (Value)``) and, beside each value column, a ``... - (Status)`` column saying
whether the field may be published (``public``) or is for the GO Lab only (``private``).

INDIGO has no field for some contract rules Fuel prices with (referral window, claim deadline,
per-participant cap, once-only and prerequisite rules, rate card versions, explicit payer
shares). They travel in extra columns named ``Fuel - ...`` that INDIGO tools ignore and
:func:`ledger.pbr.indigo.contract_from_indigo` reads, so ``fuel contracts from-indigo`` on this
export rebuilds a contract that prices the same claims to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Mapping, Sequence

from ledger.money import format_amount
from ledger.pbr.contracts import Contract

PUBLIC, PRIVATE = "public", "private"

# Extension columns (read back by ledger.pbr.indigo).
X_CONTRACT = "Fuel - Contract ID - (Value)"
X_FUND = "Fuel - Fund - (Value)"
X_PROJECT = "Fuel - Project - (Value)"
X_PROVIDER = "Fuel - Provider - (Value)"
X_ROUNDING = "Fuel - Rounding - (Value)"
X_TERM_END = "Fuel - Term end (first day after) - (Value)"
X_REF_FROM = "Fuel - Referrals from - (Value)"
X_REF_TO = "Fuel - Referrals to (first day after) - (Value)"
X_DEADLINE_DAYS = "Fuel - Claim deadline - Days after period end - (Value)"
X_DEADLINE_DATE = "Fuel - Claim deadline - Date - (Value)"
X_PARTICIPANT_CAP = "Fuel - Maximum outcome payment per participant - Amount - (Value)"
X_GROUPS = "Fuel - Mutually exclusive outcomes - (Value)"
X_ONCE = "Fuel - Once only - (Value)"
X_REQUIRES = "Fuel - Requires - (Value)"
X_MAX_DAYS = "Fuel - Maximum days after start - (Value)"
X_EVIDENCE = "Fuel - Evidence reference required - (Value)"
X_COUNT_CAP = "Fuel - Maximum count - (Value)"
X_VERSION = "Fuel - Rate card version - (Value)"
X_FROM = "Fuel - Effective from - (Value)"
X_TO = "Fuel - Effective to (first day after) - (Value)"
X_INDEX_RATE = "Fuel - Indexation annual rate - (Value)"
X_INDEX_BASE = "Fuel - Indexation base date - (Value)"
X_SHARE = "Fuel - Share of each outcome payment - (Value)"
X_SHARES_GIVEN = "Fuel - Shares given - (Value)"
X_FURTHER = "Fuel - Further terms (TOML) - (Value)"
#: Contract tables INDIGO has no fields for, carried whole (as TOML) in X_FURTHER.
FURTHER_KEYS = ("prime", "partners", "mechanisms")


def toml_value(value: object) -> str:
    """One TOML value (inline), for the further terms: text, booleans, integers, dates, lists, tables."""
    import json
    from datetime import date as _date

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, _date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {type(value).__name__} in the further terms")  # floats: refused by contracts too


def further_terms(contract_toml: str) -> str:
    """The ``[prime]``, ``[[partners]]`` and ``[[mechanisms]]`` tables of a contract file, re-written."""
    import json
    import tomllib

    data = tomllib.loads(contract_toml)
    out: list[str] = []
    for key in FURTHER_KEYS:
        value = data.get(key)
        if isinstance(value, Mapping):
            out.append(f"[{key}]")
            out += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            for item in value:
                out.append(f"[[{key}]]")
                out += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(out)


@dataclass(frozen=True)
class ContractFigures:
    """What the fund knows about one contract beyond its terms, all in pence, no participant."""

    contract: Contract
    #: the contract's tables INDIGO has no fields for (see :func:`further_terms`).
    further_toml: str = ""
    participants: int = 0
    #: (period name, outcome id, outcomes achieved and accepted)
    results: tuple[tuple[str, str, int], ...] = ()
    #: (period name, payer id, pence paid)
    actual_payments: tuple[tuple[str, str, int], ...] = ()
    #: (plan version, made on, period name, pence)
    planned_payments: tuple[tuple[str, date, str, int], ...] = ()
    #: (investment id, investor org id, type, pence committed)
    investments: tuple[tuple[str, str, str, int], ...] = ()
    #: (investment id, date, sender, receiver, type, pence)
    transactions: tuple[tuple[str, date, str, str, str, int], ...] = ()


@dataclass
class Table:
    columns: list[str]
    status: dict[str, str]
    rows: list[dict[str, str]] = field(default_factory=list)

    def header(self) -> list[str]:
        out = []
        for column in self.columns:
            out.append(column)
            if column.endswith(" - (Value)"):
                out.append(column.removesuffix(" - (Value)") + " - (Status)")
        return out

    def records(self) -> list[list[str]]:
        out = []
        for row in self.rows:
            line = []
            for column in self.columns:
                line.append(row.get(column, ""))
                if column.endswith(" - (Value)"):
                    line.append(self.status.get(column, PUBLIC) if row.get(column, "") != "" else "")
            out.append(line)
        return out


def project_id_for(contract: Contract) -> str:
    """The project id the export gives a contract; `from-indigo` makes contract id indigo-fuel-<id>."""
    return f"FUEL-{contract.contract_id}"


def _last_day(end: date) -> str:
    return (end - timedelta(days=1)).isoformat()


def _money(pence: int | None, currency: str) -> str:
    return "" if pence is None else format_amount(pence, currency)


def _quarter_bounds(name: str) -> tuple[str, str]:
    from ledger.periods import Period

    period = Period.parse(name)
    return period.start.isoformat(), _last_day(period.end)


def indigo_tables(figures: Sequence[ContractFigures], organisations: Mapping[str, tuple[str, str]]) -> dict[str, Table]:
    """One table per INDIGO file. ``organisations``: org id -> (name, type)."""
    from ledger.pbr.indigo import (C_ACHIEVED, C_CAP, C_CAP_CURRENCY, C_COMMIT_AMOUNT, C_CURRENCY, C_DEFINITION,
                                   C_END_PLANNED, C_INCREASES, C_MAX_PRICE, C_METRIC, C_NAME, C_ORG, C_PRICE,
                                   C_RESULT_TYPE, C_START, C_VALIDATION, FILES)  # fmt: skip

    paid_currency = "Overall project finance - Total outcome payments made - Currency - (Value)"
    paid_amount = "Overall project finance - Total outcome payments made - Amount - (Value)"
    users = "Service and beneficiaries - Actual number of unique service users or beneficiaries engaged (total) - (Value)"
    projects = Table(["ID", C_NAME, "Stage of Development - (Value)", C_START, C_END_PLANNED,
                      "Jurisdiction - Jurisdiction - (Value)", C_CAP_CURRENCY, C_CAP, paid_currency, paid_amount, users,
                      X_CONTRACT, X_FUND, X_PROJECT, X_PROVIDER, X_ROUNDING, X_TERM_END, X_REF_FROM, X_REF_TO, X_DEADLINE_DAYS,
                      X_DEADLINE_DATE, X_PARTICIPANT_CAP, X_GROUPS, X_FURTHER], {users: PRIVATE})  # fmt: skip
    metrics = Table(["Project ID", "Id", C_DEFINITION, C_VALIDATION, X_ONCE, X_REQUIRES, X_MAX_DAYS, X_EVIDENCE,
                     X_COUNT_CAP], {})  # fmt: skip
    pricings = Table(["Project ID", C_METRIC, C_CURRENCY, C_PRICE, C_MAX_PRICE, C_INCREASES,
                      "Price Description - (Value)", X_VERSION, X_FROM, X_TO, X_INDEX_RATE, X_INDEX_BASE], {})  # fmt: skip
    commitments = Table(["Project ID", C_ORG, "Organisation Role Category - (Value)",
                         "Maximum potential Outcome payment - Currency - (Value)", C_COMMIT_AMOUNT,
                         "Total outcome payments made - Currency - (Value)", "Total outcome payments made - Amount - (Value)",
                         X_SHARE, X_SHARES_GIVEN], {})  # fmt: skip
    results = Table(["Project ID", C_METRIC, "Result level - (Value)", C_RESULT_TYPE, "Period - Start - (Value)",
                     "Period - End - (Value)", C_ACHIEVED], {})  # fmt: skip
    payments = Table(["Project ID", "Outcome Payment Plan Id - (Value)", "Outcome Metric Id - (Value)",
                      "Period - Start - (Value)", "Period - End - (Value)", "Payer Organisation ID - (Value)",
                      "Recipient Organisation ID - (Value)", "Type - (Value)", "Payments - Currency - (Value)",
                      "Payments - Amount - (Value)"], {})  # fmt: skip
    investments = Table(["Project ID", "Id", "Organisation ID - (Value)", "Organisation Role Category - (Value)",
                         "Investment Commitment - Currency - (Value)", "Investment Commitment - Amount - Exact - (Value)",
                         "Investment Type - (Value)"],
                        {"Investment Commitment - Amount - Exact - (Value)": PRIVATE})  # fmt: skip
    transactions = Table(["Project ID", "Investment Id - (Value)", "Date - (Value)", "Sending Organisation ID - (Value)",
                          "Receiving Organisation ID - (Value)", "Transaction Type - (Value)", "Money - Currency - (Value)",
                          "Money - Amount - (Value)"],
                         {c: PRIVATE for c in ("Date - (Value)", "Money - Amount - (Value)")})  # fmt: skip
    orgs = Table(["ID", "Name", "Type - (Value)"], {})
    used_orgs: set[str] = set()

    for fig in figures:
        c, cur = fig.contract, fig.contract.currency
        pid = project_id_for(c)
        paid_total = sum(p for _, _, p in fig.actual_payments)
        projects.rows.append({
            "ID": pid, C_NAME: c.name, "Stage of Development - (Value)": "Implementation",
            C_START: c.start.isoformat(), C_END_PLANNED: _last_day(c.end), "Jurisdiction - Jurisdiction - (Value)": "GB",
            C_CAP_CURRENCY: cur if c.contract_cap_pence is not None else "",
            C_CAP: _money(c.contract_cap_pence, cur), paid_currency: cur, paid_amount: _money(paid_total, cur),
            users: str(fig.participants), X_CONTRACT: c.contract_id, X_FUND: c.fund or "", X_PROJECT: c.project, X_PROVIDER: c.provider,
            X_ROUNDING: c.rounding, X_TERM_END: c.end.isoformat(),
            X_REF_FROM: c.referrals_from.isoformat() if c.referrals_from else "",
            X_REF_TO: c.referrals_to.isoformat() if c.referrals_to else "",
            X_DEADLINE_DAYS: "" if c.claim_deadline_days is None else str(c.claim_deadline_days),
            X_DEADLINE_DATE: c.claim_deadline_date.isoformat() if c.claim_deadline_date else "",
            X_PARTICIPANT_CAP: _money(c.participant_cap_pence, cur),
            X_GROUPS: "; ".join(" | ".join(group) for group in c.exclusive_groups), X_FURTHER: fig.further_toml,
        })  # fmt: skip
        for o in c.outcomes:
            metrics.rows.append({
                "Project ID": pid, "Id": o.outcome_id, C_DEFINITION: o.definition,
                C_VALIDATION: "Evidence reference per outcome" if o.evidence_required else "No evidence reference",
                X_ONCE: "true" if o.once_only else "false", X_REQUIRES: " | ".join(o.requires),
                X_MAX_DAYS: "" if o.max_days_after_start is None else str(o.max_days_after_start),
                X_EVIDENCE: "true" if o.evidence_required else "false",
                X_COUNT_CAP: "" if o.count_cap is None else str(o.count_cap),
            })  # fmt: skip
        caps = {o.outcome_id: o.value_cap_pence for o in c.outcomes}
        for card in c.rate_cards:
            idx = card.indexation
            for price in card.prices:
                pricings.rows.append({
                    "Project ID": pid, C_METRIC: price.outcome_id, C_CURRENCY: cur, C_PRICE: _money(price.price_pence, cur),
                    C_MAX_PRICE: _money(caps.get(price.outcome_id), cur),
                    C_INCREASES: f"{idx.annual_rate} a year from {idx.base_date}" if idx else "",
                    "Price Description - (Value)": price.definition or "", X_VERSION: card.version,
                    X_FROM: card.effective_from.isoformat(),
                    X_TO: card.effective_to.isoformat() if card.effective_to else "",
                    X_INDEX_RATE: str(idx.annual_rate) if idx else "", X_INDEX_BASE: idx.base_date.isoformat() if idx else "",
                })  # fmt: skip
        paid_by_payer: dict[str, int] = {}
        for _, payer, pence in fig.actual_payments:
            paid_by_payer[payer] = paid_by_payer.get(payer, 0) + pence
        for payer in c.payers:
            used_orgs.add(payer.payer_id)
            organisations = {**organisations, payer.payer_id: organisations.get(payer.payer_id, (payer.name, "Outcome payer"))}
            commitments.rows.append({
                "Project ID": pid, C_ORG: payer.payer_id, "Organisation Role Category - (Value)": "Outcome payer",
                "Maximum potential Outcome payment - Currency - (Value)": cur if payer.cap_pence is not None else "",
                C_COMMIT_AMOUNT: _money(payer.cap_pence, cur), "Total outcome payments made - Currency - (Value)": cur,
                "Total outcome payments made - Amount - (Value)": _money(paid_by_payer.get(payer.payer_id, 0), cur),
                X_SHARE: "" if payer.share is None else str(payer.share), X_SHARES_GIVEN: "true",
            })  # fmt: skip
        for period, outcome_id, count in fig.results:
            start, end = _quarter_bounds(period)
            results.rows.append({"Project ID": pid, C_METRIC: outcome_id, "Result level - (Value)": "Outcome",
                                 C_RESULT_TYPE: "Interim", "Period - Start - (Value)": start,
                                 "Period - End - (Value)": end, C_ACHIEVED: str(count)})  # fmt: skip
        recipient = c.fund or c.provider
        for period, payer, pence in fig.actual_payments:
            start, end = _quarter_bounds(period)
            payments.rows.append({"Project ID": pid, "Period - Start - (Value)": start, "Period - End - (Value)": end,
                                  "Payer Organisation ID - (Value)": payer, "Recipient Organisation ID - (Value)": recipient,
                                  "Type - (Value)": "Actual", "Payments - Currency - (Value)": cur,
                                  "Payments - Amount - (Value)": format_amount(pence, cur)})  # fmt: skip
        for version, made_on, period, pence in fig.planned_payments:
            start, end = _quarter_bounds(period)
            payments.rows.append({"Project ID": pid, "Outcome Payment Plan Id - (Value)": f"{version} ({made_on})",
                                  "Period - Start - (Value)": start, "Period - End - (Value)": end,
                                  "Recipient Organisation ID - (Value)": recipient, "Type - (Value)": "Planned",
                                  "Payments - Currency - (Value)": cur,
                                  "Payments - Amount - (Value)": format_amount(pence, cur)})  # fmt: skip
        for inv_id, investor, kind, pence in fig.investments:
            used_orgs.add(investor)
            investments.rows.append({"Project ID": pid, "Id": inv_id, "Organisation ID - (Value)": investor,
                                     "Organisation Role Category - (Value)": "Investor",
                                     "Investment Commitment - Currency - (Value)": cur,
                                     "Investment Commitment - Amount - Exact - (Value)": format_amount(pence, cur),
                                     "Investment Type - (Value)": kind})  # fmt: skip
        for inv_id, day, sender, receiver, kind, pence in fig.transactions:
            transactions.rows.append({"Project ID": pid, "Investment Id - (Value)": inv_id, "Date - (Value)": day.isoformat(),
                                      "Sending Organisation ID - (Value)": sender,
                                      "Receiving Organisation ID - (Value)": receiver, "Transaction Type - (Value)": kind,
                                      "Money - Currency - (Value)": cur, "Money - Amount - (Value)": format_amount(pence, cur)})  # fmt: skip
        for org in (recipient,):
            used_orgs.add(org)
    for org_id in sorted(used_orgs):
        name, kind = organisations.get(org_id, (org_id, ""))
        orgs.rows.append({"ID": org_id, "Name": name, "Type - (Value)": kind})
    return {FILES["projects"]: projects, FILES["metrics"]: metrics, FILES["pricings"]: pricings,
            FILES["commitments"]: commitments, FILES["results"]: results, FILES["organisations"]: orgs,
            "original_projects_outcome_payments.csv": payments, "original_projects_investments.csv": investments,
            "original_projects_transactions.csv": transactions}  # fmt: skip


# ---------------------------------------------------------------------------- reading it back


def _cell(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def has_fuel_columns(project: Mapping[str, object]) -> bool:
    """Whether a project row came from `fuel export indigo` (it names its Fuel contract)."""
    return bool(_cell(project, X_CONTRACT))


def contract_toml_from_fuel_columns(frames, project: Mapping[str, object], project_id: str, contract_id: str,
                                    citation: str) -> tuple[str, list[str]]:
    """The contract file of a project exported by Fuel: INDIGO's own fields (name, start, caps,
    prices, payers) plus the ``Fuel - ...`` columns for the rules INDIGO has no field for.
    Returns the TOML text and what the data lacks (empty when the export is complete)."""
    import json

    from ledger.pbr.indigo import (C_CAP, C_COMMIT_AMOUNT, C_CURRENCY, C_DEFINITION, C_MAX_PRICE, C_METRIC, C_NAME,
                                   C_ORG, C_PRICE, C_START, _ID_CHARS, parse_money_text, parse_month)  # fmt: skip

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    def rows(key: str) -> list[dict]:
        frame = frames[key]
        if "Project ID" not in frame.columns:
            return []
        return [dict(r) for _, r in frame[frame["Project ID"].astype(str).str.strip() == project_id].iterrows()]

    lacks: list[str] = []
    pricings, metrics, commitments = rows("pricings"), rows("metrics"), rows("commitments")
    names = {_cell(r, "ID"): _cell(r, "Name") for _, r in frames["organisations"].iterrows()}
    currency = next((_cell(r, C_CURRENCY) for r in pricings if _cell(r, C_CURRENCY)), "GBP")
    start = parse_month(_cell(project, C_START))
    out = [f"# Contract rebuilt from {project_id} ({_cell(project, C_NAME)}) by `fuel contracts from-indigo`,",
           f"# from a `fuel export indigo` folder ({citation} layout, with Fuel's extension columns).", "",
           f"id = {q(contract_id)}", f"name = {q(_cell(project, C_NAME)[:200])}", f"project = {q(_cell(project, X_PROJECT) or project_id)}",
           f"provider = {q(_cell(project, X_PROVIDER) or '(provider not in the data)')}"]  # fmt: skip
    if _cell(project, X_FUND):
        out.append(f"fund = {q(_cell(project, X_FUND))}")
    out += [f"currency = {q(currency)}", f"rounding = {q(_cell(project, X_ROUNDING) or 'half_up')}",
            f"start = {start.isoformat() if start else ''}", f"end = {_cell(project, X_TERM_END)}"]
    groups = [[m.strip() for m in g.split("|") if m.strip()] for g in _cell(project, X_GROUPS).split(";") if g.strip()]
    if groups:  # a top-level key: before the first table
        out.append("exclusive_groups = [" + ", ".join("[" + ", ".join(q(m) for m in g) + "]" for g in groups) + "]")
    out.append("")
    if _cell(project, X_REF_FROM) or _cell(project, X_REF_TO):
        out.append("[referral_window]")
        out += [f"from = {_cell(project, X_REF_FROM)}"] if _cell(project, X_REF_FROM) else []
        out += [f"to = {_cell(project, X_REF_TO)}"] if _cell(project, X_REF_TO) else []
        out.append("")
    if _cell(project, X_DEADLINE_DAYS):
        out += ["[claim_deadline]", f"days_after_period_end = {_cell(project, X_DEADLINE_DAYS)}", ""]
    elif _cell(project, X_DEADLINE_DATE):
        out += ["[claim_deadline]", f"date = {_cell(project, X_DEADLINE_DATE)}", ""]
    participant_cap, contract_cap = parse_money_text(project.get(X_PARTICIPANT_CAP)), parse_money_text(project.get(C_CAP))
    if participant_cap is not None or contract_cap is not None:
        out.append("[caps]")
        out += [f'per_participant = "{participant_cap}"'] if participant_cap is not None else []
        out += [f'contract = "{contract_cap}"'] if contract_cap is not None else []
        out.append("")
    for r in commitments:
        org = _cell(r, C_ORG)
        out += ["[[payers]]", f"id = {q(org)}", f"name = {q((names.get(org) or org)[:200])}"]
        cap = parse_money_text(r.get(C_COMMIT_AMOUNT))
        out += [f'cap = "{cap}"'] if cap is not None else []
        out += [f'share = "{_cell(r, X_SHARE)}"'] if _cell(r, X_SHARE) else []
        out.append("")
    if not commitments:
        lacks.append("no outcome payer listed")
    value_caps = {}
    for r in pricings:
        value_caps.setdefault(_cell(r, C_METRIC), parse_money_text(r.get(C_MAX_PRICE)))
    for r in metrics:
        metric = _cell(r, "Id")
        out += ["[[outcomes]]", f"id = {q(_ID_CHARS.sub('_', metric)[:64])}",
                f"definition = {q(_cell(r, C_DEFINITION) or metric)}"]  # fmt: skip
        if _cell(r, X_ONCE) == "true":
            out.append("once_only = true")
        if _cell(r, X_REQUIRES):
            out.append("requires = [" + ", ".join(q(m.strip()) for m in _cell(r, X_REQUIRES).split("|")) + "]")
        if _cell(r, X_MAX_DAYS):
            out.append(f"max_days_after_start = {_cell(r, X_MAX_DAYS)}")
        if _cell(r, X_EVIDENCE) == "false":
            out.append("evidence_required = false")
        if _cell(r, X_COUNT_CAP):
            out.append(f"count_cap = {_cell(r, X_COUNT_CAP)}")
        if value_caps.get(metric) is not None:
            out.append(f'value_cap = "{value_caps[metric]}"')
        out.append("")
    versions: dict[str, list[dict]] = {}
    for r in pricings:
        versions.setdefault(_cell(r, X_VERSION) or "indigo", []).append(r)
    for version, items in versions.items():
        first = items[0]
        out += ["[[rate_cards]]", f"version = {q(version)}", f"effective_from = {_cell(first, X_FROM) or start}"]
        out += [f"effective_to = {_cell(first, X_TO)}"] if _cell(first, X_TO) else []
        if _cell(first, X_INDEX_RATE):
            out += [f"indexation = {{ annual_rate = {q(_cell(first, X_INDEX_RATE))}, base_date = {_cell(first, X_INDEX_BASE)} }}"]
        out.append("")
        for r in items:
            out += ["[[rate_cards.outcomes]]", f"id = {q(_ID_CHARS.sub('_', _cell(r, C_METRIC))[:64])}",
                    f'price = "{parse_money_text(r.get(C_PRICE))}"']  # fmt: skip
            out += [f"definition = {q(_cell(r, 'Price Description - (Value)'))}"] if _cell(r, "Price Description - (Value)") else []
            out.append("")
    if _cell(project, X_FURTHER):
        out += ["# Further terms (payment mechanisms, joint-prime partners), as exported:", _cell(project, X_FURTHER), ""]
    return "\n".join(out), lacks
