"""The data-quality gate on real warehouses: the demo passes, and data that breaks a suite fails
it with the expected expectation named. Each run validates a copy of the session's demo warehouse
(GX runs once per scenario, many breakages at a time, to keep the suite fast)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from product_metrics.quality.rules import METRIC_TABLES, OPTIONAL_RAW_SOURCES, RAW_SOURCES
from product_metrics.quality.settings import QualitySettings
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


def latest(table: str, column: str) -> str:
    return f"delete from {table} where {column} = (select max({column}) from {table})"


# One breakage per suite: (SQL that breaks it, the rule that must fail, the GX expectation type).
# A metric table is emptied, or loses its latest period; its other rules are dbt data tests
# (test_quality_in_dbt.py).
BREAK_EVERY_SUITE: dict[str, tuple[list[str], str, str]] = {
    "metrics.fct_cohort_retention": (
        ["delete from metrics.fct_cohort_retention"], "not_empty", "expect_table_row_count_to_be_between"),
    "metrics.fct_stickiness_daily": (  # a missing recent day
        [f"delete from metrics.fct_stickiness_daily where activity_date = {LAST_DAY}"],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_cac_by_channel": (
        [latest("metrics.fct_cac_by_channel", "month_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_cac_monthly": (
        ["delete from metrics.fct_cac_monthly"], "not_empty", "expect_table_row_count_to_be_between"),
    "metrics.fct_ltv_cac_by_channel": (
        [f"delete from metrics.fct_ltv_cac_by_channel where month_start = {LAST_MONTH}"],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_ltv_cac_monthly": (
        [latest("metrics.fct_ltv_cac_monthly", "month_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_ltv_cohort": (  # the month of the cutoff, reached by every cohort's latest k
        [("delete from metrics.fct_ltv_cohort where cast(acquisition_month + months_since_acquisition "
          f"* interval 1 month as date) = {LAST_MONTH}")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_nps_monthly": (
        [latest("metrics.fct_nps_monthly", "month_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_k_factor_monthly": (
        [latest("metrics.fct_k_factor_monthly", "cohort_month")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    # The AI, lifecycle and funnel tables.
    "metrics.fct_ai_suggestions_daily": (
        [latest("metrics.fct_ai_suggestions_daily", "activity_date")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_model_performance_weekly": (
        ["delete from metrics.fct_model_performance_weekly"], "not_empty", "expect_table_row_count_to_be_between"),
    "metrics.fct_user_lifecycle_weekly": (  # the cutoff's week is missing
        [latest("metrics.fct_user_lifecycle_weekly", "week_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_activation_weekly": (
        [latest("metrics.fct_activation_weekly", "signup_week")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_north_star_weekly": (
        [latest("metrics.fct_north_star_weekly", "week_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
    "metrics.fct_aarrr_monthly": (
        [latest("metrics.fct_aarrr_monthly", "month_start")],
        "latest_period_reaches_cutoff", "unexpected_rows_expectation"),
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
# An optional input has only its reject share checked: a fifth of its rows rejected for a data error.
for _source in OPTIONAL_RAW_SOURCES:
    BREAK_EVERY_SUITE[f"raw.{_source.name}"] = (
        [(f"insert into audit.rejected_rows (source_table, source_key, reason, raw_record) "
          f"select '{_source.name}', 'x' || i, 'invalid_value', '{{}}' from range("
          f"(select cast(count(*) / 5 + 1 as bigint) from raw.{_source.name})) t(i)")],
        "reject_share_below_limit", "unexpected_rows_expectation")


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
    anomalies = sum(len(t.anomalies) for t in METRIC_TABLES)
    # An optional input that exists has one check: its reject share.
    assert len(report.results) == 2 * len(METRIC_TABLES) + anomalies + 4 * len(RAW_SOURCES) + len(OPTIONAL_RAW_SOURCES)
    assert report.last_included_date is not None


def test_results_are_stored_in_the_warehouse(demo_report):
    path, report = demo_report
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "select suite, table_name, column_name, rule, expectation, severity, success, observed_value, "
            "unexpected_count from audit.dq_results where run_id = ?", [report.run_id]).fetchall()
    assert len(rows) == len(report.results)
    by_rule = {(r[0], r[3], r[2]): r for r in rows}
    ltv = by_rule[("metrics.fct_ltv_cac_monthly", "latest_period_reaches_cutoff", "month_start")]
    assert ltv[1] == "metrics.fct_ltv_cac_monthly" and ltv[4] == "unexpected_rows_expectation"
    assert ltv[5] == "critical" and ltv[6] is True and ltv[8] == 0
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


# An anomaly: the latest LTV/CAC ten times its trailing values.
SPIKE = [(f"update metrics.fct_ltv_cac_monthly set ltv_usd = ltv_usd * 10, ltv_cac_ratio = ltv_cac_ratio * 10 "
         f"where month_start = {LAST_MONTH}")]


@pytest.fixture(scope="module")
def spiked_report(clean_demo_warehouse, tmp_path_factory):
    path = copy_warehouse(clean_demo_warehouse, tmp_path_factory.mktemp("quality_spike"))
    execute(path, *SPIKE)
    # A short window and min points: the demo has five months of LTV/CAC.
    settings = QualitySettings(include_layers=("metrics",), anomaly_window=3, anomaly_min_points=3)
    return validate_warehouse(DuckDBWarehouse(path), settings, store=False)


def test_an_anomaly_is_a_warning_with_the_numbers_that_explain_it(spiked_report):
    [anomaly] = [r for r in spiked_report.results if r.rule == "anomaly_ltv_cac_ratio"]
    assert not anomaly.success and anomaly.severity == "warning"
    assert anomaly.unexpected_count >= 1
    latest = anomaly.examples[0]  # newest first
    assert {"period", "value", "trailing_mean", "trailing_stddev", "z_score"} <= set(latest)
    assert latest["value"] > latest["trailing_mean"] + 3 * latest["trailing_stddev"]
    assert latest["z_score"] == pytest.approx((latest["value"] - latest["trailing_mean"]) / latest["trailing_stddev"])
    # A warning alone never fails the gate.
    assert anomaly not in spiked_report.critical_failures and spiked_report.success


def test_the_reject_share_limit_is_configurable(dirty_demo, tmp_path):
    """The dirty demo plants bad rows in every source. The gate fails exactly the sources whose
    share of rejected rows is over the limit, and says how large the share is."""
    source, _ = dirty_demo
    path = copy_warehouse(source, tmp_path)
    with duckdb.connect(str(path), read_only=True) as connection:
        # Rejects that are not data errors (an exposure of an experiment not defined here) do not count.
        shares = {s.name: connection.execute(
            "select count(*) filter (where source_table = ?"
            + "".join(f" and reason <> '{reason}'" for reason in s.not_data_errors)
            + ") / (select count(*) from raw." + s.name + ") from audit.rejected_rows", [s.name]).fetchone()[0]
            for s in (*RAW_SOURCES, *OPTIONAL_RAW_SOURCES)}
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


def test_exposures_of_experiments_not_defined_here_are_not_data_errors(clean_demo_warehouse, tmp_path):
    """A team logs exposures of every experiment but defines only some as code: the others are rejected
    (unknown_experiment), and the gate does not count them against the exposures' reject share."""
    path = copy_warehouse(clean_demo_warehouse, tmp_path)
    execute(path, "insert into audit.rejected_rows (source_table, source_key, reason, raw_record) "
                  "select 'experiment_exposures', 'u' || i, 'unknown_experiment', '{}' from range("
                  "(select cast(count(*) as bigint) from raw.experiment_exposures)) t(i)")
    report = validate_warehouse(DuckDBWarehouse(path), QualitySettings(include_layers=("raw",)), store=False)
    [share] = [r for r in report.results
               if r.rule == "reject_share_below_limit" and r.table.endswith("experiment_exposures")]
    assert share.success
    execute(path, "update audit.rejected_rows set reason = 'unknown_variation' where reason = 'unknown_experiment'")
    report = validate_warehouse(DuckDBWarehouse(path), QualitySettings(include_layers=("raw",)), store=False)
    assert [r.success for r in report.results
            if r.rule == "reject_share_below_limit" and r.table.endswith("experiment_exposures")] == [False]


def test_the_hand_checked_sample_passes_every_metric_suite(sample_warehouse, tmp_path):
    """The sample seeds hold the spec's edge cases (zero denominators, refunds, anonymous NPS, ...):
    no metric rule may flag them. Their raw tables are mostly bad rows by design, so the raw
    and staging layers are left out."""
    path = copy_warehouse(sample_warehouse, tmp_path)
    report = validate_warehouse(DuckDBWarehouse(path), QualitySettings(include_layers=("metrics",)), store=False)
    assert report.success, [(r.suite, r.rule, r.examples[:1], r.error) for r in report.critical_failures]
    assert len({r.suite for r in report.results}) == len(METRIC_TABLES)
