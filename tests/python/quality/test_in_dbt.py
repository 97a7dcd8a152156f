"""The rules of a metric table that dbt states: grain, not-null, ranges, accepted values, orderings,
reconciliations and gaps are data tests in each mart's yml (the Great Expectations gate keeps
freshness, volume, reject share and anomalies). The demo's `dbt build` (conftest) passes them all;
here a copy of it, broken once per rule, fails exactly the data test that states the rule, and the
conventions every metric table follows are read from the manifest."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from product_metrics.dbt import run_dbt
from product_metrics.project import Project
from product_metrics.quality.rules import METRIC_TABLES

from ..conftest import DEMO_PROJECT


def first_row(table: str, where: str = "true") -> str:
    return f"rowid = (select min(rowid) from {table} where {where})"


def third_period(table: str, column: str, where: str = "true") -> str:
    return (f"{column} = (select {column} from (select distinct {column} from {table} where {where}) "
            f"periods order by {column} limit 1 offset 2)")


# A breakage per rule: the SQL that breaks it, and the data test that must then fail
# (model, generic test, column; None for a test on the whole model).
BREAKS: dict[str, tuple[str, tuple[str, str, str | None]]] = {
    "a rate above 1": (
        f"update metrics.fct_cohort_retention set retention_rate = 1.2 where {first_row('metrics.fct_cohort_retention')}",
        ("fct_cohort_retention", "accepted_range", "retention_rate")),
    "a negative rate": (
        (f"update metrics.fct_ltv_cac_by_channel set churn_rate = -0.1 "
         f"where {first_row('metrics.fct_ltv_cac_by_channel', 'churn_rate is not null')}"),
        ("fct_ltv_cac_by_channel", "accepted_range", "churn_rate")),
    "an AI rate above 1": (
        f"update metrics.fct_ai_suggestions_daily set hitl_rate = 1.5 where {first_row('metrics.fct_ai_suggestions_daily')}",
        ("fct_ai_suggestions_daily", "accepted_range", "hitl_rate")),
    "NPS above 100": (
        f"update metrics.fct_nps_monthly set nps = 120 where {first_row('metrics.fct_nps_monthly')}",
        ("fct_nps_monthly", "accepted_range", "nps")),
    "a negative count": (
        f"update metrics.fct_ltv_cac_monthly set churned_customers = -1 where {first_row('metrics.fct_ltv_cac_monthly')}",
        ("fct_ltv_cac_monthly", "accepted_range", "churned_customers")),
    "a null flag": (
        f"update metrics.fct_k_factor_monthly set is_complete = null where {first_row('metrics.fct_k_factor_monthly')}",
        ("fct_k_factor_monthly", "not_null", "is_complete")),
    "an unknown lifecycle status": (
        (f"update metrics.fct_user_lifecycle_weekly set lifecycle_status = 'churned' "
         f"where {first_row('metrics.fct_user_lifecycle_weekly')}"),
        ("fct_user_lifecycle_weekly", "accepted_values", "lifecycle_status")),
    "two rows for a month and channel": (
        "insert into metrics.fct_cac_by_channel select * from metrics.fct_cac_by_channel limit 1",
        ("fct_cac_by_channel", "unique_combination_of_columns", None)),
    "two rows for a week and model version": (
        "insert into metrics.fct_model_performance_weekly select * from metrics.fct_model_performance_weekly limit 1",
        ("fct_model_performance_weekly", "unique_combination_of_columns", None)),
    "two rows for a month": (
        "insert into metrics.fct_nps_monthly select * from metrics.fct_nps_monthly limit 1",
        ("fct_nps_monthly", "unique", "month_start")),
    "more paid than all new customers": (
        (f"update metrics.fct_cac_monthly set paid_new_customers = new_customers + 5 "
         f"where {first_row('metrics.fct_cac_monthly')}"),
        ("fct_cac_monthly", "expression_is_true", None)),
    "more converted than sent invites": (
        (f"update metrics.fct_k_factor_monthly set invites_converted = invites_sent + 1 "
         f"where {first_row('metrics.fct_k_factor_monthly', 'is_complete')}"),
        ("fct_k_factor_monthly", "expression_is_true", None)),
    "more activated users than signups": (
        (f"update metrics.fct_activation_weekly set activated_users = signups + 1 "
         f"where {first_row('metrics.fct_activation_weekly')}"),
        ("fct_activation_weekly", "expression_is_true", None)),
    "more north-star users than core-action users": (
        (f"update metrics.fct_north_star_weekly set north_star_users = core_action_users + 1 "
         f"where {first_row('metrics.fct_north_star_weekly')}"),
        ("fct_north_star_weekly", "expression_is_true", None)),
    "dau above wau": (
        f"update metrics.fct_stickiness_daily set dau = wau + 1 where {first_row('metrics.fct_stickiness_daily')}",
        ("fct_stickiness_daily", "expression_is_true", None)),
    "a cohort whose size changes with k": (
        (f"update metrics.fct_cohort_retention set cohort_size = cohort_size + 1 "
         f"where {first_row('metrics.fct_cohort_retention', 'period_number = 1')}"),
        ("fct_cohort_retention", "one_value_per_group", "cohort_size")),
    "an acquisition cohort whose size changes": (
        (f"update metrics.fct_ltv_cohort set customers = customers + 1 "
         f"where {first_row('metrics.fct_ltv_cohort', 'months_since_acquisition = 1')}"),
        ("fct_ltv_cohort", "one_value_per_group", "customers")),
    "a missing month": (
        f"delete from metrics.fct_aarrr_monthly where {third_period('metrics.fct_aarrr_monthly', 'month_start')}",
        ("fct_aarrr_monthly", "no_gaps", "month_start")),
    "a channel's missing month": (
        ("delete from metrics.fct_ltv_cac_by_channel where rowid = (select rowid from "
         "metrics.fct_ltv_cac_by_channel order by channel, month_start limit 1 offset 2)"),
        ("fct_ltv_cac_by_channel", "no_gaps", "month_start")),
    "a status's missing week": (
        ("delete from metrics.fct_user_lifecycle_weekly where lifecycle_status = 'returning' and "
         + third_period("metrics.fct_user_lifecycle_weekly", "week_start", "lifecycle_status = 'returning'")),
        ("fct_user_lifecycle_weekly", "no_gaps", "week_start")),
    "a missing week": (
        f"delete from metrics.fct_north_star_weekly where {third_period('metrics.fct_north_star_weekly', 'week_start')}",
        ("fct_north_star_weekly", "no_gaps", "week_start")),
}


@pytest.fixture(scope="module")
def broken_run(clean_demo_warehouse, tmp_path_factory):
    """The metric tables' data tests on a copy of the demo with every breakage: the failed tests as
    (model, generic test, column), and the manifest of the run."""
    path = tmp_path_factory.mktemp("dbt_rules") / "warehouse.duckdb"
    shutil.copyfile(clean_demo_warehouse, path)
    with duckdb.connect(str(path)) as connection:
        for statement, _ in BREAKS.values():
            connection.execute(statement)
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path),
                  ["test", "--select", "product_metrics.marts", "--exclude", "test_type:unit"])
    assert len(run.results) > 100, run.error_lines[-20:]
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    failed = set()
    for result in run.failed_nodes():
        node = manifest["nodes"][result.unique_id]
        if node.get("test_metadata"):
            failed.add((node["attached_node"].split(".")[2], node["test_metadata"]["name"], node.get("column_name")))
    return failed, manifest


@pytest.mark.parametrize("name", list(BREAKS))
def test_data_that_breaks_a_rule_fails_its_dbt_test(broken_run, name):
    failed, _ = broken_run
    expected = BREAKS[name][1]
    assert expected in failed, f"{name}: expected {expected} to fail; failed: {sorted(failed, key=str)}"


def _marts(manifest: dict) -> dict[str, dict]:
    return {node["name"]: node for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["package_name"] == "product_metrics"
            and "marts" in node["fqn"]}


def _tests_by_model(manifest: dict) -> dict[str, list[tuple[str, str | None, dict]]]:
    marts = {node["unique_id"]: name for name, node in _marts(manifest).items()}
    tests: dict[str, list[tuple[str, str | None, dict]]] = {name: [] for name in marts.values()}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and node.get("attached_node") in marts:
            tests[marts[node["attached_node"]]].append(
                (node["test_metadata"]["name"], node.get("column_name"), node["test_metadata"]["kwargs"]))
    return tests


def test_every_metric_table_checked_by_the_gate_is_a_mart(broken_run):
    _, manifest = broken_run
    assert {t.name for t in METRIC_TABLES} <= set(_marts(manifest))


def test_every_metric_table_states_its_grain_counts_rates_and_flags(broken_run):
    """The conventions of every mart: a grain test; each integer column (a count) at least 0; each
    `_rate` within 0..1; each boolean flag not null. Column names and types are its enforced contract."""
    _, manifest = broken_run
    marts, tests = _marts(manifest), _tests_by_model(manifest)
    missing = []
    for name, node in marts.items():
        assert node["config"]["contract"]["enforced"], name
        ranges = {column: kwargs for test, column, kwargs in tests[name] if test == "accepted_range"}
        not_null = {column for test, column, _ in tests[name] if test == "not_null"}
        if not any(test in ("unique", "unique_combination_of_columns") for test, _, _ in tests[name]):
            missing.append(f"{name}: grain")
        for column, spec in node["columns"].items():
            kind = spec["data_type"]
            minimum = ranges.get(column, {}).get("min_value")
            if kind in ("bigint", "integer") and (minimum is None or minimum < 0):
                missing.append(f"{name}.{column}: a count at least 0")
            if column.endswith("_rate") and (ranges.get(column, {}).get("min_value"),
                                             ranges.get(column, {}).get("max_value")) != (0, 1):
                missing.append(f"{name}.{column}: a share within 0..1")
            if kind == "boolean" and column not in not_null:
                missing.append(f"{name}.{column}: a flag, not null")
    assert not missing, missing
