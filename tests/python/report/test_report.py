"""`product-metrics report`: the static HTML report of the demo warehouse, opened in headless
Chromium (every chart whose table exists is drawn, nothing logged to the console, no network), a
screenshot kept as a test artifact; the chart arithmetic on hand-made rows; the "not built" panels."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from product_metrics.cli import app
from product_metrics.governance.rules import is_review_overdue
from product_metrics.report import charts
from product_metrics.report.charts import CHARTS
from product_metrics.report.data import ReportTables as Warehouse

from ..browser import load_page, screenshot
from ..conftest import DEMO_SIZE, REPO_ROOT, build_warehouse

runner = CliRunner()
ENV = {"COLUMNS": "250"}
# Where the screenshot is kept for people to look at (CI uploads this folder).
ARTIFACTS = Path(os.environ.get("PRODUCT_METRICS_TEST_ARTIFACTS", REPO_ROOT / "target" / "test-artifacts"))


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> Path:
    """The demo, built, with everything the report reads: catalog, alerts and data-quality results."""
    from product_metrics.demo_data import generate_demo_data

    directory = tmp_path_factory.mktemp("report_demo")
    path = directory / "warehouse.duckdb"
    generate_demo_data(path, **DEMO_SIZE)
    run = build_warehouse(path)
    manifests = str(run.target_path)
    invoke("catalog", "--database", str(path), "--manifest-dir", manifests, "--out", str(directory / "catalog"))
    invoke("alerts", "--database", str(path), "--manifest-dir", manifests)
    result = runner.invoke(app, ["validate", "--database", str(path), "--no-docs"], env=ENV)
    assert result.exit_code in (0, 1), result.output  # 1: a critical check failed; the report shows it
    return path


def chart_elements(dom: str) -> dict[str, str]:
    """Chart key → the markup Plotly drew into its element."""
    found = {}
    for match in re.finditer(r'<div class="chart[^"]*" id="chart-(\w+)"[^>]*>', dom):
        end = dom.find('<script type="application/json"', match.end())
        found[match.group(1)] = dom[match.end():end]
    return found


def data_marks(markup: str) -> int:
    """What Plotly draws for data: heatmap images, bar and marker points, line paths with a path."""
    return (markup.count('class="hm"') + markup.count('class="point"')
            + len(re.findall(r'class="js-line"[^>]*d="M', markup)))


def test_demo_report_renders_every_chart_in_chromium(demo_warehouse, tmp_path):
    out = tmp_path / "report"
    output = invoke("report", "--database", str(demo_warehouse), "--out", str(out))
    page = out / "index.html"
    assert f"report: {page}" in output.replace("\n", "")
    html = page.read_text()
    # Self-contained: no script, style or image loaded from anywhere.
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', html)

    with Warehouse.open(demo_warehouse) as warehouse:
        expected = [c.key for c in CHARTS if all(warehouse.has(t) for t in c.tables)]
        not_built = {c.key: [t for t in c.tables if not warehouse.has(t)] for c in CHARTS if c.key not in expected}
        catalog = {row[0]: row[1:] for row in warehouse._connection.sql(
            "select metric_name, description, owner_name, owner_email from metrics.metric_catalog").fetchall()}
    # Charts name catalog metrics by their semantic-layer names: a wrong name would hide its definition.
    charted = {m for c in CHARTS for m in c.metrics}
    assert charted <= set(catalog), sorted(charted - set(catalog))
    # Which charts this warehouse can draw (the AI and lifecycle tables are optional).
    print(f"charts required to render: {expected}; not built: {not_built}")
    assert {"retention", "stickiness", "cac", "ltv_cac", "nps", "k_factor", "quality"} <= set(expected)

    loaded = load_page(page)
    assert loaded.console == [], loaded.console  # no error, no warning
    drawn = chart_elements(loaded.dom)
    assert sorted(drawn) == sorted(expected)
    for key in expected:
        assert 'class="main-svg"' in drawn[key], f"{key}: Plotly drew nothing"
        assert data_marks(drawn[key]) > 0, f"{key}: the chart has axes but no data"
    for key, tables in not_built.items():
        assert f'data-missing-table="{" ".join(tables)}"' in loaded.dom, f"{key}: no 'table not built' panel"
    assert 'class="render-error"' not in loaded.dom

    # Each chart shows its metrics' definitions and owners from the catalog.
    for chart in CHARTS:
        for metric in (m for m in chart.metrics if m in catalog):
            description, owner, email = catalog[metric]
            card = re.search(rf'<dl class="definition" data-metric="{metric}">(.*?)</dl>', loaded.dom, re.DOTALL)
            assert card, f"{chart.key}: no definition of {metric}"
            assert description.replace("&", "&amp;").replace("'", "&#x27;") in card.group(1) or \
                description.replace("&", "&amp;") in card.group(1), (metric, description)
            assert owner in card.group(1) and f"mailto:{email}" in card.group(1)
    # Alerts: one row per metric with thresholds, levels from the catalog's latest values.
    assert '<table id="threshold-status">' in loaded.dom
    # Overdue reviews on the real date: a warning note naming each metric, its owner and due date.
    with Warehouse.open(demo_warehouse) as warehouse:
        reviews = warehouse._connection.sql("select metric_name, owner_name, next_review_due, status, "
                                            "is_review_overdue from metrics.metric_catalog").fetchall()
    today = dt.datetime.now(dt.UTC).date()
    overdue = [(name, owner, due) for name, owner, due, status, _ in reviews if is_review_overdue(due, status, today)]
    assert sorted(name for name, *_, flagged in reviews if flagged) == sorted(name for name, _, _ in overdue)
    note = re.search(r'<details class="reviews-overdue".*?</details>', loaded.dom, re.DOTALL)
    assert bool(note) == bool(overdue)
    for name, owner, due in overdue:
        assert f"<li>review overdue: {name} (owner: {owner}) was due {due}</li>" in note.group(0)

    shot = ARTIFACTS / "report.png"
    assert screenshot(page, shot, height=10_000) == []  # the whole page
    print(f"screenshot: {shot}")


def test_report_without_a_warehouse_says_how_to_build_one(tmp_path):
    result = runner.invoke(app, ["report", "--database", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)],
                           env=ENV)
    assert result.exit_code == 2
    assert "No DuckDB warehouse at" in result.output and "product-metrics demo" in result.output


# --- hand-made tables: the arithmetic of the charts and the panels for what is missing ---------------

AI_COLUMNS = ("activity_date date, model_version text, feature text, suggestions int, accepted int, edited int, "
              "rejected int, ignored int, escalated int, acceptance_rate double, correction_rate double, "
              "hitl_rate double, latency_p50_ms double, latency_p90_ms double, latency_p99_ms double, "
              "cost_usd double, cost_per_1k_suggestions_usd double")
# (date, version, feature, suggestions, accepted, edited, p50, p90, p99); 2026-06-01 is a Monday.
AI_ROWS = [
    ("2026-06-01", "v1", "chat", 10, 6, 2, 100, 200, 300),
    ("2026-06-02", "v1", "chat", 30, 9, 1, 110, 210, 310),
    ("2026-06-01", "v1", "code", 20, 5, 5, 400, 500, 600),
    ("2026-06-08", "v1", "chat", 4, 1, 3, 120, 220, 320),
    ("2026-06-08", "v2", "chat", 8, 0, 0, 90, 190, 290),
]
LIFECYCLE_ROWS = [("2026-06-01", "new", 5), ("2026-06-01", "returning", 10), ("2026-06-01", "resurrecting", 2),
                  ("2026-06-01", "dormant", 3), ("2026-06-08", "returning", 12), ("2026-06-08", "dormant", 4)]


@pytest.fixture
def handmade_warehouse(tmp_path) -> Path:
    import duckdb

    path = tmp_path / "handmade.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics")
        con.execute(f"create table metrics.fct_ai_suggestions_daily ({AI_COLUMNS})")
        for day, version, feature, n, accepted, edited, p50, p90, p99 in AI_ROWS:
            con.execute("insert into metrics.fct_ai_suggestions_daily values "
                        "(?, ?, ?, ?, ?, ?, 0, 0, 0, null, null, null, ?, ?, ?, 0, null)",
                        [day, version, feature, n, accepted, edited, p50, p90, p99])
        con.execute("create table metrics.fct_user_lifecycle_weekly (week_start date, lifecycle_status text, users int)")
        con.executemany("insert into metrics.fct_user_lifecycle_weekly values (?, ?, ?)", LIFECYCLE_ROWS)
        con.execute("create table metrics.fct_nps_monthly (month_start date, responses int, promoters int, "
                    "passives int, detractors int, nps double, nps_standard_error double, nps_margin_of_error_95 double)")
        con.execute("insert into metrics.fct_nps_monthly values ('2026-05-01', 10, 5, 3, 2, 30, 10, 19.6), "
                    "('2026-06-01', 4, 1, 1, 2, -25, 20, 39.2)")
    return path


def traces(figure, name: str, axis: str) -> dict:
    (trace,) = [t for t in figure.data if t.name == name and (t.yaxis or "y") == axis]
    return dict(zip((str(x)[:10] for x in trace.x), trace.y, strict=True))


def test_ai_rates_are_ratios_of_weekly_sums_and_latency_is_not_averaged(handmade_warehouse):
    with Warehouse.open(handmade_warehouse) as warehouse:
        figure = charts.ai_suggestions(warehouse)
    # v1, week of 2026-06-01: accepted 6+9+5 = 20 of 10+30+20 = 60 suggestions (the mean of the daily
    # rates, (0.6+0.3+0.25)/3 = 0.383, would be wrong); edited 2+1+5 = 8 of 20+8 = 28 accepted or edited.
    acceptance, correction = traces(figure, "v1", "y"), traces(figure, "v1", "y2")
    assert acceptance == pytest.approx({"2026-06-01": 20 / 60, "2026-06-08": 1 / 4})
    assert correction == pytest.approx({"2026-06-01": 8 / 28, "2026-06-08": 3 / 4})
    # v2 accepted and edited nothing: acceptance 0, correction 0/0 = null (a gap, not 0).
    assert traces(figure, "v2", "y")["2026-06-08"] == 0
    assert math.isnan(traces(figure, "v2", "y2")["2026-06-08"])  # drawn as a gap (JSON null)
    # Latency: the table's own daily p90 per model version and feature, never re-aggregated.
    assert traces(figure, "p90 v1 · code", "y3") == {"2026-06-01": 500}
    assert traces(figure, "p90 v1 · chat", "y3") == {"2026-06-01": 200, "2026-06-02": 210, "2026-06-08": 220}


def test_lifecycle_bars_put_dormant_users_below_zero(handmade_warehouse):
    with Warehouse.open(handmade_warehouse) as warehouse:
        figure = charts.lifecycle_bars(warehouse)
    assert [t.name for t in figure.data] == ["new", "returning", "resurrecting", "dormant"]
    assert traces(figure, "dormant", "y") == {"2026-06-01": -3, "2026-06-08": -4}
    assert traces(figure, "returning", "y") == {"2026-06-01": 10, "2026-06-08": 12}
    assert figure.layout.barmode == "relative"


def test_partial_warehouse_draws_what_exists_and_names_what_is_missing(handmade_warehouse, tmp_path):
    out = tmp_path / "report"
    output = invoke("report", "--database", str(handmade_warehouse), "--out", str(out))
    assert "retention: not built: metrics.fct_cohort_retention" in output
    html = (out / "index.html").read_text()
    assert "metric catalog, which is not built" in html and "run <code>product-metrics catalog</code>" in html
    assert 'data-missing-table="audit.dq_results"' in html

    loaded = load_page(out / "index.html")
    assert loaded.console == [], loaded.console
    drawn = chart_elements(loaded.dom)
    assert sorted(drawn) == ["ai", "lifecycle", "nps"]
    for key in drawn:
        assert data_marks(drawn[key]) > 0, key
    for table in ("metrics.fct_cohort_retention", "metrics.fct_stickiness_daily", "metrics.fct_k_factor_monthly"):
        assert f'data-missing-table="{table}"' in loaded.dom


def test_nps_error_bars_are_the_95_percent_margin(handmade_warehouse):
    with Warehouse.open(handmade_warehouse) as warehouse:
        figure = charts.nps_with_margin(warehouse)
    (trace,) = figure.data
    assert list(trace.y) == [30, -25]
    assert list(trace.error_y.array) == [19.6, 39.2]


def test_report_is_dated_and_lists_the_charts(handmade_warehouse):
    from product_metrics.report.html import render_report

    with Warehouse.open(handmade_warehouse) as warehouse:
        report = render_report(warehouse, built_at=dt.datetime(2026, 7, 1, 8, 30))
    assert "Built 2026-07-01 08:30 UTC" in report.html
    assert report.drawn == ["nps", "ai", "lifecycle"]
    assert report.not_drawn["quality"] == "not built: audit.dq_results"


def test_overdue_reviews_are_a_warning_note_as_of_the_report_date(handmade_warehouse):
    import duckdb

    from product_metrics.report.data import Definition
    from product_metrics.report.html import render_report

    types = {"latest_period": "date", "next_review_due": "date", "threshold_warn": "double",
             "threshold_alert": "double", "latest_value": "double"}
    columns = ", ".join(f"{name} {types.get(name, 'text')}" for name in Definition.__dataclass_fields__)
    with duckdb.connect(str(handmade_warehouse)) as con:
        con.execute(f"create table metrics.metric_catalog ({columns})")
        con.executemany("insert into metrics.metric_catalog (metric_name, owner_name, status, next_review_due) "
                        "values (?, ?, ?, ?)", [("dau", "Product Analytics", "certified", "2026-12-01"),
                                                ("old_dau", "Product Analytics", "deprecated", "2026-12-01"),
                                                ("nps", "Customer Insights", "draft", "2027-01-01"),
                                                ("notes", None, "draft", None)])

    def note(built_at: dt.datetime) -> list[str]:
        with Warehouse.open(handmade_warehouse) as warehouse:
            html = render_report(warehouse, built_at=built_at).html
        found = re.search(r'<details class="reviews-overdue".*?</details>', html, re.DOTALL)
        return re.findall(r"<li>(.*?)</li>", found.group(0)) if found else []

    assert note(dt.datetime(2026, 12, 1, 23)) == []  # due today is not overdue yet
    assert note(dt.datetime(2026, 12, 2)) == ["review overdue: dau (owner: Product Analytics) was due 2026-12-01"]
    assert note(dt.datetime(2027, 12, 6)) == [  # a year ahead: deprecated metrics still need no review
        "review overdue: dau (owner: Product Analytics) was due 2026-12-01",
        "review overdue: nps (owner: Customer Insights) was due 2027-01-01"]


def test_retention_triangle_marks_incomplete_cells(tmp_path):
    import duckdb

    path = tmp_path / "retention.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics")
        con.execute("create table metrics.fct_cohort_retention (cohort_granularity text, cohort_start date, "
                    "period_number int, cohort_size int, retained_users int, retention_rate double, "
                    "retained_or_after_users int, unbounded_retention_rate double, is_complete boolean)")
        # Two weekly cohorts: the older one has weeks 0-2 (week 2 still running), the newer weeks 0-1.
        con.executemany("insert into metrics.fct_cohort_retention values ('week', ?, ?, ?, ?, ?, 0, 0, ?)", [
            ("2026-06-01", 0, 10, 9, 0.9, True), ("2026-06-01", 1, 10, 5, 0.5, True),
            ("2026-06-01", 2, 10, 2, 0.2, False), ("2026-06-08", 0, 4, 4, 1.0, True),
            ("2026-06-08", 1, 4, 1, 0.25, False)])
        con.execute("insert into metrics.fct_cohort_retention values ('month', '2026-06-01', 0, 14, 14, 1, 0, 0, false)")
    with Warehouse.open(path) as warehouse:
        figure = charts.retention_heatmap(warehouse)
    complete, incomplete = figure.data
    assert list(complete.y) == ["2026-06-01 (n=10)", "2026-06-08 (n=4)"] and list(complete.x) == [0, 1, 2]
    # A triangle: the newer cohort has no week 2; every cell is in exactly one of the two layers.
    assert [list(row) for row in complete.z] == [[0.9, 0.5, None], [1.0, None, None]]
    assert [list(row) for row in incomplete.z] == [[None, None, 0.2], [None, 0.25, None]]
    assert [list(row) for row in incomplete.text] == [["", "", "20%*"], ["", "25%*", ""]]
    assert incomplete.name.startswith("incomplete") and not incomplete.showscale


# --- a report a product manager reads: opened in Chromium and measured ------------------------------

# Every value shown carries its unit, with its unit's decimals: $68.56 (cents under $1,000), 2.2 months.
VALUE = re.compile(
    r"^(?:[▲▼■] )?[+−-]?(?:\$\d{1,3}(?:,\d{3})+|\$\d{1,3}\.\d{2}|[\d,]+(?:\.\d)?(?:%| pp| pts| users| months| days"
    r"| hours| ms| [a-zA-Z][\w ]*)|\d+\.\d{2}×)(?: \([+−-][\d,]+\.\d%\))?$")
NORTH_STAR_TARGET = "pm_north_star_users 93 users, 40% of the way to 150 users by 2026-09-30: off track."


def _fake_parallel_parts(path: Path) -> None:
    """Stated values where the report's reading is checked: the period-over-period columns of
    fct_metric_values for the signups of the week of 2026-06-22 (121 against a stated previous 100) and
    the north star's drivers (the drivers stage writes that table; a plain dbt build does not)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        for column in ("previous_value", "change", "relative_change", "year_ago_value",
                       "year_over_year_relative_change"):
            con.execute(f"alter table metrics.fct_metric_values add column if not exists {column} double")
        con.execute("""update metrics.fct_metric_values set previous_value = 100, change = 21, relative_change = 0.21
                       where metric_name = 'signups' and period_grain = 'week' and dimension_name = 'overall'
                         and period_start = '2026-06-22'""")
        con.execute("""create table metrics.fct_metric_change_drivers (metric_name text, period_grain text,
            from_period_start date, to_period_start date, analysis text, dimensions text, segment text,
            depth integer, from_value double, to_value double, difference double, expected_value double,
            unexpected_difference double, relative_unexpected_difference double, support double,
            mix_effect double, rate_effect double, contribution double, contribution_share double,
            driver_rank integer)""")
        # 78 -> 93 users: +10 from weekly actives, +5 from their north-star share (sums to +15).
        con.executemany("insert into metrics.fct_metric_change_drivers (metric_name, period_grain, from_period_start, "
                        "to_period_start, analysis, dimensions, segment, depth, from_value, to_value, difference, "
                        "unexpected_difference, contribution, contribution_share, driver_rank) "
                        "values ('pm_north_star_users', 'week', '2026-06-15', '2026-06-22', ?, ?, ?, ?, ?, ?, ?, ?, "
                        "?, ?, ?)", [
                            ("tree", None, "pm_weekly_active_users", 1, 450, 480, 30, None, 10, 10 / 78, 1),
                            ("tree", None, "pm_north_star_share_of_active", 1, 0.17, 0.19, 0.02, None, 5, 5 / 78, 2),
                            ("segment", "country, platform", "country=BR, platform=android", 2, 20, 10, -10, -12,
                             None, None, 1)])


