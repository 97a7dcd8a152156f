"""The data-quality gate on real warehouses: the demo passes, and data that breaks a suite fails
it with the expected expectation named. Each run validates a copy of the session's demo warehouse
(GX runs once per scenario, many breakages at a time, to keep the suite fast)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from product_metrics.quality.rules import METRIC_TABLES, RAW_SOURCES, QualitySettings
from product_metrics.quality.validate import validate_warehouse
from product_metrics.quality.warehouse import DuckDBWarehouse


def copy_warehouse(source: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "warehouse.duckdb"
    shutil.copyfile(source, target)
    return target


def execute(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as connection:
        for statement in statements:
            connection.execute(statement)


def failing(report, suite: str) -> dict[str, str]:
    """rule -> GX expectation type of the failed checks of one suite."""
    return {r.rule: r.expectation for r in report.results if r.suite == suite and not r.success}


LAST_DAY = "(select last_included_date from intermediate.int_reporting_cutoff)"
LAST_MONTH = "(select last_month_start from intermediate.int_reporting_cutoff)"


def first_row(table: str, where: str = "true") -> str:
    return f"rowid = (select min(rowid) from {table} where {where})"


# One breakage per suite: (SQL that breaks it, the rule that must fail, the GX expectation type).
BREAK_EVERY_SUITE: dict[str, tuple[list[str], str, str]] = {
    "metrics.fct_cohort_retention": (
        [(f"update metrics.fct_cohort_retention set retention_rate = 1.2 "
         f"where {first_row('metrics.fct_cohort_retention')}")],
        "rate_within_0_1", "expect_column_values_to_be_between"),
    "metrics.fct_stickiness_daily": (  # a missing recent day
        [f"delete from metrics.fct_stickiness_daily where activity_date = {LAST_DAY}"],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_cac_by_channel": (  # a duplicated grain row
        ["insert into metrics.fct_cac_by_channel select * from metrics.fct_cac_by_channel limit 1"],
        "one_row_per_grain", "expect_compound_columns_to_be_unique"),
    "metrics.fct_cac_monthly": (
        [(f"update metrics.fct_cac_monthly set paid_new_customers = new_customers + 5 "
         f"where {first_row('metrics.fct_cac_monthly')}")],
        "paid_new_customers_le_new_customers", "expect_column_pair_values_a_to_be_greater_than_b"),
    "metrics.fct_ltv_cac_by_channel": (
        [(f"update metrics.fct_ltv_cac_by_channel set churn_rate = -0.1 "
         f"where {first_row('metrics.fct_ltv_cac_by_channel', 'churn_rate is not null')}")],
        "rate_within_0_1", "expect_column_values_to_be_between"),
    "metrics.fct_ltv_cac_monthly": (
        [("delete from metrics.fct_ltv_cac_monthly where month_start = "
         "(select month_start from metrics.fct_ltv_cac_monthly order by month_start limit 1 offset 2)")],
        "no_gaps", "unexpected_rows_expectation"),
    "metrics.fct_ltv_cohort": (
        [(f"update metrics.fct_ltv_cohort set customers = customers + 1 "
         f"where {first_row('metrics.fct_ltv_cohort', 'months_since_acquisition = 1')}")],
        "customers_constant_within_acquisition_month_channel", "unexpected_rows_expectation"),
    "metrics.fct_nps_monthly": (
        [f"update metrics.fct_nps_monthly set nps = 120 where {first_row('metrics.fct_nps_monthly')}"],
        "nps_within_range", "expect_column_values_to_be_between"),
    "metrics.fct_k_factor_monthly": (
        [(f"update metrics.fct_k_factor_monthly set invites_converted = invites_sent + 1 "
         f"where {first_row('metrics.fct_k_factor_monthly')}")],
        "invites_converted_le_invites_sent", "expect_column_pair_values_a_to_be_greater_than_b"),
    # The AI, lifecycle and funnel tables.
    "metrics.fct_ai_suggestions_daily": (
        [f"update metrics.fct_ai_suggestions_daily set hitl_rate = 1.5 where {first_row('metrics.fct_ai_suggestions_daily')}"],
        "rate_within_0_1", "expect_column_values_to_be_between"),
    "metrics.fct_model_performance_weekly": (
        ["insert into metrics.fct_model_performance_weekly select * from metrics.fct_model_performance_weekly limit 1"],
        "one_row_per_grain", "expect_compound_columns_to_be_unique"),
    "metrics.fct_user_lifecycle_weekly": (  # the cutoff's week is missing
        [("delete from metrics.fct_user_lifecycle_weekly where week_start = "
          "(select max(week_start) from metrics.fct_user_lifecycle_weekly)")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_activation_weekly": (
        [(f"update metrics.fct_activation_weekly set activated_users = signups + 1 "
         f"where {first_row('metrics.fct_activation_weekly')}")],
        "activated_users_le_signups", "expect_column_pair_values_a_to_be_greater_than_b"),
    "metrics.fct_north_star_weekly": (
        [(f"update metrics.fct_north_star_weekly set north_star_users = core_action_users + 1 "
         f"where {first_row('metrics.fct_north_star_weekly')}")],
        "north_star_users_le_core_action_users", "expect_column_pair_values_a_to_be_greater_than_b"),
    "metrics.fct_aarrr_monthly": (
        [("delete from metrics.fct_aarrr_monthly where month_start = "
          "(select month_start from metrics.fct_aarrr_monthly order by month_start limit 1 offset 2)")],
        "no_gaps", "unexpected_rows_expectation"),
}
_STAGING_BREAKS = ["fresh", "fresh", "volume", "fresh", "volume", "fresh", "volume", "fresh"]
_RAW_BREAKS = ["reject_share_below_limit", "volume"] * 4
for _source, _staging_break, _raw_break in zip(RAW_SOURCES, _STAGING_BREAKS, _RAW_BREAKS):
    base = f"staging.base_raw__{_source.name}"
    if _staging_break == "volume":
        statements = [f"delete from {base}"]
    else:  # the source stops a few days before the last included day
        statements = [(f"delete from {base} where cast({_source.timestamp} as date) >= "
                      f"{LAST_DAY} - {_source.max_lag_days + 3}")]
    BREAK_EVERY_SUITE[f"staging.{_source.staging_model}"] = (
        statements, _staging_break,
        "expect_table_row_count_to_be_between" if _staging_break == "volume" else "unexpected_rows_expectation")
    if _raw_break == "volume":
        statements = [f"delete from raw.{_source.name}"]
    else:  # a fifth of the source's rows rejected: over the 5% limit
        statements = [(f"insert into audit.rejected_rows (source_table, source_key, reason, raw_record) "
                      f"select '{_source.name}', 'x' || i, 'invalid_value', '{{}}' from range("
                      f"(select cast(count(*) / 5 + 1 as bigint) from raw.{_source.name})) t(i)")]
    BREAK_EVERY_SUITE[f"raw.{_source.name}"] = (
        statements, _raw_break,
        "expect_table_row_count_to_be_between" if _raw_break == "volume" else "unexpected_rows_expectation")


@pytest.fixture(scope="module")
def demo_report(clean_demo_warehouse, tmp_path_factory):
    """The clean demo, every layer, results stored and Data Docs built."""
    directory = tmp_path_factory.mktemp("quality_demo")
    path = copy_warehouse(clean_demo_warehouse, directory)
    report = validate_warehouse(DuckDBWarehouse(path), docs_dir=directory / "docs")
    return path, report


@pytest.fixture(scope="module")
def broken_report(clean_demo_warehouse, tmp_path_factory):
    path = copy_warehouse(clean_demo_warehouse, tmp_path_factory.mktemp("quality_broken"))
    execute(path, *[statement for statements, _, _ in BREAK_EVERY_SUITE.values() for statement in statements])
    return validate_warehouse(DuckDBWarehouse(path), store=False)


def test_the_demo_passes_every_suite(demo_report):
    _, report = demo_report
    assert report.success, [(r.suite, r.rule, r.observed_value, r.error) for r in report.critical_failures]
    assert not [r for r in report.results if r.error], "every check ran"
    suites = {r.suite for r in report.results}
    assert suites == set(BREAK_EVERY_SUITE), "a suite per metric table, staging model and raw source"
    assert len(report.results) > 150
    assert report.last_included_date is not None


def test_results_are_stored_in_the_warehouse(demo_report):
    path, report = demo_report
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "select suite, table_name, column_name, rule, expectation, severity, success, observed_value, "
            "unexpected_count from audit.dq_results where run_id = ?", [report.run_id]).fetchall()
    assert len(rows) == len(report.results)
    by_rule = {(r[0], r[3], r[2]): r for r in rows}
    nps = by_rule[("metrics.fct_nps_monthly", "nps_within_range", "nps")]
    assert nps[1] == "metrics.fct_nps_monthly" and nps[4] == "expect_column_values_to_be_between"
    assert nps[5] == "critical" and nps[6] is True and nps[8] == 0
    assert {r[5] for r in rows} == {"critical", "warning"}


def test_data_docs_are_built(demo_report):
    _, report = demo_report
    assert report.docs_index and Path(report.docs_index).is_file()
    site = Path(report.docs_index).parent
    assert any(site.glob("validations/**/*.html")) and any(site.glob("expectations/**/*.html"))
    assert "fct_cohort_retention" in Path(report.docs_index).read_text()


@pytest.mark.parametrize("suite", list(BREAK_EVERY_SUITE))
def test_data_that_breaks_a_suite_fails_it(broken_report, suite):
    _, rule, expectation = BREAK_EVERY_SUITE[suite]
    failed = failing(broken_report, suite)
    assert rule in failed, f"{suite}: expected {rule} to fail; failed: {failed}"
    assert failed[rule] == expectation
    assert not broken_report.success


def test_every_metric_table_of_the_spec_has_a_suite():
    assert {f"metrics.{t.name}" for t in METRIC_TABLES} == {s for s in BREAK_EVERY_SUITE if s.startswith("metrics.")}
    assert len(METRIC_TABLES) == 15


# Further rules, each on a table of its own, validated in one run of the metric suites.
BREAK_MORE_RULES: dict[str, tuple[list[str], str, str, str]] = {
    "cohort size constant": (
        [(f"update metrics.fct_cohort_retention set cohort_size = cohort_size + 1 "
         f"where {first_row('metrics.fct_cohort_retention', 'period_number = 1')}")],
        "metrics.fct_cohort_retention", "cohort_size_constant_within_cohort_granularity_cohort_start",
        "unexpected_rows_expectation"),
    "dau <= wau": (
        [f"update metrics.fct_stickiness_daily set dau = wau + 1 where {first_row('metrics.fct_stickiness_daily')}"],
        "metrics.fct_stickiness_daily", "dau_le_wau", "expect_column_pair_values_a_to_be_greater_than_b"),
    "one row per month": (
        ["insert into metrics.fct_nps_monthly select * from metrics.fct_nps_monthly limit 1"],
        "metrics.fct_nps_monthly", "one_row_per_grain", "expect_column_values_to_be_unique"),
    "counts are integers": (
        ["alter table metrics.fct_k_factor_monthly alter invites_sent type double"],
        "metrics.fct_k_factor_monthly", "count_is_integer", "expect_column_values_to_be_in_type_list"),
    "the spec's columns": (
        ["alter table metrics.fct_cac_monthly rename paid_cac_usd to paid_cac"],
        "metrics.fct_cac_monthly", "columns_match_spec", "expect_table_columns_to_match_set"),
    "latest month reaches the cutoff": (
        [("delete from metrics.fct_ltv_cohort where cast(acquisition_month + months_since_acquisition "
         f"* interval 1 month as date) = {LAST_MONTH}")],
        "metrics.fct_ltv_cohort", "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "cac formula": (
        [(f"update metrics.fct_cac_by_channel set cac_usd = cac_usd * 2 + 1 "
         f"where {first_row('metrics.fct_cac_by_channel', 'new_customers > 0')}")],
        "metrics.fct_cac_by_channel", "cac_usd_formula", "unexpected_rows_expectation"),
    "a channel's months without gaps": (
        [("delete from metrics.fct_ltv_cac_by_channel where rowid = (select rowid from "
         "metrics.fct_ltv_cac_by_channel order by channel, month_start limit 1 offset 2)")],
        "metrics.fct_ltv_cac_by_channel", "no_gaps", "unexpected_rows_expectation"),
}
# An anomaly: the latest LTV/CAC ten times its trailing values (the formula still holds).
SPIKE = [(f"update metrics.fct_ltv_cac_monthly set ltv_usd = ltv_usd * 10, ltv_cac_ratio = ltv_cac_ratio * 10 "
         f"where month_start = {LAST_MONTH}")]


@pytest.fixture(scope="module")
def more_rules_report(clean_demo_warehouse, tmp_path_factory):
    path = copy_warehouse(clean_demo_warehouse, tmp_path_factory.mktemp("quality_more"))
    execute(path, *[s for statements, *_ in BREAK_MORE_RULES.values() for s in statements], *SPIKE)
    # A short window and min points: the demo has five months of LTV/CAC.
    settings = QualitySettings(include_layers=("metrics",), anomaly_window=3, anomaly_min_points=3)
    return validate_warehouse(DuckDBWarehouse(path), settings, store=False)


@pytest.mark.parametrize("name", list(BREAK_MORE_RULES))
def test_data_that_breaks_a_rule_fails_it(more_rules_report, name):
    _, suite, rule, expectation = BREAK_MORE_RULES[name]
    failed = failing(more_rules_report, suite)
    assert failed.get(rule) == expectation, f"{name}: failed {failed}"


def test_an_anomaly_is_a_warning_with_the_numbers_that_explain_it(more_rules_report):
    [anomaly] = [r for r in more_rules_report.results if r.rule == "anomaly_ltv_cac_ratio"]
    assert not anomaly.success and anomaly.severity == "warning"
    assert anomaly.unexpected_count >= 1
    latest = anomaly.examples[0]  # newest first
    assert {"period", "value", "trailing_mean", "trailing_stddev", "z_score"} <= set(latest)
    assert latest["value"] > latest["trailing_mean"] + 3 * latest["trailing_stddev"]
    assert latest["z_score"] == pytest.approx((latest["value"] - latest["trailing_mean"]) / latest["trailing_stddev"])
    # A warning alone never fails the gate.
    assert anomaly not in more_rules_report.critical_failures


def test_the_reject_share_limit_is_configurable(dirty_demo, tmp_path):
    """The dirty demo plants bad rows in every source. The gate fails exactly the sources whose
    share of rejected rows is over the limit, and says how large the share is."""
    source, _ = dirty_demo
    path = copy_warehouse(source, tmp_path)
    with duckdb.connect(str(path), read_only=True) as connection:
        shares = {s.name: connection.execute(
            "select count(*) filter (where source_table = ?) / (select count(*) from raw." + s.name + ") "
            "from audit.rejected_rows", [s.name]).fetchone()[0] for s in RAW_SOURCES}
    raw_only = QualitySettings(include_layers=("raw",))
    for limit in (0.0, 0.05, max(shares.values())):
        report = validate_warehouse(DuckDBWarehouse(path), raw_only.with_(reject_share_limit=limit), store=False)
        failed = {r.table.split(".")[1]: r for r in report.results
                  if r.rule == "reject_share_below_limit" and not r.success}
        assert set(failed) == {name for name, share in shares.items() if share > limit}, limit
        for name, result in failed.items():
            [example] = result.examples
            assert example["reject_share"] == pytest.approx(shares[name])
            assert example["reject_share_limit"] == limit
    assert 0 < len([s for s in shares.values() if s > 0.05]) < len(shares), "the default limit splits the sources"


def test_the_hand_checked_sample_passes_every_metric_suite(sample_warehouse, tmp_path):
    """The sample seeds hold the spec's edge cases (zero denominators, refunds, anonymous NPS, ...):
    no metric rule may flag them. Their raw tables are mostly bad rows by design, so the raw
    and staging layers are left out."""
    path = copy_warehouse(sample_warehouse, tmp_path)
    report = validate_warehouse(DuckDBWarehouse(path), QualitySettings(include_layers=("metrics",)), store=False)
    assert report.success, [(r.suite, r.rule, r.examples[:1], r.error) for r in report.critical_failures]
    assert len({r.suite for r in report.results}) == len(METRIC_TABLES)
