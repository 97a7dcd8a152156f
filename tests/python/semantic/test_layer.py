"""The semantic layer (MetricFlow: the semantic models and metrics in the models/ ymls) agrees with the metric tables.

BI tools read the tables in schema `metrics`; analysts ask `mf query`. Both must give the same
number for the same question: on the clean and on the dirty demo data, MetricFlow's SQL (run
through the Python API in this process) returns the tables' values within 1e-9, nulls alike.
Then: `mf validate-configs` passes, every README `mf` example runs as written, and
`product-metrics export` writes every saved query as a table with rows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pytest
from typer.testing import CliRunner

from product_metrics.cli import app
from product_metrics.semantic.engine import SemanticLayer

from .conftest import VALIDATE_CONFIGS, readme_commands

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Agreement:
    """A MetricFlow query and the table rows it must reproduce: metric -> column, group-by -> key column."""

    name: str
    table: str
    metrics: dict[str, str]
    group_by: dict[str, str]
    where: tuple[str, ...] = field(default=())


def _last_day_of(grain: str) -> str:
    return f"""(
        select *, date_trunc('{grain}', activity_date) as period_start
        from metrics.fct_stickiness_daily
        qualify activity_date = max(activity_date) over (partition by date_trunc('{grain}', activity_date))
    )"""


STICKINESS = {"pm_dau": "dau", "pm_wau": "wau", "pm_mau": "mau", "pm_dau_mau_ratio": "dau_mau_ratio",
              "pm_wau_mau_ratio": "wau_mau_ratio"}
LTV = {"pm_trailing_active_customers": "active_customers", "pm_trailing_customer_revenue_usd": "revenue_usd",
       "pm_arpa_usd": "arpa_usd", "pm_trailing_churned_customers": "churned_customers", "pm_churn_rate": "churn_rate",
       "pm_ltv_usd": "ltv_usd", "pm_trailing_cac_usd": "cac_usd", "pm_ltv_cac_ratio": "ltv_cac_ratio",
       "pm_payback_months": "payback_months"}

AGREEMENTS = [
    Agreement("stickiness by day", "metrics.fct_stickiness_daily", STICKINESS, {"metric_time__day": "activity_date"}),
    # Coarser grains take the period's last day (non_additive_dimension on activity_date).
    Agreement("stickiness by week: last day", _last_day_of("week"), STICKINESS, {"metric_time__week": "period_start"}),
    Agreement("stickiness by month: last day", _last_day_of("month"), STICKINESS,
              {"metric_time__month": "period_start"}),
    Agreement("NPS by month", "metrics.fct_nps_monthly",
              {"pm_nps": "nps", "pm_nps_responses": "responses", "pm_promoters": "promoters", "pm_passives": "passives",
               "pm_detractors": "detractors", "pm_nps_standard_error": "nps_standard_error",
               "pm_nps_margin_of_error_95": "nps_margin_of_error_95"},
              {"metric_time__month": "month_start"}),
    Agreement("NPS respondents (sliceable) by month", "metrics.fct_nps_monthly", {"pm_nps_respondents": "responses"},
              {"metric_time__month": "month_start"}),
    Agreement("CAC by channel and month", "metrics.fct_cac_by_channel",
              {"pm_marketing_spend_usd": "spend_usd", "pm_new_customers": "new_customers", "pm_cac_usd": "cac_usd"},
              {"metric_time__month": "month_start", "pm_channel": "channel"}),
    Agreement("blended and paid CAC by month", "metrics.fct_cac_monthly",
              {"pm_marketing_spend_usd": "spend_usd", "pm_new_customers": "new_customers",
               "pm_paid_new_customers": "paid_new_customers", "pm_blended_cac_usd": "blended_cac_usd",
               "pm_cac_usd": "blended_cac_usd", "pm_paid_cac_usd": "paid_cac_usd"},
              {"metric_time__month": "month_start"}),
    Agreement("customers acquired (sliceable) by channel and month",
              "(select * from metrics.fct_cac_by_channel where new_customers > 0)",
              {"pm_customers_acquired": "new_customers"}, {"metric_time__month": "month_start", "pm_channel": "channel"}),
    Agreement("K-factor by cohort month", "metrics.fct_k_factor_monthly",
              {"pm_cohort_users": "cohort_users", "pm_inviting_users": "inviting_users", "pm_invites_sent": "invites_sent",
               "pm_invites_converted": "invites_converted", "pm_invites_per_user": "invites_per_user",
               "pm_invite_conversion_rate": "invite_conversion_rate", "pm_k_factor": "k_factor"},
              {"metric_time__month": "cohort_month"}),
    Agreement("cohort retention", "metrics.fct_cohort_retention",
              {"pm_retention_cohort_size": "cohort_size", "pm_retained_users": "retained_users",
               "pm_retention_rate": "retention_rate", "pm_retained_or_after_users": "retained_or_after_users",
               "pm_unbounded_retention_rate": "unbounded_retention_rate"},
              {"metric_time__day": "cohort_start", "pm_cohort_period__cohort_granularity": "cohort_granularity",
               "pm_cohort_period__period_number": "period_number"}),
    Agreement("LTV/CAC by channel and month", "metrics.fct_ltv_cac_by_channel", LTV,
              {"metric_time__month": "month_start", "pm_channel": "channel"}),
    Agreement("LTV/CAC by month", "metrics.fct_ltv_cac_monthly", LTV, {"metric_time__month": "month_start"}),
    Agreement("active users by day = DAU", "(select * from metrics.fct_stickiness_daily where dau > 0)",
              {"pm_active_users": "dau"}, {"metric_time__day": "activity_date"}),
]


def _normalise(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _same(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, int | float) and isinstance(right, int | float) and not isinstance(left, bool):
        return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return left == right


def _keyed(columns: list[str], rows: list[tuple], keys: list[str], values: list[str]) -> dict[tuple, tuple]:
    index = {column: position for position, column in enumerate(columns)}
    keyed = {}
    for row in rows:
        key = tuple(_normalise(row[index[k]]) for k in keys)
        assert key not in keyed, f"two rows for {key}"
        keyed[key] = tuple(_normalise(row[index[v]]) for v in values)
    return keyed


@pytest.fixture(scope="module", params=["clean", "dirty"])
def layer(request, semantic_project):
    """MetricFlow's engine on the clean or the dirty demo warehouse, read-only, in this process."""
    path = (request.getfixturevalue("clean_demo_warehouse") if request.param == "clean"
            else request.getfixturevalue("dirty_demo")[0])
    with SemanticLayer.open(semantic_project.manifest, path) as semantic_layer:
        yield semantic_layer


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=[a.name for a in AGREEMENTS])
def test_semantic_layer_agrees_with_the_tables(agreement: Agreement, layer):
    metrics, group_by = list(agreement.metrics), list(agreement.group_by)
    result = layer.query(metrics, group_by, where=agreement.where)
    semantic = _keyed(result.columns, result.rows, group_by, metrics)

    columns = list(agreement.group_by.values()) + list(agreement.metrics.values())
    cursor = layer.connection.execute(f"select {', '.join(columns)} from {agreement.table} as t")
    table = _keyed(columns, cursor.fetchall(), list(agreement.group_by.values()), list(agreement.metrics.values()))

    assert table, f"{agreement.table} is empty"
    assert semantic.keys() == table.keys()
    mismatches = [
        (key, metric, semantic[key][i], table[key][i])
        for key in table for i, metric in enumerate(metrics)
        if not _same(semantic[key][i], table[key][i])
    ]
    assert not mismatches, mismatches[:10]


