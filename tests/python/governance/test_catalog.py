"""`product-metrics catalog` (the metric_catalog table and the HTML page, opened in headless
Chromium) and `product-metrics alerts`, on the good fixture manifests and a DuckDB warehouse
holding the fixture project's metric tables."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
import fixture_manifests as fx

from product_metrics.cli import app
from product_metrics.governance.alerts import breach_level
from product_metrics.governance.catalog import CATALOG_COLUMNS
from product_metrics.warehouses.postgres import drop_database, recreate_database

from ..browser import load_page
from ..conftest import sqlalchemy_url

runner = CliRunner()
ENV = {"COLUMNS": "250"}


def require_graphviz() -> None:
    """The tree is drawn by Graphviz: skip without it (fail under CI=true: `make install` installs it)."""
    if shutil.which("dot"):
        return
    message = "graphviz (dot) is not installed: `make install` installs it (Debian package graphviz)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def assert_catalog_page_renders(page: Path, metric_names: list[str], tree_nodes: list[str]) -> str:
    require_graphviz()
    dom = load_page(page).dom  # the DOM Chromium builds: what a person's browser shows
    tree = re.search(r'<figure id="metric-tree".*?</figure>', dom, re.DOTALL)
    assert tree, "no metric tree element"
    assert "<svg" in tree.group(0), "the metric tree is not drawn as a diagram"
    for name in tree_nodes:
        assert f'id="tree-{name}"' in tree.group(0), f"{name} missing from the tree"
    for name in metric_names:
        assert f'id="metric-{name}"' in dom, f"no card for {name}"
        assert f"<code>{name}</code>" in dom
    assert "http://" not in dom.replace("http://www.w3.org", "") and "https://" not in dom, "the page loads something"
    return dom


@pytest.fixture
def fixture_dir(tmp_path) -> Path:
    return fx.write(tmp_path / "manifests", *fx.load_good())


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return fx.build_warehouse(tmp_path / "wh.duckdb")


def query(database: Path, sql: str) -> list[dict]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# --- catalog ------------------------------------------------------------------------------------

def test_catalog_table_matches_the_manifest(fixture_dir, warehouse, tmp_path):
    result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database", str(warehouse),
                                 "--out", str(tmp_path / "html")], env=ENV)
    assert result.exit_code == 0, result.output
    assert "metrics.metric_catalog: 12 metrics" in result.output

    rows = {row["metric_name"]: row for row in query(warehouse, "select * from metrics.metric_catalog")}
    manifest, _ = fx.load_good()
    names = sorted(m["name"] for m in manifest["metrics"].values())
    assert sorted(rows) == names  # one row per metric
    assert list(next(iter(rows.values()))) == [name for name, _ in CATALOG_COLUMNS]
    for name in names:
        row, governance, metric = rows[name], fx.governance(manifest, name), fx.metric(manifest, name)
        assert row["label"] == metric["label"] and row["metric_type"] == metric["type"]
        assert (row["owner_name"], row["owner_email"]) == (governance["owner"]["name"], governance["owner"]["email"])
        for field in ("description", "formula", "unit", "grain", "role", "direction", "indicator", "review_cadence",
                      "status", "version"):
            assert row[field] == governance[field], (name, field)
        assert row["last_reviewed"] == dt.date.fromisoformat(governance["last_reviewed"])
        assert json.loads(row["guardrails"]) == governance["guardrails"]
        assert json.loads(row["thresholds"]) == governance["thresholds"]
        assert (row["threshold_warn"], row["threshold_alert"]) == (governance["thresholds"].get("warn"),
                                                                     governance["thresholds"].get("alert"))
        assert json.loads(row["governance"]) == governance
        lives_in = governance.get("lives_in")
        assert (json.loads(row["lives_in"]) if row["lives_in"] else None) == lives_in
        assert row["lives_in_table"] == (lives_in or {}).get("table")
        assert row["lives_in_column"] == (lives_in or {}).get("column")
        assert row["has_governance"] is True

    ratio = rows["dau_mau_ratio"]
    assert ratio["next_review_due"] == dt.date(2027, 1, 1)
    assert json.loads(ratio["tables"]) == ["fct_engagement_daily"]
    assert json.loads(ratio["input_metrics"]) == ["dau", "mau"]
    assert json.loads(ratio["exposures"]) == ["growth_dashboard"]
    assert json.loads(rows["nps"]["exposures"]) == ["growth_dashboard"]
    assert json.loads(rows["refund_rate"]["input_metrics"]) == ["refunds", "orders"]
    # latest complete values: the incomplete 2026-06-03 window and June revenue do not count
    latest = {name: (rows[name]["latest_period"], rows[name]["latest_value"]) for name in rows}
    assert latest["dau_mau_ratio"] == (dt.date(2026, 6, 2), 0.25)
    assert latest["nps"] == (dt.date(2026, 6, 1), 30.0)
    assert latest["revenue_usd"] == (dt.date(2026, 5, 1), 1500.0)
    assert latest["refund_rate"] == (dt.date(2026, 5, 1), 0.02)
    assert latest["dau"] == (dt.date(2026, 6, 3), 40.0)  # no complete_column: the latest row
    assert latest["nps_responses"] == (None, None)
    assert rows["nps_responses"]["latest_value_note"] == "no lives_in: semantic layer only"


def test_catalog_is_replaced_not_appended(fixture_dir, warehouse, tmp_path):
    for _ in range(2):
        result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database", str(warehouse),
                                     "--out", str(tmp_path / "html")], env=ENV)
        assert result.exit_code == 0, result.output
    assert query(warehouse, "select count(*) as n from metrics.metric_catalog") == [{"n": 12}]


def test_catalog_flags_overdue_reviews_as_warnings(fixture_dir, warehouse, tmp_path):
    def catalog(today: str):
        result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database", str(warehouse),
                                     "--out", str(tmp_path / today), "--today", today], env=ENV)
        assert result.exit_code == 0, result.output  # a warning, never a failure
        rows = query(warehouse, "select metric_name, is_review_overdue from metrics.metric_catalog")
        return result.output, {r["metric_name"] for r in rows if r["is_review_overdue"]}, \
            (tmp_path / today / "index.html").read_text()

    output, overdue, html = catalog(fx.TODAY)
    assert overdue == set() and "review overdue" not in output and "reviews overdue" not in html
    # revenue_usd: monthly, last reviewed 2026-11-01 -> due 2026-12-01
    output, overdue, html = catalog("2026-12-02")
    assert overdue == {"revenue_usd"}
    assert "review overdue: revenue_usd (owner: Finance Analytics) was due 2026-12-01" in output
    assert "1 reviews overdue" in html
    card = re.search(r'<article class="metric" id="metric-revenue_usd".*?</article>', html, re.DOTALL).group(0)
    assert '<span class="review-overdue">review overdue: was due 2026-12-01</span>' in card
    manifest, _ = fx.load_good()
    live = {m["name"] for m in manifest["metrics"].values()
            if fx.governance(manifest, m["name"]).get("status") != "deprecated"}
    assert catalog("2027-12-06")[1] == live  # a year ahead: every live metric's review


def test_catalog_html_renders_in_chromium(fixture_dir, warehouse, tmp_path):
    out = tmp_path / "html"
    result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database", str(warehouse),
                                 "--out", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    page = out / "index.html"
    names = sorted(m["name"] for m in fx.load_good()[0]["metrics"].values())
    dom = assert_catalog_page_renders(page, names, ["dau_mau_ratio", "revenue_usd", "nps", "refund_rate"])
    card = re.search(r'<article class="metric" id="metric-dau_mau_ratio".*?</article>', dom, re.DOTALL).group(0)
    for text in ("Share of monthly active users active on a given day.", "dau / mau", "Growth Analytics",
                 "certified", "north star", "25.0%", "2026-06-02", 'href="#metric-nps"', 'href="#metric-refund_rate"'):
        assert text in card, text
    # diagnostics are not in the tree; the tree's edges exist (north star -> KPI, metric -> guardrail)
    tree = re.search(r'<figure id="metric-tree".*?</figure>', dom, re.DOTALL).group(0)
    assert 'id="tree-orders"' not in tree
    assert "revenue_usd drives dau_mau_ratio" in tree and "refund_rate guards revenue_usd" in tree


def test_catalog_html_without_graphviz_lists_the_tree(fixture_dir, warehouse, tmp_path, monkeypatch):
    import graphviz

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database", str(warehouse),
                                 "--out", str(tmp_path / "html"), "--no-table"], env=ENV)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "html" / "index.html").read_text()
    assert "Graphviz is not installed" in html and '<ul class="tree">' in html


def test_catalog_without_a_built_warehouse_still_writes_the_page(fixture_dir, tmp_path):
    result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--database",
                                 str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "html")], env=ENV)
    assert result.exit_code == 0, result.output
    assert "No DuckDB warehouse at" in result.output and "definitions only" in result.output
    assert (tmp_path / "html" / "index.html").is_file()
    assert not (tmp_path / "empty.duckdb").exists()  # a command that reads never creates a warehouse


# --- alerts -------------------------------------------------------------------------------------

def alerts(fixture_dir, warehouse, *args):
    return runner.invoke(app, ["alerts", "--manifest-dir", str(fixture_dir), "--database", str(warehouse), *args],
                         env=ENV)


def test_no_breach_exits_0_and_records_nothing(fixture_dir, warehouse):
    result = alerts(fixture_dir, warehouse, "--fail-on", "warn")
    assert result.exit_code == 0, result.output
    assert "0 alert, 0 warn, 4 ok" in result.output
    assert query(warehouse, "select count(*) as n from audit.metric_alerts") == [{"n": 0}]


def test_alerts_list_overdue_reviews_without_failing(fixture_dir, warehouse):
    result = alerts(fixture_dir, warehouse, "--fail-on", "warn", "--today", fx.TODAY)
    assert result.exit_code == 0, result.output
    assert "review overdue" not in result.output
    result = alerts(fixture_dir, warehouse, "--fail-on", "warn", "--today", "2027-12-06")
    assert result.exit_code == 0, result.output  # overdue reviews are not breaches
    assert "review overdue: revenue_usd (owner: Finance Analytics) was due 2026-12-01" in result.output
    assert "review overdue: dau_mau_ratio (owner: Growth Analytics) was due 2027-01-01" in result.output
    assert "0 alert, 0 warn, 4 ok" in result.output


BREACH_SQL = """
update metrics.fct_engagement_daily set dau = 60, dau_mau_ratio = 0.12 where activity_date = date '2026-06-02';
update metrics.fct_nps_monthly set nps = 15 where month_start = date '2026-06-01';
update metrics.fct_revenue_monthly set refund_rate = 0.2 where month_start = date '2026-05-01';
"""


def test_a_breached_threshold_records_the_alert_and_fails_when_asked(fixture_dir, tmp_path):
    warehouse = fx.build_warehouse(tmp_path / "wh.duckdb", BREACH_SQL)
    result = alerts(fixture_dir, warehouse, "--fail-on", "alert")
    assert result.exit_code == 1, result.output
    assert "2 alert, 1 warn, 1 ok" in result.output and "3 breaches recorded in audit.metric_alerts" in result.output
    rows = query(warehouse, "select * from audit.metric_alerts order by metric_name")
    assert [r["metric_name"] for r in rows] == ["dau_mau_ratio", "nps", "refund_rate"]
    assert list(rows[0]) == ["run_at", "metric_name", "period", "value", "threshold", "level", "direction",
                             "table", "column", "kind", "detail", "top_drivers"]
    ratio, nps, refunds = rows
    assert (ratio["period"], ratio["value"], ratio["threshold"], ratio["level"], ratio["direction"]) == \
        (dt.date(2026, 6, 2), 0.12, 0.15, "alert", "higher_is_better")
    assert (ratio["table"], ratio["column"]) == ("fct_engagement_daily", "dau_mau_ratio")
    assert (nps["value"], nps["threshold"], nps["level"]) == (15.0, 20.0, "warn")
    assert (refunds["value"], refunds["threshold"], refunds["level"], refunds["direction"]) == \
        (0.2, 0.1, "alert", "lower_is_better")
    assert isinstance(ratio["run_at"], dt.datetime)

    assert alerts(fixture_dir, warehouse).exit_code == 0  # --fail-on never is the default
    assert query(warehouse, "select count(*) as n from audit.metric_alerts") == [{"n": 6}]  # appended


def test_fail_on_warn_fails_on_a_warning(fixture_dir, tmp_path):
    warehouse = fx.build_warehouse(
        tmp_path / "wh.duckdb", "update metrics.fct_nps_monthly set nps = 15 where month_start = date '2026-06-01';")
    assert alerts(fixture_dir, warehouse, "--fail-on", "alert").exit_code == 0
    assert alerts(fixture_dir, warehouse, "--fail-on", "warn").exit_code == 1


def test_today_is_an_as_of_date(fixture_dir, tmp_path):
    warehouse = fx.build_warehouse(
        tmp_path / "wh.duckdb", "update metrics.fct_nps_monthly set nps = -5 where month_start = date '2026-05-01';")
    assert alerts(fixture_dir, warehouse, "--fail-on", "alert").exit_code == 0  # June's 30 is the latest
    result = alerts(fixture_dir, warehouse, "--fail-on", "alert", "--today", "2026-06-01")
    assert result.exit_code == 1 and "as of 2026-06-01" in result.output
    assert query(warehouse, "select period, level from audit.metric_alerts") == [
        {"period": dt.date(2026, 5, 1), "level": "alert"}]


def test_an_unreadable_metric_fails_the_gate(fixture_dir, tmp_path):
    warehouse = fx.build_warehouse(tmp_path / "wh.duckdb", "drop table metrics.fct_nps_monthly;")
    result = alerts(fixture_dir, warehouse, "--fail-on", "alert")
    assert result.exit_code == 2 and "cannot read" in result.output
    assert alerts(fixture_dir, warehouse, "--fail-on", "never").exit_code == 0


def test_several_rows_in_the_latest_period_need_lives_in_where(tmp_path):
    manifest, semantic = fx.load_good()
    warehouse = fx.build_warehouse(tmp_path / "wh.duckdb", """
        alter table metrics.fct_revenue_monthly add column channel text default 'all';
        insert into metrics.fct_revenue_monthly values (date '2026-05-01', 10, 5, 200.0, 0.5, true, 'paid');""")
    fixture_dir = fx.write(tmp_path / "m", manifest, semantic)
    result = alerts(fixture_dir, warehouse, "--fail-on", "alert")
    assert result.exit_code == 2 and "add lives_in.where" in result.output
    for name in ("revenue_usd", "refund_rate"):
        fx.governance(manifest, name)["lives_in"]["where"] = "channel = 'paid'"
    fx.write(fixture_dir, manifest, semantic)
    result = alerts(fixture_dir, warehouse, "--fail-on", "alert")
    assert result.exit_code == 1 and "refund_rate" in result.output  # the paid channel's 0.5 > 0.1


@pytest.mark.parametrize(("value", "direction", "level"), [
    (0.2, "higher_is_better", "ok"), (0.19, "higher_is_better", "warn"), (0.15, "higher_is_better", "warn"),
    (0.14, "higher_is_better", "alert"), (0.05, "lower_is_better", "ok"), (0.06, "lower_is_better", "warn"),
    (0.11, "lower_is_better", "alert"),
])
def test_breach_levels(value, direction, level):
    warn, alert = (0.2, 0.15) if direction == "higher_is_better" else (0.05, 0.1)
    assert breach_level(value, direction, warn, alert)[0] == level


def test_a_single_threshold_is_enough():
    assert breach_level(5, "higher_is_better", None, 10) == ("alert", 10)
    assert breach_level(5, "lower_is_better", 4, None) == ("warn", 4)


# --- PostgreSQL (--url) ---------------------------------------------------------------------------

@pytest.fixture
def postgres_url(postgres_admin):
    """A fresh PostgreSQL database with the fixture metric tables, dropped after the test."""
    import uuid

    import sqlalchemy

    database = f"governance_test_{uuid.uuid4().hex[:8]}"
    recreate_database(postgres_admin, database)
    url = sqlalchemy_url(postgres_admin.with_database(database))
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        for statement in fx.TABLES_SQL.split(";"):
            if statement.strip():
                connection.execute(sqlalchemy.text(statement))
    engine.dispose()
    try:
        yield url
    finally:
        drop_database(postgres_admin, database)


def test_catalog_and_alerts_on_postgres(fixture_dir, postgres_url, tmp_path):
    import sqlalchemy

    result = runner.invoke(app, ["catalog", "--manifest-dir", str(fixture_dir), "--url", postgres_url,
                                 "--out", str(tmp_path / "html")], env=ENV)
    assert result.exit_code == 0, result.output
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as connection:
        rows = dict(connection.execute(sqlalchemy.text(
            "select metric_name, latest_value from metrics.metric_catalog")).fetchall())
    assert len(rows) == 12 and rows["dau_mau_ratio"] == 0.25 and rows["nps"] == 30.0

    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "update metrics.fct_nps_monthly set nps = -5 where month_start = date '2026-06-01'"))
    result = runner.invoke(app, ["alerts", "--manifest-dir", str(fixture_dir), "--url", postgres_url,
                                 "--fail-on", "alert"], env=ENV)
    assert result.exit_code == 1, result.output
    with engine.connect() as connection:
        alerts = connection.execute(sqlalchemy.text(
            'select metric_name, period, value, threshold, level, "table" from audit.metric_alerts')).fetchall()
    engine.dispose()
    assert [tuple(a) for a in alerts] == [("nps", dt.date(2026, 6, 1), -5.0, 0.0, "alert", "fct_nps_monthly")]