@pytest.fixture(scope="module")
def readable_report(demo_warehouse, tmp_path_factory) -> Path:
    import shutil
    from types import SimpleNamespace

    from product_metrics.report.html import write_report

    directory = tmp_path_factory.mktemp("readable")
    path = directory / "warehouse.duckdb"
    shutil.copy(demo_warehouse, path)
    _fake_parallel_parts(path)
    target = SimpleNamespace(metric="pm_north_star_users", target_value=150.0, by="2026-09-30", status="off_track",
                             progress=0.4, required_pace=3.1, projected_value=131.0, summary=NORTH_STAR_TARGET)
    page, _ = write_report(directory / "report", path, built_at=dt.datetime(2026, 7, 1, 8), targets=[target])
    return page


def test_the_north_star_comes_first_with_its_chart_change_target_and_drivers(readable_report):
    from ..browser import measure_layout

    layout = measure_layout(readable_report)
    first = layout["sections"][0]
    assert first["id"] == "panel-north-star" and first["has_chart"], [s["id"] for s in layout["sections"]]
    assert layout["charts"]["north-star-chart"]["drawn"][0] == "Weekly core users (north star)"
    text = first["text"]
    # 93 users in the week of 2026-06-22 (the demo's incident week), 78 the week before (fct_north_star_weekly).
    for shown in ("93 users", "week of 2026-06-22", "▲ +15 users (+19.2%) vs previous week", "off track",
                  "target 150 users by 2026-09-30", "pace needed +3.1 users per week", NORTH_STAR_TARGET,
                  "pm_weekly_active_users: +10 users (+12.8 points of the change)",
                  "country=BR, platform=android: −12 users unexpected"):
        assert shown in text, (shown, text)
    html = readable_report.read_text()
    assert "target 150 users by 2026-09-30" in html.split('id="north-star-chart"')[1]  # the target line