@pytest.mark.parametrize("metric", ["pm_dau", "pm_wau", "pm_mau", "pm_dau_mau_ratio"])
def test_rolling_distinct_counts_are_served_from_the_precomputed_table(metric, layer):
    sql = layer.sql([metric], ["metric_time__month"])
    assert "fct_stickiness_daily" in sql
    assert "int_events_rolled_up_to_user_days" not in sql and "int_days_before_cutoff" not in sql


def test_activation_rate_is_first_positive_order_within_30_days_of_signup(layer):
    result = layer.query(["pm_signups", "pm_activated_users", "pm_activation_rate"], ["metric_time__month"])
    expected = layer.connection.execute("""
        select
            date_trunc('month', users.signup_date) as month_start,
            count(*) as signups,
            count(customers.user_id) as activated
        from intermediate.int_users_cohorted as users
        left join intermediate.int_customers_acquired as customers
            on users.user_id = customers.user_id
            and customers.acquired_date >= users.signup_date
            and customers.acquired_date < users.signup_date + interval 30 day
        group by 1
    """).fetchall()
    got = _keyed(result.columns, result.rows, ["metric_time__month"],
                 ["pm_signups", "pm_activated_users", "pm_activation_rate"])
    want = {(_normalise(m),): (s, a, a / s) for m, s, a in expected}
    assert got.keys() == want.keys()
    assert all(all(_same(x, y) for x, y in zip(got[k], want[k], strict=True)) for k in want)


