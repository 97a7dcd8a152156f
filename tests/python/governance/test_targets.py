"""Dated targets (product_metrics.governance.targets): progress, pace and projection computed by hand
on small fabricated DuckDB tables (a weekly and a monthly series), targets in the past (met, missed)
and the future (on and off track), lower_is_better, no baseline, invalid targets refused in one line,
var product_metrics__metric_targets replacing meta targets, and the alert rows they become
(audit.metric_alerts gains kind / detail / top_drivers, an old table included)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
import fixture_manifests as fx

from product_metrics.cli import app
from product_metrics.formatting import format_pace
from product_metrics.governance.alerts import ALERT_COLUMNS, Evaluation, record_breaches
from product_metrics.governance.catalog import catalog_entries, catalog_row
from product_metrics.governance.contract import TARGETS_VAR, Target, parse_governance
from product_metrics.governance.latest_values import LatestValue, read_series
from product_metrics.governance.registry import Metric, Model, Registry
from product_metrics.governance.rules import check, field_rules, target_rules
from product_metrics.governance.targets import (
    evaluate_targets,
    judge,
    least_squares_slope,
    metric_targets,
    period_label,
    periods_between,
    statuses_by_metric,
)
from product_metrics.project import Project
from product_metrics.warehouse import Warehouse

D = dt.date
MINUS = "\u2212"

# Weekly users: Monday weeks 2026-05-04 .. 06-01 complete (100, 110, 120, 125, 140), 06-08 not.
# Monthly revenue (usd) and churn rate (ratio, lower is better): January .. June complete, July not.
TABLES_SQL = """
create schema if not exists metrics;
create table metrics.fct_users_weekly as
select cast(week_start as date) as week_start, users, is_complete
from (values ('2026-05-04', 100.0, true), ('2026-05-11', 110.0, true), ('2026-05-18', 120.0, true),
             ('2026-05-25', 125.0, true), ('2026-06-01', 140.0, true), ('2026-06-08', 50.0, false))
     as t (week_start, users, is_complete);
create table metrics.fct_money_monthly as
select cast(month_start as date) as month_start, revenue_usd, churn_rate, is_complete
from (values ('2026-01-01', 1000.0, 0.050, true), ('2026-02-01', 1100.0, 0.048, true),
             ('2026-03-01', 1150.0, 0.047, true), ('2026-04-01', 1300.0, 0.047, true),
             ('2026-05-01', 1400.0, 0.046, true), ('2026-06-01', 1500.0, 0.046, true),
             ('2026-07-01', 10.0, 0.2, false))
     as t (month_start, revenue_usd, churn_rate, is_complete);