def test_kpis_and_guardrails_follow_the_tree_with_one_activation_rate(readable_report):
    dom = load_page(readable_report).dom
    tiles = re.findall(r'<article class="tile role-(\w+)" data-metric="(\w+)">', dom)
    kpis = [name for role, name in tiles if role == "kpi"]
    # The tree's KPIs with a value in the demo, in the tree's (name) order; the conversion metric
    # pm_activation_rate is a diagnostic, so one activation rate remains.
    assert kpis == ["pm_k_factor", "pm_new_customers", "pm_product_activation_rate", "pm_retention_rate",
                    "pm_signups", "pm_wau"]
    labels = re.findall(r'<article class="tile role-kpi"[^>]*><h3>([^<]*)</h3>', dom)
    assert sum("activation rate" in label.lower() for label in labels) == 1, labels
    assert [role for role, _ in tiles] == sorted((role for role, _ in tiles), key=["kpi", "guardrail"].index)
    # Signups read their change from fct_metric_values' period-over-period columns (121 against 100).
    signups = re.search(r'<article class="tile role-kpi" data-metric="pm_signups">.*?</article>', dom, re.DOTALL)
    assert "▲ +21 users (+21.0%)</span> vs previous week" in signups.group(0)


def test_every_value_has_a_unit_nothing_overflows_nothing_is_empty(readable_report):
    from ..browser import measure_layout

    layout = measure_layout(readable_report)
    assert layout["overflow"] == []
    assert layout["chart_text_outside"] == []  # axis titles and tick labels inside their chart
    bad = [v for v in layout["values"] if not VALUE.match(v)]
    assert layout["values"] and bad == [], bad
    assert "2.1 months" in layout["values"] and "$56.83" in layout["values"]  # payback, CAC of June
    for section in layout["sections"]:
        assert section["text_length"] > len(section["title"]) + 40, section
        for empty in ("No catalog metric lives", "No rows yet", "holds no breach"):
            assert empty not in section["text"], (section["id"], empty)
    for chart, found in layout["charts"].items():
        named = [t["name"] for t in found["legend_traces"]]
        assert sorted(found["legend"]) == sorted(named), (chart, found)   # a legend entry per drawn series
        assert set(named) <= set(found["drawn"]), chart
        colours = [t["color"] for t in found["legend_traces"]]
        assert len(set(colours)) == len(colours), (chart, colours)       # no two series alike
    # The LTV/CAC chart draws the two channels with a ratio in the demo, and lists only those.
    assert sorted(layout["charts"]["chart-ltv_cac"]["legend"]) == ["paid_search", "paid_social"]
    # Weekly cohorts: the 12 latest only; the monthly view keeps all five months.
    assert screenshot(readable_report, ARTIFACTS / "report-top.png", height=2600) == []