def test_user_dimension_slices_add_up(layer):
    """Sliceable metrics split by platform sum back to the unsliced value (every user has one platform)."""
    for metric in ("pm_signups", "pm_customers_acquired", "pm_revenue_usd", "pm_events"):
        total = layer.query([metric], ["metric_time__month"])
        sliced = layer.query([metric], ["metric_time__month", "pm_user__platform"])
        sums: dict = {}
        for month, _platform, value in sliced.rows:
            sums[month] = sums.get(month, 0) + _normalise(value)
        assert {m: _normalise(v) for m, v in total.rows} == pytest.approx(sums), metric


def test_time_spine_ends_the_day_before_the_cutoff(layer):
    [(first_day, last_day, days, cutoff, first_signup)] = layer.connection.execute("""
        select min(date_day), max(date_day), count(*), max(cutoff.last_included_date), min(users.signup_date)
        from intermediate.int_days_before_cutoff
        cross join intermediate.int_reporting_cutoff as cutoff
        cross join (select min(signup_date) as signup_date from intermediate.int_users_cohorted) as users
    """).fetchall()
    assert last_day == cutoff
    assert first_day <= first_signup.replace(day=1)
    assert days == (last_day - first_day).days + 1


def test_every_saved_query_plans(layer):
    queries = layer.saved_queries()
    assert queries and all(query.name == f"pm_{query.table}" and query.table.startswith("headline_")
                           for query in queries)
    for query in queries:
        assert "select" in layer.sql(saved_query=query.name).lower()


# -- Names: the package shares the semantic-layer namespace with the project that installs it -------

def test_every_semantic_layer_name_carries_the_package_prefix(semantic_project):
    manifest = json.loads(semantic_project.manifest.read_text())
    names = {"saved query": [q["name"] for q in manifest["saved_queries"]],
             "metric": [m["name"] for m in manifest["metrics"]]}
    for model in manifest["semantic_models"]:
        names.setdefault("semantic model", []).append(model["name"])
        names.setdefault("measure", []).extend(m["name"] for m in model["measures"])
        names.setdefault("entity", []).extend(e["name"] for e in model["entities"])
        names["entity"] += [model["primary_entity"]] if model.get("primary_entity") else []
    assert len(names["metric"]) == 104 and len(names["semantic model"]) == 18
    unprefixed = {kind: [n for n in values if not n.startswith("pm_")] for kind, values in names.items()}
    assert unprefixed == {kind: [] for kind in names}
    # Metric labels are unique project-wide too (MetricFlow's MetricLabelsRule): they carry the package.
    labels = [m["label"] for m in manifest["metrics"]]
    assert all(label.endswith(" (product metrics)") for label in labels) and len(set(labels)) == len(labels)


def test_exposures_and_table_governance_name_semantic_metrics(semantic_project):
    manifest = json.loads((semantic_project.root / "target" / "manifest.json").read_text())
    metrics = {m["name"] for m in manifest["metrics"].values()}
    exposed = [node.split(".")[-1] for e in manifest["exposures"].values() for node in e["depends_on"]["nodes"]
               if node.startswith("metric.")]
    listed = [name for node in manifest["nodes"].values()
              for name in ((node.get("config") or {}).get("meta") or {}).get("governance", {}).get("metrics", [])]
    assert exposed and listed and set(exposed) | set(listed) <= metrics


# -- The mf CLI (subprocesses, concurrently: see conftest.mf_runs) ------------------------

def test_mf_validate_configs_passes(mf_runs):
    result = mf_runs[VALIDATE_CONFIGS]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERRORS: 0" in result.stdout and "Breaking issues" not in result.stdout