"""

GOVERNANCE = {
    "owner": {"name": "Growth", "email": "growth@example.com"}, "description": "d", "formula": "f",
    "role": "kpi", "indicator": "leading", "review_cadence": "quarterly",
    "last_reviewed": "2026-10-01", "status": "certified", "version": 1, "thresholds": {},
}
METRICS = {
    "pm_weekly_users": ("users", "week", "higher_is_better", "fct_users_weekly", "users", "week_start"),
    "pm_revenue_usd": ("usd", "month", "higher_is_better", "fct_money_monthly", "revenue_usd", "month_start"),
    "pm_churn_rate": ("ratio", "month", "lower_is_better", "fct_money_monthly", "churn_rate", "month_start"),
}


def governance(name: str, targets=None, **changes) -> dict:
    unit, grain, direction, table, column, time_column = METRICS[name]
    guardrails = ["pm_weekly_users"] if name == "pm_churn_rate" else ["pm_churn_rate"]
    raw = {**GOVERNANCE, "unit": unit, "grain": grain, "direction": direction, "guardrails": guardrails,
           "lives_in": {"table": table, "column": column, "time_column": time_column,
                        "complete_column": "is_complete"}, **changes}
    if targets is not None:
        raw["targets"] = targets
    return raw


def make_registry(targets: dict[str, list] | None = None, **raw_governance) -> Registry:
    """A registry of the three metrics (meta targets from `targets`) and their two tables."""
    registry = Registry(project_name="demo")
    for name in METRICS:
        raw = raw_governance.get(name) or governance(name, (targets or {}).get(name))
        registry.metrics[name] = Metric(
            name=name, unique_id=f"metric.demo.{name}", label=name, type="simple", description=None,
            definition={}, meta={"governance": raw}, input_metrics=(), input_measures=(), depends_on=(),
            path="models/x.yml", governance=parse_governance(name, raw), package="demo", has_governance_meta=True)
    for table, listed in (("fct_users_weekly", ["pm_weekly_users"]),
                          ("fct_money_monthly", ["pm_revenue_usd", "pm_churn_rate"])):
        registry.models[f"model.demo.{table}"] = Model(
            name=table, unique_id=f"model.demo.{table}", resource_type="model", schema="metrics", alias=table,
            fingerprint="", depends_on=(), macros=(), columns=(), meta={"governance": {"metrics": listed}},
            path=f"models/marts/x/{table}.sql", package="demo")
    return registry


@pytest.fixture
def warehouse(tmp_path):
    import duckdb

    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(TABLES_SQL)
    with Warehouse.open(path) as opened:
        yield opened


def status_of(registry, warehouse, **kwargs):
    statuses = evaluate_targets(registry, warehouse, **kwargs)
    return statuses[0] if len(statuses) == 1 else statuses


# --- the pieces -----------------------------------------------------------------------------------

def test_periods_and_slope():
    assert periods_between(D(2026, 6, 1), D(2026, 7, 15), "week") == 6  # 06-01 .. the week of 07-13
    assert periods_between(D(2026, 6, 1), D(2026, 12, 31), "month") == 6
    assert periods_between(D(2026, 6, 1), D(2027, 1, 1), "cohort_month") == 7
    assert periods_between(D(2026, 6, 1), D(2026, 6, 4), "day") == 3
    assert (period_label(D(2026, 6, 15), "week"), period_label(D(2026, 6, 15), "month")) == ("2026-W25", "2026-06")
    assert period_label(D(2027, 1, 1), "week") == "2026-W53"  # ISO year of the week
    assert least_squares_slope([(0, 100), (1, 110), (2, 120), (3, 125), (4, 140)]) == pytest.approx(9.5)
    assert least_squares_slope([(0, 5)]) is None


def test_series_reads_complete_periods_only(warehouse):
    series = read_series(warehouse, make_registry(), "pm_weekly_users")
    assert series.error is None
    assert series.points == ((D(2026, 5, 4), 100.0), (D(2026, 5, 11), 110.0), (D(2026, 5, 18), 120.0),
                             (D(2026, 5, 25), 125.0), (D(2026, 6, 1), 140.0))
    assert read_series(warehouse, make_registry(), "pm_weekly_users", before=D(2026, 5, 18)).points[-1] == \
        (D(2026, 5, 11), 110.0)


# --- weekly: future (off and on track), past (met and missed) ---------------------------------------

def test_weekly_target_off_track(warehouse):
    registry = make_registry({"pm_weekly_users": [{"value": 200, "by": "2026-07-15", "set_on": "2026-05-10"}]})
    status = status_of(registry, warehouse)
    # as of 2026-06-01 (140); baseline: the week of 05-04 (100), the latest on or before set_on
    assert (status.as_of_period, status.current_value) == (D(2026, 6, 1), 140.0)
    assert (status.baseline_period, status.baseline_value) == (D(2026, 5, 4), 100.0)
    assert status.progress == pytest.approx((140 - 100) / (200 - 100))  # 0.4
    assert status.periods_left == 6  # 06-01 -> 07-13, the week holding 07-15
    assert status.required_pace == pytest.approx((200 - 140) / 6)  # 10 a week
    # slope of 100, 110, 120, 125, 140 at x = 0..4: sum((x-2)(y-119)) / sum((x-2)^2) = 95 / 10
    assert status.recent_pace == pytest.approx(9.5)
    assert status.projected_value == pytest.approx(140 + 9.5 * 6)  # 197 < 200
    assert status.status == "off_track" and status.is_alert
    assert status.summary == (
        "pm_weekly_users: 200 users by 2026-07-15 — 140 users in 2026-W23, 40% of the way from 100 users "
        "(2026-W19); needs +10 users/week over 6 weeks, recent pace +9.5 users/week, projected 197 users: off track")


def test_weekly_target_on_track_without_baseline(warehouse):
    status = status_of(make_registry({"pm_weekly_users": [{"value": 150, "by": "2026-06-30"}]}), warehouse)
    assert status.baseline_value is None and status.progress is None
    assert (status.periods_left, status.required_pace) == (4, pytest.approx(2.5))
    assert status.projected_value == pytest.approx(140 + 9.5 * 4)  # 178 >= 150
    assert status.status == "on_track" and not status.is_alert
    assert "140 users in 2026-W23; needs +2.5 users/week over 4 weeks, recent pace +9.5 users/week" in status.summary


def test_weekly_past_targets_are_met_or_missed_on_the_period_holding_the_date(warehouse):
    registry = make_registry({"pm_weekly_users": [
        {"value": 120, "by": "2026-05-20", "set_on": "2026-05-05"},  # week of 05-18: 120 >= 120
        {"value": 130, "by": "2026-05-24"},  # same week: 120 < 130
    ]})
    met, missed = evaluate_targets(registry, warehouse)
    assert (met.status, met.by_period, met.by_value, met.periods_left) == ("met", D(2026, 5, 18), 120.0, 0)
    assert met.progress == pytest.approx((120 - 100) / (120 - 100))
    assert met.required_pace is None and met.projected_value is None
    assert met.summary == ("pm_weekly_users: 120 users by 2026-05-20 — 120 users in 2026-W21, 100% of the way "
                           "from 100 users (2026-W19): met")
    assert (missed.status, missed.by_value) == ("missed", 120.0) and missed.is_alert
    assert missed.summary == "pm_weekly_users: 130 users by 2026-05-24 — 120 users in 2026-W21: missed"


def test_the_date_in_the_latest_complete_period_is_judged(warehouse):
    status = status_of(make_registry({"pm_weekly_users": [{"value": 140, "by": "2026-06-07"}]}), warehouse)
    assert (status.status, status.by_period, status.by_value) == ("met", D(2026, 6, 1), 140.0)


def test_as_of_is_the_data_not_the_calendar(warehouse):
    registry = make_registry({"pm_weekly_users": [{"value": 150, "by": "2026-06-30"}]})
    # only periods before 05-25: as of 05-18 (120), 6 weeks to 06-29, slope of 100, 110, 120 = 10
    status = status_of(registry, warehouse, before=D(2026, 5, 25))
    assert (status.as_of_period, status.current_value, status.periods_left) == (D(2026, 5, 18), 120.0, 6)
    assert (status.required_pace, status.recent_pace, status.projected_value) == (
        pytest.approx(5.0), pytest.approx(10.0), pytest.approx(180.0))
    # a date before the data, and no data at all: no value
    early = status_of(make_registry({"pm_weekly_users": [{"value": 1, "by": "2026-04-01"}]}), warehouse)
    assert (early.status, early.summary) == (
        "no_value", ("pm_weekly_users: 1 users by 2026-04-01 — no value for 2026-W14, the period holding 2026-04-01: "
                    "no value"))
    empty = status_of(registry, warehouse, before=D(2026, 5, 1))
    assert (empty.status, empty.as_of_period) == ("no_value", None)
    assert empty.summary.endswith("— no complete period yet: no value")


# --- monthly: dollars, and a lower-is-better ratio ---------------------------------------------------

def test_monthly_revenue_target(warehouse):
    registry = make_registry({"pm_revenue_usd": [{"value": 2000, "by": "2026-12-31", "set_on": "2026-02-15"}]})
    status = status_of(registry, warehouse)
    assert (status.as_of_period, status.current_value, status.baseline_value) == (D(2026, 6, 1), 1500.0, 1100.0)
    assert status.progress == pytest.approx(400 / 900)
    assert (status.periods_left, status.required_pace) == (6, pytest.approx(500 / 6))
    # six months (fewer than 8) at x = 0..5: sum((x-2.5) y) = 1775, sum((x-2.5)^2) = 17.5
    assert status.recent_pace == pytest.approx(1775 / 17.5)
    assert status.projected_value == pytest.approx(1500 + 6 * 1775 / 17.5)  # 2108.57 >= 2000
    assert status.status == "on_track"
    assert status.summary == (
        "pm_revenue_usd: $2,000 by 2026-12-31 — $1,500 in 2026-06, 44% of the way from $1,100 (2026-02); "
        "needs +$83.33/month over 6 months, recent pace +$101.43/month, projected $2,109: on track")
    assert format_pace(-2.5, "usd", "month") == f"{MINUS}$2.50/month"


def test_lower_is_better_ratio_targets(warehouse):
    registry = make_registry({"pm_churn_rate": [
        {"value": 0.047, "by": "2026-04-15"},  # April 0.047 <= 0.047: met
        {"value": 0.045, "by": "2026-03-10"},  # March 0.047 > 0.045: missed
        {"value": 0.045, "by": "2026-09-30", "set_on": "2026-01-31"},  # projected 0.04377 <= 0.045: on track
        {"value": 0.03, "by": "2026-09-30"},  # projected 0.04377 > 0.03: off track
    ]})
    missed, met, off, on = evaluate_targets(registry, warehouse)  # by date, then value
    assert (missed.status, missed.by_value) == ("missed", 0.047)
    assert (met.status, met.by_value) == ("met", 0.047)
    slope = -0.013 / 17.5  # sum((x-2.5) y) over .050 .048 .047 .047 .046 .046
    for status in (on, off):
        assert (status.periods_left, status.recent_pace) == (3, pytest.approx(slope))
        assert status.projected_value == pytest.approx(0.046 + 3 * slope)
    assert on.status == "on_track" and on.progress == pytest.approx((0.046 - 0.050) / (0.045 - 0.050))  # 0.8
    assert off.status == "off_track" and off.required_pace == pytest.approx((0.03 - 0.046) / 3)
    assert off.summary == (f"pm_churn_rate: 3.0% by 2026-09-30 — 4.6% in 2026-06; needs {MINUS}0.5 pp/month over "
                           f"3 months, recent pace {MINUS}0.1 pp/month, projected 4.4%: off track")
    assert on.summary.startswith("pm_churn_rate: 4.5% by 2026-09-30 — 4.6% in 2026-06, 80% of the way from "
                                 "5.0% (2026-01); needs ")


def test_a_single_period_has_no_pace(warehouse):
    statuses = [judge("m", "users", "higher_is_better", "week", Target(10, D(2026, 7, 1)), [(D(2026, 6, 1), v)])
                for v in (12.0, 5.0)]
    assert [(s.recent_pace, s.projected_value, s.status) for s in statuses] == [
        (None, None, "on_track"), (None, None, "off_track")]  # judged on the current value
    assert "no recent pace yet (fewer than 2 complete periods)" in statuses[0].summary


# --- which targets: meta, replaced by the var -------------------------------------------------------

def test_the_var_replaces_a_metrics_meta_targets(tmp_path, warehouse):
    registry = make_registry({"pm_weekly_users": [{"value": 150, "by": "2026-06-30"}],
                              "pm_revenue_usd": [{"value": 2000, "by": "2026-12-31"}]})
    var = {"pm_weekly_users": [{"value": 999, "by": "2026-08-31"}], "pm_churn_rate": [{"value": 0.04, "by": "2026-12-31"}],
           "pm_unknown": [{"value": 1, "by": "2027-01-01"}]}
    targets = metric_targets(registry, var)
    assert targets == {"pm_churn_rate": (Target(0.04, D(2026, 12, 31)),), "pm_revenue_usd": (Target(2000, D(2026, 12, 31)),),
                       "pm_weekly_users": (Target(999, D(2026, 8, 31)),)}
    assert "pm_weekly_users" not in metric_targets(registry, {"pm_weekly_users": []})  # [] removes them

    # as dbt resolves vars: --vars, then the root project's dbt_project.yml
    root = tmp_path / "project"
    root.mkdir()
    (root / "dbt_project.yml").write_text(
        "name: demo\nvars:\n  product_metrics:\n    product_metrics__metric_targets:\n"
        "      pm_weekly_users: [{value: 160, by: 2026-06-30}]\n")
    project = Project(root=root, duckdb_path=tmp_path / "wh.duckdb")
    [status] = [s for s in evaluate_targets(registry, warehouse, project) if s.metric == "pm_weekly_users"]
    assert status.target_value == 160.0
    with_vars = Project(root=root, duckdb_path=tmp_path / "wh.duckdb", vars={TARGETS_VAR: var})
    assert {s.metric: s.target_value for s in evaluate_targets(registry, warehouse, with_vars)} == {
        "pm_churn_rate": 0.04, "pm_revenue_usd": 2000.0, "pm_weekly_users": 999.0}
    # another project's var does not apply to this manifest
    (root / "dbt_project.yml").write_text("name: other\nvars:\n  product_metrics__metric_targets: {pm_weekly_users: []}\n")
    assert {s.metric for s in evaluate_targets(registry, warehouse, Project(root=root, duckdb_path=root))} == {
        "pm_weekly_users", "pm_revenue_usd"}


def test_deprecated_metrics_and_metrics_without_lives_in_have_no_targets():
    deprecated = governance("pm_weekly_users", [{"value": 1, "by": "2027-01-01"}], status="deprecated")
    assert metric_targets(make_registry(pm_weekly_users=deprecated)) == {}


# --- validation: one line, naming the metric and the fix ------------------------------------------

@pytest.mark.parametrize(("targets", "problem"), [
    ({"value": 1, "by": "2027-01-01"}, ("targets is {'value': 1, 'by': '2027-01-01'}, not a list of {value, by, set_on} "
                                       "mappings")),
    ([12000], "targets[0] is 12000, not a {value, by, set_on} mapping"),
    ([{"value": "12k", "by": "2027-01-01"}], "targets[0].value is '12k', not a number"),
    ([{"value": True, "by": "2027-01-01"}], "targets[0].value is True, not a number"),
    ([{"value": 1}], "targets[0].by is None, not a date YYYY-MM-DD"),
    ([{"value": 1, "by": "2027-13-01"}], "targets[0].by is '2027-13-01', not a date YYYY-MM-DD"),
    ([{"value": 1, "by": "2027-01-01", "set_on": "soon"}], "targets[0].set_on is 'soon', not a date YYYY-MM-DD"),
    ([{"value": 1, "by": "2027-01-01", "set_on": "2027-01-01"}], "targets[0].by 2027-01-01 is not after set_on 2027-01-01"),
    ([{"value": 1, "by": "2027-01-01", "date": "2027-01-01"}], ("targets[0] has unknown keys ['date'] (allowed: value, "
                                                               "by, set_on)")),
])
def test_invalid_meta_targets_are_refused(targets, problem):
    [violation] = field_rules(make_registry({"pm_weekly_users": targets}), D(2026, 11, 1))
    assert (violation.rule, violation.subject, violation.field, violation.problem) == (
        "invalid_field", "pm_weekly_users", "targets", problem)
    assert "\n" not in violation.problem and violation.fix.startswith("set targets: [{value: <number>, by: YYYY-MM-DD")


def test_meta_targets_need_lives_in():
    raw = governance("pm_weekly_users", [{"value": 1, "by": D(2027, 1, 1)}])  # YAML dates are fine
    del raw["lives_in"]
    problems = parse_governance("pm_weekly_users", raw).problems
    assert [(p.field, p.problem) for p in problems] == [
        ("targets", "targets are set but lives_in is not: no value to measure progress with")]


def test_the_var_is_checked():
    registry = make_registry()
    assert target_rules(registry, None) == [] and target_rules(registry, {}) == []
    [not_mapping] = target_rules(registry, ["pm_weekly_users"])
    assert (not_mapping.subject, not_mapping.problem) == (
        f"var {TARGETS_VAR}", f"{TARGETS_VAR} is ['pm_weekly_users'], not a mapping of metric names to targets")
    [unknown] = target_rules(registry, {"weekly_users": [{"value": 1, "by": "2027-01-01"}]})
    assert (unknown.rule, unknown.field, unknown.problem, unknown.fix) == (
        "targets", f"{TARGETS_VAR}.weekly_users", "'weekly_users' is not a metric", "did you mean pm_weekly_users?")
    [bad] = target_rules(registry, {"pm_churn_rate": [{"value": 0.04, "by": "2026-12-31", "set_on": "2027-01-01"}]})
    assert (bad.subject, bad.problem) == ("pm_churn_rate", "targets[0].by 2026-12-31 is not after set_on 2027-01-01")
    no_home = governance("pm_revenue_usd")
    del no_home["lives_in"]
    [homeless] = target_rules(make_registry(pm_revenue_usd=no_home), {"pm_revenue_usd": [{"value": 1, "by": "2027-01-01"}]})
    assert homeless.problem == "pm_revenue_usd has no lives_in: no value to measure progress with"
    result = check(registry, today=D(2026, 11, 1), targets_var={"nope": []})
    assert [v.subject for v in result.violations if v.rule == "targets"] == [f"var {TARGETS_VAR}"]


def test_check_cli_reads_the_var(tmp_path):
    manifest, semantic = fx.load_good()
    directory = fx.write(tmp_path / "m", manifest, semantic)
    env = {"PRODUCT_METRICS_DBT_VARS": "{product_metrics__metric_targets: {nps: [{value: 40, by: 2026-06-01, "
                                       "set_on: 2026-07-01}]}}", "COLUMNS": "250"}
    result = CliRunner().invoke(app, ["governance", "check", "--manifest-dir", str(directory), "--today", fx.TODAY],
                                env=env)
    # The demo project is not the fixture's: its var does not apply (nothing fails) ...
    assert result.exit_code == 0, result.output
    # ... the fixture project's does.
    (tmp_path / "m" / "dbt_project.yml").write_text("name: governance_fixture\n")
    project = Project(root=tmp_path / "m", duckdb_path=tmp_path / "wh.duckdb",
                      vars={TARGETS_VAR: {"nps": [{"value": 40, "by": "2026-06-01", "set_on": "2026-07-01"}]}})
    from product_metrics.governance.commands import targets_var

    registry = fx.registry(manifest, semantic)
    result = check(registry, today=D(2026, 11, 1), targets_var=targets_var(project, registry))
    assert [(v.subject, v.problem) for v in result.violations] == [
        ("nps", "targets[0].by 2026-06-01 is not after set_on 2026-07-01")]


# --- alerts and catalog ---------------------------------------------------------------------------

OLD_COLUMNS = ALERT_COLUMNS[:9]


def breach() -> Evaluation:
    latest = LatestValue("pm_churn_rate", "fct_money_monthly", "churn_rate", D(2026, 6, 1), 0.046)
    return Evaluation("pm_churn_rate", "lower_is_better", 0.04, 0.05, latest, "warn", 0.04)


def test_alert_rows_have_kind_detail_and_top_drivers(warehouse):
    assert [name for name, _ in ALERT_COLUMNS[9:]] == ["kind", "detail", "top_drivers"]
    registry = make_registry({"pm_weekly_users": [{"value": 200, "by": "2026-07-15"}, {"value": 150, "by": "2026-06-30"},
                                                  {"value": 130, "by": "2026-05-24"}]})
    targets = evaluate_targets(registry, warehouse)
    assert [t.status for t in targets] == ["missed", "on_track", "off_track"]
    run_at = dt.datetime(2026, 6, 9, 8)
    written = record_breaches(warehouse, [breach()], run_at=run_at, targets=targets,
                              explain=lambda e: f"top drivers of {e.metric}", units={"pm_churn_rate": "ratio"})
    assert written == 3  # the breach, the missed and the off-track target
    rows = warehouse.query('select metric_name, period, value, threshold, level, kind, detail, top_drivers, "table" '
                           "from audit.metric_alerts order by kind, period")
    assert rows == [
        ("pm_weekly_users", D(2026, 5, 18), 120.0, 130.0, "warn", "target", targets[0].summary, None, "fct_users_weekly"),
        ("pm_weekly_users", D(2026, 6, 1), 140.0, 200.0, "warn", "target", targets[2].summary, None, "fct_users_weekly"),
        ("pm_churn_rate", D(2026, 6, 1), 0.046, 0.04, "warn", "threshold",
         "pm_churn_rate 4.6% in 2026-06-01, above the warn threshold 4.0%", "top drivers of pm_churn_rate",
         "fct_money_monthly"),
    ]


def create_old_alerts_table(connection_execute) -> None:
    ddl = ", ".join(f'"{name}" {sql_type}' for name, sql_type in OLD_COLUMNS)
    connection_execute("create schema if not exists audit")
    connection_execute(f"create table audit.metric_alerts ({ddl})")
    connection_execute("insert into audit.metric_alerts values (timestamp '2026-06-01 08:00:00', 'pm_churn_rate', "
                       "date '2026-05-01', 0.046, 0.04, 'warn', 'lower_is_better', 'fct_money_monthly', 'churn_rate')")


def assert_old_table_gains_the_columns(warehouse) -> None:
    assert record_breaches(warehouse, [breach()], run_at=dt.datetime(2026, 6, 9)) == 1
    rows = warehouse.query('select period, kind, detail, top_drivers from audit.metric_alerts order by period')
    assert rows == [(D(2026, 5, 1), None, None, None),
                    (D(2026, 6, 1), "threshold", "pm_churn_rate 0.046 in 2026-06-01, above the warn threshold 0.040", None)]
    columns = warehouse.query("select column_name from information_schema.columns where table_schema = 'audit' "
                              "and table_name = 'metric_alerts' order by ordinal_position")
    assert [c for (c,) in columns] == [name for name, _ in ALERT_COLUMNS]


def test_an_old_metric_alerts_table_gains_the_new_columns(warehouse):
    import sqlalchemy

    with warehouse.engine.begin() as connection:
        create_old_alerts_table(lambda sql: connection.execute(sqlalchemy.text(sql)))
    assert_old_table_gains_the_columns(warehouse)


def test_an_old_metric_alerts_table_gains_the_new_columns_on_postgres(postgres_admin):
    import uuid

    import sqlalchemy

    from product_metrics.warehouses.postgres import drop_database, recreate_database

    from ..conftest import sqlalchemy_url

    database = f"targets_test_{uuid.uuid4().hex[:8]}"
    recreate_database(postgres_admin, database)
    try:
        with Warehouse.open(url=sqlalchemy_url(postgres_admin.with_database(database))) as warehouse:
            with warehouse.engine.begin() as connection:
                create_old_alerts_table(lambda sql: connection.execute(sqlalchemy.text(sql)))
            assert_old_table_gains_the_columns(warehouse)
    finally:
        drop_database(postgres_admin, database)


def test_catalog_entries_carry_the_target_statuses(warehouse):
    registry = make_registry({"pm_revenue_usd": [{"value": 2000, "by": "2026-12-31", "set_on": "2026-02-15"}]})
    statuses = evaluate_targets(registry, warehouse)
    entries = {e.name: e for e in catalog_entries(registry, {}, statuses_by_metric(statuses))}
    assert entries["pm_revenue_usd"].targets == tuple(statuses) and entries["pm_weekly_users"].targets == ()
    import json

    row = catalog_row(entries["pm_revenue_usd"], dt.datetime(2026, 7, 2))
    [target] = json.loads(row["targets"])
    assert (target["status"], target["by"], target["periods_left"], target["summary"]) == (
        "on_track", "2026-12-31", 6, statuses[0].summary)
    assert catalog_row(entries["pm_weekly_users"], dt.datetime(2026, 7, 2))["targets"] is None


def test_alerts_cli_lists_and_records_targets(tmp_path):
    manifest, semantic = fx.load_good()
    fx.governance(manifest, "nps")["targets"] = [{"value": 40, "by": "2026-12-31", "set_on": "2026-05-15"}]
    fx.governance(manifest, "revenue_usd")["targets"] = [{"value": 1000, "by": "2026-05-31"}]
    directory = fx.write(tmp_path / "m", manifest, semantic)
    warehouse = fx.build_warehouse(tmp_path / "wh.duckdb")
    result = CliRunner().invoke(app, ["alerts", "--manifest-dir", str(directory), "--database", str(warehouse),
                                      "--fail-on", "warn"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output  # targets are not a gate
    # nps: 30 in May and June, slope 0, 6 months to December: projected 30 < 40
    assert ("nps: 40.0 pts by 2026-12-31 — 30.0 pts in 2026-06, 0% of the way from 30.0 pts (2026-05); needs "
            "+1.7 pts/month over 6 months, recent pace 0.0 pts/month, projected 30.0 pts: off track") in result.output
    assert "revenue_usd: $1,000 by 2026-05-31 — $1,500 in 2026-05: met" in result.output
    assert "0 alert, 0 warn, 4 ok" in result.output and "1 breaches recorded" in result.output
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select metric_name, level, kind, threshold from audit.metric_alerts").fetchall() == [
            ("nps", "warn", "target", 40.0)]


def test_the_catalog_command_shows_each_target_once_on_its_card(tmp_path):
    manifest, semantic = fx.load_good()
    fx.governance(manifest, "revenue_usd")["targets"] = [{"value": 1000, "by": "2026-05-31"}]
    directory = fx.write(tmp_path / "m", manifest, semantic)
    warehouse = fx.build_warehouse(tmp_path / "wh.duckdb")
    result = CliRunner().invoke(app, ["catalog", "--manifest-dir", str(directory), "--database", str(warehouse),
                                      "--out", str(tmp_path / "catalog"), "--no-table"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "catalog" / "index.html").read_text()
    card = re.search(r'<article class="metric" id="metric-revenue_usd".*?</article>', html, re.DOTALL).group(0)
    # revenue_usd: $1,500 in 2026-05 against $1,000 by 2026-05-31
    summary = "revenue_usd: $1,000 by 2026-05-31 — $1,500 in 2026-05: met"
    assert card.count(summary) == 1 and 'class="target target-met"' in card
    assert html.count(summary) == 1 and "<dt>Targets</dt>" not in html.replace(card, "")
