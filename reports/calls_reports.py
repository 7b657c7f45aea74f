"""Call reports (docs/calls.md): per call its applications, scores and awards, grouped by
organisation type, size and area; what each contract cost to get to; and the conversion from
incubation to contract by the year a project was incubated."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, func, select

from models.calls_store import awards_t, contracts_link_t, list_applications, payments_t
from models.pipeline_store import stages_t

GROUP_COLUMNS = ["call", "by", "group", "applications", "eligible", "awarded", "asked_pence", "awarded_pence", "paid_pence"]
COST_COLUMNS = ["contract", "project", "call", "awarded_pence", "paid_pence", "incubated_on", "contracted_on"]
CONVERSION_COLUMNS = ["incubated_in", "incubated", "accelerated", "contracted", "conversion_percent"]


def _paid_by_award(conn: Connection, as_of: date) -> dict[int, int]:
    q = (select(payments_t.c.award_id, func.sum(payments_t.c.amount_pence)).where(payments_t.c.paid_on <= as_of)
         .group_by(payments_t.c.award_id))  # fmt: skip
    return {a: int(p) for a, p in conn.execute(q)}


def call_summary(conn: Connection, call_id: str, as_of: date) -> list[dict]:
    """Applications, eligible, awarded and amounts per organisation type, size and area (and all)."""
    paid = _paid_by_award(conn, as_of)
    awarded = {a["application_id"]: a for a in conn.execute(select(awards_t).where(awards_t.c.call_id == call_id)).mappings()}
    totals: dict[tuple[str, str], dict] = defaultdict(lambda: dict.fromkeys(GROUP_COLUMNS[3:], 0))
    for app in list_applications(conn, call_id):
        award = awarded.get(app["id"])
        for by, group in (("all", "all"), ("org_type", app["org_type"]), ("org_size", app["org_size"]), ("area", app["area"])):
            t = totals[(by, group)]
            t["applications"] += 1
            t["eligible"] += int(app["eligible"])
            t["asked_pence"] += app["amount_pence"]
            if award is not None:
                t["awarded"] += 1
                t["awarded_pence"] += award["amount_pence"]
                t["paid_pence"] += paid.get(award["id"], 0)
    order = {"all": 0, "org_type": 1, "org_size": 2, "area": 3}
    return [{"call": call_id, "by": by, "group": group, **t}
            for (by, group), t in sorted(totals.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))]


def cost_to_contract(conn: Connection, as_of: date) -> list[dict]:
    """For every contract won by an awarded project: the grants it had on the way."""
    paid = _paid_by_award(conn, as_of)
    q = (select(contracts_link_t.c.contract_id, contracts_link_t.c.project_id, contracts_link_t.c.effective_date, awards_t)
         .select_from(contracts_link_t.join(awards_t, awards_t.c.project_id == contracts_link_t.c.project_id))
         .where(contracts_link_t.c.effective_date <= as_of).order_by(contracts_link_t.c.contract_id, awards_t.c.id))  # fmt: skip
    return [{"contract": r.contract_id, "project": r.project_id, "call": r.call_id, "awarded_pence": int(r.amount_pence),
             "paid_pence": paid.get(r.id, 0), "incubated_on": r.awarded_on.isoformat(),
             "contracted_on": r.effective_date.isoformat()} for r in conn.execute(q)]  # fmt: skip


def conversion(conn: Connection, as_of: date) -> list[dict]:
    """Of the projects incubated each year (through a call), how many reached acceleration and a contract by ``as_of``."""
    projects = set(conn.execute(select(awards_t.c.project_id)).scalars())
    first: dict[str, dict[str, date]] = defaultdict(dict)
    q = select(stages_t.c.project_id, stages_t.c.stage, func.min(stages_t.c.effective_date)).where(
        stages_t.c.effective_date <= as_of).group_by(stages_t.c.project_id, stages_t.c.stage)
    for project, stage, on in conn.execute(q):
        if project in projects:
            first[project][stage] = on
    years: dict[int, dict] = defaultdict(lambda: {"incubated": 0, "accelerated": 0, "contracted": 0})
    later = ("contracted", "delivering", "service_delivery_complete", "complete")
    for stages in first.values():
        if "incubation" not in stages:
            continue
        y = years[stages["incubation"].year]
        y["incubated"] += 1
        y["accelerated"] += int("acceleration" in stages or any(s in stages for s in later))
        y["contracted"] += int(any(s in stages for s in later))
    return [{"incubated_in": year, **y, "conversion_percent": (200 * y["contracted"] + y["incubated"]) // (2 * y["incubated"])}
            for year, y in sorted(years.items())]
