"""The console script: fast help, and the commands a user runs."""

from __future__ import annotations

import subprocess
import sys

import duckdb
from typer.testing import CliRunner

from product_metrics.cli import app

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo-data", "demo", "headline"):
        assert command in result.output


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from product_metrics.cli import app; "
            "heavy = {'duckdb', 'numpy', 'pandas', 'great_expectations', 'dbt'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_headline_reads_a_built_warehouse(sample_warehouse):
    result = runner.invoke(app, ["headline", "--database", str(sample_warehouse)])
    assert result.exit_code == 0, result.output
    assert "NPS" in result.output and "K-factor" in result.output


def test_demo_data_writes_the_raw_tables(tmp_path):
    database = tmp_path / "wh.duckdb"
    result = runner.invoke(app, ["demo-data", "--users", "200", "--days", "60", "--seed", "3", "--dirty",
                                 "--database", str(database)])
    assert result.exit_code == 0, result.output
    assert "planted" in result.output
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    assert tables == {"users", "events", "orders", "marketing_spend", "nps_responses", "invites",
                      "ai_suggestions", "model_predictions", "experiment_exposures"}


def test_demo_generates_builds_and_prints_the_headline(tmp_path):
    result = runner.invoke(app, ["demo", "--users", "400", "--database", str(tmp_path / "wh.duckdb")])
    assert result.exit_code == 0, result.output
    assert "dbt build" in result.output and "passed" in result.output
    for title in ("Retention", "Stickiness", "CAC by channel", "LTV/CAC", "NPS", "K-factor"):
        assert title in result.output
    assert "experiments: 4 experiments" in result.output
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute("select count(distinct experiment_id) from metrics.fct_experiment_results").fetchone()[0] == 4
        explained = con.execute("select count(distinct metric_name) from metrics.fct_metric_change_drivers").fetchone()[0]
    # The change drivers are written, and the north star's latest week is explained in one line.
    assert "change drivers:" in result.output and explained >= 10
    assert "pm_north_star_users" in result.output and "(2026-W26 vs 2026-W25)" in result.output


def test_demo_reports_a_failed_build_and_exits_non_zero(tmp_path, monkeypatch):
    from product_metrics import cli
    from product_metrics.dbt import DbtRun, NodeResult

    def failing_build(project, args, vars=None, env=None, on_progress=None):
        return DbtRun(args=list(args), returncode=1, target_path=tmp_path,
                      results=[NodeResult("model.product_metrics.fct_x", "error", "boom", 0.1)])

    monkeypatch.setattr("product_metrics.dbt.run_dbt", failing_build)
    result = runner.invoke(cli.app, ["demo", "--users", "100", "--database", str(tmp_path / "wh.duckdb")])
    assert result.exit_code == 1
    assert "dbt build failed" in result.output and "fct_x" in result.output
