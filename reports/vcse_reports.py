"""Local VCSE capacity: ``fuel report vcse`` and the fund manager's page (``ledger/vcse.py``).

Per quarter, for the fund and each joint prime: delivery money and outcome payments, the part
reaching local VCSE organisations and its share; the local VCSE part by size band and by area.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from ledger.vcse import MEASURES, SIZE_BANDS, share, shares
from reports.fund_reports import Report, _table

QUARTER_COLUMNS = ("group", "quarter", "measure", "total_pence", "local_vcse_pence", "share")
SIZE_COLUMNS = ("group", "measure", "size_band", "local_vcse_pence", "share_of_measure")
AREA_COLUMNS = ("group", "measure", "la_code", "local_vcse_pence", "share_of_measure")
ORG_COLUMNS = ("recipient", "org_type", "size_band", "la_code", "local_vcse", "delivery_pence", "outcome_pence")


def vcse_report(conn: Connection, fund: str, start: date | None, end: date) -> Report:
    from models.vcse_store import fund_areas, fund_flows, organisations

    flows, joint = fund_flows(conn, fund, start, end)
    orgs = organisations(conn)
    areas = fund_areas(conn, fund)
    result = shares(flows, orgs, areas, joint)
    rows = [{**r, "share": "" if r["share"] is None else str(r["share"])} for r in result["quarters"]]
    whole: dict[tuple[str, str], int] = {}
    for r in result["quarters"]:
        whole[(r["group"], r["measure"])] = whole.get((r["group"], r["measure"]), 0) + r["total_pence"]
    for (group, measure), total in sorted(whole.items()):
        local = sum(r["local_vcse_pence"] for r in result["quarters"] if (r["group"], r["measure"]) == (group, measure))
        rows.append({"group": group, "quarter": "all", "measure": measure, "total_pence": total,
                     "local_vcse_pence": local, "share": str(share(local, total) or "")})

    def part(key, value):
        return {"local_vcse_pence": value, "share_of_measure": str(share(value, whole[(key[0], key[1])]) or "")}

    order = {b: i for i, b in enumerate(SIZE_BANDS)}
    sizes = [{"group": k[0], "measure": k[1], "size_band": k[2], **part(k, v)}
             for k, v in sorted(result["by_size"].items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 9)))]
    area_rows = [{"group": k[0], "measure": k[1], "la_code": k[2], **part(k, v)} for k, v in sorted(result["by_area"].items())]
    recipients: dict[str, dict] = {}
    local = frozenset(areas)
    for f in flows:
        org = orgs.get(f.recipient)
        r = recipients.setdefault(f.recipient, {
            "recipient": f.recipient, "org_type": org.org_type if org else "unknown",
            "size_band": org.size_band if org else "unknown", "la_code": org.la_code if org else "unknown",
            "local_vcse": "yes" if org and org.vcse and org.la_code in local else "no",
            "delivery_pence": 0, "outcome_pence": 0})
        r[f"{f.measure}_pence"] += f.amount_pence
    groups = ["fund", *sorted(joint.values())]
    charts = []
    for group in groups:
        quarters = sorted({r["quarter"] for r in result["quarters"] if r["group"] == group})
        series = []
        for measure in MEASURES:
            by_q = {r["quarter"]: r for r in result["quarters"] if r["group"] == group and r["measure"] == measure}
            series.append((f"{measure}: local VCSE", tuple(by_q[q]["local_vcse_pence"] if q in by_q else 0 for q in quarters)))
        if quarters:
            charts.append(("line", f"{group}: money reaching local VCSE organisations per quarter (delivery, outcome)",
                           tuple(quarters), tuple(series)))
    period = f"{start or 'the start'} to {end}"
    return Report(
        "vcse", f"Local VCSE capacity of {fund}, {period}", end,
        (_table("vcse_quarters", "Per quarter: delivery money and outcome payments, and the share reaching local VCSE "
                "organisations", rows, QUARTER_COLUMNS),
         _table("vcse_by_size", "Local VCSE money by size band (NCVO income bands)", sizes, SIZE_COLUMNS),
         _table("vcse_by_area", "Local VCSE money by local authority area", area_rows, AREA_COLUMNS),
         _table("vcse_recipients", "Every recipient: its profile and what it received", list(recipients.values()),
                ORG_COLUMNS, "Total")),
        tuple(charts),
        ("VCSE = charity, CIO, CIC or community group; local = its local authority area is one of the fund's areas "
         f"({', '.join(areas) or 'none set: fuel vcse areas'}). Delivery = disbursements to a project's provider and "
         "joint primes' pass-through to partners; outcome = outcome payments approved, by who finally receives them. "
         "A recipient without a profile counts as not VCSE.",),
        extra={"fund": fund, "areas": areas},
    )
