"""`product-metrics validate` and `product-metrics build`: exit codes, the summary a person reads,
and a failing stage that says what failed and how to see more."""

from __future__ import annotations

import shutil

import duckdb
from typer.testing import CliRunner

from product_metrics.cli import app

runner = CliRunner()


def _copy(source, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(source, target)
    return target


def test_validate_exits_zero_on_the_demo_and_writes_the_docs(clean_demo_warehouse, tmp_path):
    database = _copy(clean_demo_warehouse, tmp_path)
    docs = tmp_path / "docs"
    result = runner.invoke(app, ["validate", "--database", str(database), "--table", "fct_cac_monthly",
                                 "--layer", "metrics", "--docs-dir", str(docs)])
    assert result.exit_code == 0, result.output
    assert "passed data quality" in result.output and "0 critical failures" in result.output
    assert (docs / "index.html").is_file() and str(docs / "index.html") in result.output.replace("\n", "")
    with duckdb.connect(str(database), read_only=True) as connection:
        # rows, freshness and its two anomaly series
        assert connection.execute("select count(*) from audit.dq_results").fetchone()[0] == 4


def test_validate_exits_non_zero_on_a_critical_failure_and_shows_the_failing_values(clean_demo_warehouse, tmp_path):
    database = _copy(clean_demo_warehouse, tmp_path)
    with duckdb.connect(str(database)) as connection:  # the latest month goes missing
        [[latest]] = connection.execute("delete from metrics.fct_ltv_cac_monthly where month_start = "
                                        "(select max(month_start) from metrics.fct_ltv_cac_monthly) "
                                        "returning month_start").fetchall()
    result = runner.invoke(app, ["validate", "--database", str(database), "--table", "fct_ltv_cac_monthly",
                                 "--layer", "metrics", "--no-docs", "--no-store"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    for text in ("metrics.fct_ltv_cac_monthly", "latest_period_reaches_cutoff", "unexpected_rows_expectation",
                 latest.isoformat(), "critical failures", "failed data quality"):
        assert text in result.output, text


def test_validate_explains_a_missing_warehouse(tmp_path):
    result = runner.invoke(app, ["validate", "--database", str(tmp_path / "none.duckdb"), "--no-docs"])
    assert result.exit_code == 2
    assert "could not run" in result.output and "product-metrics build" in result.output


def test_validate_rejects_an_unknown_layer(tmp_path):
    result = runner.invoke(app, ["validate", "--database", str(tmp_path / "x.duckdb"), "--layer", "gold"])
    assert result.exit_code == 2 and "gold" in result.output


def _fake_dbt(monkeypatch, tmp_path, *, success: bool):
    from product_metrics.dbt import DbtRun, NodeResult

    def run_dbt(project, args, vars=None, env=None, on_progress=None):
        status = "success" if success else "error"
        # dbt writes a manifest into the run's target path: an empty one, the demo's schemas.
        (tmp_path / "manifest.json").write_text('{"metadata": {}, "nodes": {}}')
        return DbtRun(args=list(args), returncode=0 if success else 1, target_path=tmp_path,
                      results=[NodeResult("model.product_metrics.fct_nps_monthly", status,
                                          None if success else "Division by zero", 0.1)])

    monkeypatch.setattr("product_metrics.dbt.run_dbt", run_dbt)


def test_build_runs_dbt_then_the_quality_gate_with_one_summary(clean_demo_warehouse, tmp_path, monkeypatch):
    database = _copy(clean_demo_warehouse, tmp_path)
    with duckdb.connect(str(database)) as connection:  # a critical failure for the gate to find
        connection.execute("delete from metrics.fct_ltv_cac_monthly where month_start = "
                           "(select max(month_start) from metrics.fct_ltv_cac_monthly)")
    _fake_dbt(monkeypatch, tmp_path, success=True)
    result = runner.invoke(app, ["build", "--database", str(database), "--no-docs"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    summary = result.output[result.output.index("product-metrics build"):]
    assert "dbt build" in summary and "✓ passed" in summary
    assert "data quality" in summary and "✗ failed" in summary and "metrics.fct_ltv_cac_monthly" in summary
    assert "data quality failed. To see more:" in result.output
    # The gate ran on the run's copy, which stays for a look; the live file is unchanged.
    assert f"product-metrics validate --database {database.parent / '.unpublished' / database.name}" in result.output
    assert "Nothing was published" in result.output
    assert "latest_period_reaches_cutoff" in result.output


def test_build_stops_at_a_failing_dbt_build_and_says_how_to_see_more(clean_demo_warehouse, tmp_path, monkeypatch):
    _fake_dbt(monkeypatch, tmp_path, success=False)
    result = runner.invoke(app, ["build", "--database", str(_copy(clean_demo_warehouse, tmp_path)), "--no-docs"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "dbt build failed" in result.output and "fct_nps_monthly" in result.output
    assert "Division by zero" in result.output
    assert "skipped" in result.output and "an earlier stage failed" in result.output
    assert "dbt build failed. To see more:" in result.output and "run_results.json" in result.output


def test_build_names_its_stages():
    from pathlib import Path

    from product_metrics.pipeline import build_stages
    from product_metrics.project import Project
    from product_metrics.quality.settings import QualitySettings

    stages = build_stages(Project.locate(Path("x.duckdb")), QualitySettings(), None, console=None)
    assert [s.name for s in stages] == ["dbt build", "experiments", "drivers", "data quality", "governance"]


def _manifest_without_an_owner(fixtures, tmp_path):
    """The good fixture manifest with one metric's owner removed (rule missing_field)."""
    manifest, semantic = fixtures.load_good()
    first = next(name for name in (m["name"] for m in manifest["metrics"].values()))
    del fixtures.governance(manifest, first)["owner"]
    return fixtures.write(tmp_path / "broken", manifest, semantic)


def test_build_governance_stage_checks_the_manifest_the_build_wrote(tmp_path):
    import datetime as dt
    import sys
    from pathlib import Path

    from rich.console import Console

    from product_metrics.pipeline import StageResult, governance_stage
    from product_metrics.project import Project

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
    import fixture_manifests as fixtures

    project = Project.locate(tmp_path / "x.duckdb")
    today = dt.date.fromisoformat(fixtures.TODAY)
    console = Console(width=200, record=True)

    good = StageResult("governance")
    assert governance_stage(project, console, good, {"target_path": fixtures.GOOD}, today=today)
    assert good.detail == "all rules pass"

    broken_dir = _manifest_without_an_owner(fixtures, tmp_path)
    broken = StageResult("governance")
    assert not governance_stage(project, console, broken, {"target_path": broken_dir}, today=today)
    assert "governance check --manifest-dir" in broken.how_to_see_more[0]
    assert "owner" in console.export_text()


def test_governance_stage_reports_overdue_reviews_as_warnings(tmp_path):
    """Build and refresh show overdue reviews without failing (rules.CALENDAR_RULES); any other
    violation still fails the stage, and with no warn_rules (what --strict does) an overdue review fails it."""
    import datetime as dt
    import sys
    from pathlib import Path

    from rich.console import Console

    from product_metrics.governance.rules import CALENDAR_RULES
    from product_metrics.pipeline import StageResult, governance_stage
    from product_metrics.project import Project

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
    import fixture_manifests as fixtures

    project = Project.locate(tmp_path / "x.duckdb")
    years_later = dt.date.fromisoformat(fixtures.TODAY) + dt.timedelta(days=3 * 365)  # every review overdue
    console = Console(width=200, record=True)

    strict = StageResult("governance")
    assert not governance_stage(project, console, strict, {"target_path": fixtures.GOOD}, today=years_later,
                                warn_rules=frozenset())

    for warn_rules in (None, CALENDAR_RULES):  # build's default, refresh's explicit rules
        warned = StageResult("governance")
        assert governance_stage(project, console, warned, {"target_path": fixtures.GOOD}, today=years_later,
                                warn_rules=warn_rules)
        assert warned.detail.startswith("no failing rule; ") and "warnings (review_overdue" in warned.detail
    assert "review overdue: revenue_usd (owner: Finance Analytics) was due 2026-12-01" in console.export_text()

    broken_dir = _manifest_without_an_owner(fixtures, tmp_path)
    broken = StageResult("governance")
    assert not governance_stage(project, console, broken, {"target_path": broken_dir}, today=years_later,
                                warn_rules=CALENDAR_RULES)
