"""Planned versus actual outcome payments with versioned plans.

The fixture is a copy of GO Lab INDIGO data for project INDIGO-POJ-0198 (Chances): three plan
versions and twelve quarters of actual outcome payments, in whole GBP.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ledger.errors import ImportRejected, ValidationError
from ledger.pbr.plans import MONEY_COLUMNS, PlanVersion, plan_vs_actual, plans_from_frame, select_plan

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "indigo" / "plan_vs_actual_INDIGO-POJ-0198.csv"

V1 = PlanVersion.of("v1", date(2024, 1, 15), {"2024Q1": 100_000, "2024Q2": 200_000})
V2 = PlanVersion.of("v2", date(2024, 4, 10), {"2024Q3": 150_000, "2024Q2": 150_000})


def test_latest_plan_made_on_or_before_as_of():
    assert select_plan([V1, V2], date(2024, 4, 9)) is V1
    assert select_plan([V2, V1], date(2024, 4, 10)) is V2  # made that very day counts
    with pytest.raises(ValidationError, match="earliest was made on 2024-01-15"):
        select_plan([V1, V2], date(2024, 1, 14))
    twin = PlanVersion.of("v2b", date(2024, 4, 10), {"2024Q2": 1})
    with pytest.raises(ValidationError, match="ambiguous"):
        select_plan([V1, V2, twin], date(2024, 5, 1))


def test_plan_vs_actual_small():
    actuals = {"2024Q1": 90_000, "2024Q2": 170_000, "2024Q3": 5_000}
    frame = plan_vs_actual([V1, V2], actuals, as_of=date(2024, 5, 15))
    assert frame.attrs["plan_version"] == "v2"
    # v2 plans nothing for 2024Q1; the 2024Q3 actual is after as_of, so not yet known.
    assert frame["quarter"].tolist() == ["2024Q1", "2024Q2", "2024Q3"]
    assert frame["status"].tolist() == ["past", "current", "future"]
    assert frame["planned_pence"].tolist() == [0, 150_000, 150_000]
    assert frame["actual_pence"].tolist() == [90_000, 170_000, 0]
    assert frame["variance_pence"].tolist() == [90_000, 20_000, 0]  # actual - planned; 0 when future
    assert frame["cumulative_planned_pence"].tolist() == [0, 150_000, 300_000]
    assert frame["cumulative_actual_pence"].tolist() == [90_000, 260_000, 260_000]
    assert frame["cumulative_variance_pence"].tolist() == [90_000, 110_000, 110_000]
    assert all(str(frame[c].dtype) == "int64" for c in MONEY_COLUMNS)


def test_gaps_between_quarters_are_filled_with_zero():
    plan = PlanVersion.of("v1", date(2024, 1, 1), {"2024Q1": 10, "2024Q4": 40})
    frame = plan_vs_actual([plan], {}, as_of=date(2025, 1, 1))
    assert frame["quarter"].tolist() == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert frame["planned_pence"].tolist() == [10, 0, 0, 40]


def _indigo():
    return plans_from_frame(pd.read_csv(FIXTURE, comment="#", dtype=str, keep_default_na=False))


def test_indigo_fixture_loads_three_versions():
    plans, actuals = _indigo()
    assert [(p.version_id, p.made_on) for p in plans] == [
        ("plan1", date(2020, 8, 1)),
        ("plan2", date(2021, 2, 1)),
        ("plan3", date(2024, 1, 1)),
    ]
    assert len(actuals) == 12
    assert actuals["2021Q3"] == 21_477_000  # GBP 214,770


def test_indigo_plan_vs_actual_mid_2022_uses_plan2():
    plans, actuals = _indigo()
    frame = plan_vs_actual(plans, actuals, as_of=date(2022, 6, 30)).set_index("quarter")
    assert frame.attrs["plan_version"] == "plan2"  # plan3 was only made on 2024-01-01
    # GBP, from the fixture rows:      planned    actual     variance
    #   2021Q3                         140,800    214,770    +73,970
    #   2021Q4                         240,000    228,120    -11,880
    #   2022Q1                         308,000    185,820   -122,180
    #   2022Q2 (current quarter)       304,000    270,400    -33,600
    #   cumulative to 2022Q2           992,800    899,110    -93,690
    assert frame.loc["2021Q3", "variance_pence"] == 7_397_000
    assert frame.loc["2022Q1", "variance_pence"] == -12_218_000
    assert frame.loc["2022Q2", "status"] == "current"
    assert frame.loc["2022Q2", "cumulative_planned_pence"] == 99_280_000
    assert frame.loc["2022Q2", "cumulative_actual_pence"] == 89_911_000
    assert frame.loc["2022Q2", "cumulative_variance_pence"] == -9_369_000
    # Later actuals (2022Q3 onwards) were not known on 2022-06-30.
    assert frame.loc["2022Q3", "actual_pence"] == 0
    assert frame.loc["2022Q3", "status"] == "future"


def test_indigo_plan_version_boundary():
    plans, actuals = _indigo()
    assert plan_vs_actual(plans, actuals, as_of=date(2023, 12, 31)).attrs["plan_version"] == "plan2"
    assert plan_vs_actual(plans, actuals, as_of=date(2024, 1, 1)).attrs["plan_version"] == "plan3"
    assert plan_vs_actual(plans, actuals, as_of=date(2020, 12, 31)).attrs["plan_version"] == "plan1"
    with pytest.raises(ValidationError):
        plan_vs_actual(plans, actuals, as_of=date(2020, 7, 31))


def test_indigo_plan_vs_actual_mid_2024_uses_plan3():
    plans, actuals = _indigo()
    frame = plan_vs_actual(plans, actuals, as_of=date(2024, 6, 30)).set_index("quarter")
    # Actual, sum of the twelve quarters 2021Q3..2024Q2:
    #   214,770 + 228,120 + 185,820 + 270,400 + 417,350 + 202,490 + 145,450 + 485,320
    #   + 499,360 + 216,249 + 213,238 + 326,778 = 3,405,345
    # plan3 over the same quarters:
    #   251,770 + 233,120 + 201,104 + 277,900 + 423,174 + 214,990 + 362,103 + 423,199
    #   + 473,294 + 236,809 + 135,672 + 312,215 = 3,545,350
    # Cumulative variance: 3,405,345 - 3,545,350 = -140,005.
    assert frame.loc["2024Q2", "cumulative_actual_pence"] == 340_534_500
    assert frame.loc["2024Q2", "cumulative_planned_pence"] == 354_535_000
    assert frame.loc["2024Q2", "cumulative_variance_pence"] == -14_000_500
    # 2023Q1: planned 362,103, actual 145,450 -> -216,653.
    assert frame.loc["2023Q1", "variance_pence"] == -21_665_300
    assert frame.loc["2024Q3", "planned_pence"] == 51_634_300
    assert frame.loc["2024Q3", "status"] == "future"


def test_plans_from_frame_reports_every_bad_row():
    frame = pd.DataFrame(
        {
            "type": ["Planned", "Actual", "Forecast", "Planned"],
            "plan_version": ["p1", "", "", ""],
            "made_on": ["01/02/2024", "", "", ""],
            "quarter": ["2024Q1", "2024Q5", "2024Q1", "2024Q1"],
            "amount": ["100", "12.5.0", "1", "1"],
        }
    )
    with pytest.raises(ImportRejected) as caught:
        plans_from_frame(frame)
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("row 1: made_on '01/02/2024' is not a date")
    assert problems[1].startswith("row 2: amount '12.5.0'")
    assert problems[2] == "row 3: type 'Forecast' is neither Planned nor Actual"
    assert problems[3] == "row 4: a planned row needs plan_version"