def test_retention_heatmap_keeps_the_recent_weekly_cohorts(tmp_path):
    import duckdb

    path = tmp_path / "cohorts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics")
        con.execute("create table metrics.fct_cohort_retention (cohort_granularity text, cohort_start date, "
                    "period_number int, cohort_size int, retained_users int, retention_rate double, "
                    "is_complete boolean)")
        # 20 weekly cohorts from 2026-01-05: only the 12 latest (from 2026-03-02) are drawn.
        con.execute("insert into metrics.fct_cohort_retention select 'week', date '2026-01-05' + cast(7 * i as integer), 0, 10, 10, 1, "
                    "true from range(20) as t(i)")
    with Warehouse.open(path) as warehouse:
        figure = charts.retention_heatmap(warehouse)
    labels = list(figure.data[0].y)
    assert len(labels) == 12 and labels[0] == "2026-03-02 (n=10)" and labels[-1] == "2026-05-18 (n=10)"


def test_catalog_tree_is_readable_with_one_activation_rate_kpi(demo_warehouse):
    from ..browser import measure_layout

    page = demo_warehouse.parent / "catalog" / "index.html"
    layout = measure_layout(page)
    sizes = layout["tree_font_px"]
    assert sizes and min(size for _, size in sizes) >= 11, sorted(sizes, key=lambda s: s[1])[:5]
    assert layout["overflow"] == []
    tree_text = " ".join(text for text, _ in sizes)
    assert tree_text.count("Activation rate") == 1, tree_text
    assert "Signup-to-customer conversion" in tree_text  # the conversion metric, named for what it is
    html = page.read_text()
    assert "issue 8" not in html.lower() and "the contract has no" not in html
    assert screenshot(page, ARTIFACTS / "catalog.png", height=3000) == []