README_MF_COMMANDS = readme_commands().mf


def test_readme_has_mf_examples():
    assert len(README_MF_COMMANDS) >= 5
    assert any("--saved-query" in command for command in README_MF_COMMANDS)


@pytest.mark.parametrize("command", README_MF_COMMANDS)
def test_readme_mf_example_runs(command, mf_runs):
    result = mf_runs[command]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR" not in result.stdout, result.stdout[-4000:]


# -- product-metrics export ------------------------------------------------------------------------

def test_export_writes_every_saved_query_as_a_table_with_rows(tmp_path, semantic_project):
    database = tmp_path / "export.duckdb"
    shutil.copy2(semantic_project.warehouse, database)
    result = CliRunner().invoke(app, ["export", "--database", str(database),
                                      "--semantic-manifest", str(semantic_project.manifest)])
    assert result.exit_code == 0, result.output

    with SemanticLayer.open(semantic_project.manifest, semantic_project.warehouse) as layer:
        tables = [query.table for query in layer.saved_queries()]
    with duckdb.connect(str(database), read_only=True) as con:
        for table in tables:
            [(rows,)] = con.execute(f"select count(*) from metrics.{table}").fetchall()
            assert rows > 0, table
            assert f"metrics.{table}" in result.output
        # BI-facing columns: without the semantic layer's pm_ prefix, in every part of an entity path.
        columns = {table: [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'metrics' "
            "and table_name = ? order by ordinal_position", [table]).fetchall()] for table in tables}
        assert columns["headline_weekly_active_users_by_platform"] == ["metric_time__week", "user__platform",
                                                                       "active_users"]
        assert columns["headline_cac_by_channel_monthly"] == [
            "metric_time__month", "channel", "channel_month__is_paid_channel", "marketing_spend_usd", "new_customers",
            "cac_usd"]
        assert not [c for cols in columns.values() for c in cols if "pm_" in c]
        # The exported table holds the table's numbers.
        mismatched = con.execute("""
            select count(*) from metrics.headline_nps_monthly as exported
            full join metrics.fct_nps_monthly as fct on cast(exported.metric_time__month as date) = fct.month_start
            where exported.nps is null or fct.nps is null or abs(exported.nps - fct.nps) > 1e-9
        """).fetchall()
        assert mismatched == [(0,)]


def test_export_parses_the_project_when_no_manifest_is_given(tmp_path, monkeypatch, semantic_project):
    from product_metrics.dbt import DbtRun

    target = tmp_path / "target"
    target.mkdir()
    shutil.copy2(semantic_project.manifest, target / "semantic_manifest.json")
    shutil.copy2(semantic_project.manifest.with_name("manifest.json"), target / "manifest.json")
    calls = []

    def fake_parse(project, args, vars=None, on_progress=None):
        calls.append((project.duckdb_path, list(args)))
        return DbtRun(args=list(args), returncode=0, target_path=target)

    monkeypatch.setattr("product_metrics.dbt.run_dbt", fake_parse)
    database = tmp_path / "export.duckdb"
    shutil.copy2(semantic_project.warehouse, database)
    result = CliRunner().invoke(app, ["export", "--database", str(database), "--saved-query", "headline_nps_monthly"])
    assert result.exit_code == 0, result.output
    assert calls == [(database, ["parse"])]
    assert "metrics.headline_nps_monthly" in result.output


def test_export_names_the_fix_for_an_unknown_saved_query(tmp_path, semantic_project):
    database = tmp_path / "export.duckdb"
    shutil.copy2(semantic_project.warehouse, database)
    result = CliRunner().invoke(app, ["export", "--database", str(database), "--semantic-manifest",
                                      str(semantic_project.manifest), "--saved-query", "no_such_query"])
    assert result.exit_code == 2  # cannot run: a user error
    assert "Unknown saved queries" in result.output


def test_help_stays_light_with_the_export_command():
    import subprocess
    import sys

    code = ("import sys; from product_metrics.cli import app; "
            "heavy = {'duckdb', 'dbt', 'metricflow', 'metricflow_semantics', 'pandas'} & "
            "{m.split('.')[0] for m in sys.modules}; print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "export" in CliRunner().invoke(app, ["--help"]).output
