"""`product-metrics experiments [EXPERIMENT_ID] [--write]` on hand-made marts: the printed readout,
one experiment by id, the one-line errors (unknown id, no experiments), and --write."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from product_metrics.cli import app
from product_metrics.experiments.tables import Marts

from .marts import create_marts, write_manifest
from .test_tables import MARTS

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture
def warehouse(tmp_path):
    def make(marts: Marts = MARTS) -> list[str]:
        path = tmp_path / "warehouse.duckdb"
        with duckdb.connect(str(path)) as connection:
            create_marts(connection, marts)
        return ["--database", str(path), "--manifest-dir", str(write_manifest(tmp_path / "target"))]
    return make


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["experiments", *args], env=ENV)
    assert result.exit_code == code, result.output
    return result.output


def test_prints_each_experiments_readout(warehouse):
    output = invoke(*warehouse())
    for line in ("gb lifts the goal",
                 "owner: Ana Ruiz <ana@example.com> · 2026-04-06 → 2026-05-03 · ended, 28 of at least 14 days",
                 ("units: control 3,407 (weight 0.5) · treatment 3,461 (weight 0.5) · SRM p = 0.515 ok; excluded: "
                 "2 in several variations, 1 outside the dates"),
                 ("decision: keep_running — no goal metric wins after holm correction (closest: pm_revenue_usd "
                 "+70.7% (95% CI -3.5% to +145.0%), adjusted p = 0.062)"),
                 "SRM p = 9.7e-06 mismatch"):
        assert line in output, line
    # The metric's row: means with units per arm, the relative effect, its interval, p and adjusted p.
    row = next(line for line in output.splitlines() if "pm_revenue_usd (usd)" in line)
    assert [cell.strip() for cell in row.split("│")] == [
        "treatment", "pm_revenue_usd (usd)", "goal", "0.41 (n 3,407)", "0.7 (n 3,461)", "+70.7%", "-3.5% to +145.0%",
        "0.062", "0.062", ""]
    assert "gb · keep_running" in output and "srm · invalid" in output
    assert output.index("gb · keep_running") < output.index("srm · invalid")


def test_one_experiment_by_id(warehouse):
    output = invoke("srm", *warehouse())
    assert "srm · invalid" in output and "gb lifts the goal" not in output
    assert "decision: invalid — sample ratio mismatch: units control 500, treatment 650 against weights 0.5/0.5" \
        in output.replace("\n", " ")


def test_an_unknown_id_lists_the_known_ones(warehouse):
    output = invoke("nope", *warehouse(), code=2)
    assert output == "✗ No experiment 'nope': the known ids are gb, srm.\n"


def test_without_experiments_says_how_to_define_them(warehouse):
    output = invoke(*warehouse(Marts([], [], [])))
    assert output == ("No experiments are defined: list them in var product_metrics__experiments of your "
                      "dbt_project.yml (README, Experiments) and run `product-metrics build`.\n")


def test_write_also_writes_the_tables(warehouse, tmp_path):
    arguments = warehouse()
    invoke(*arguments)  # without --write: nothing is written
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.sql("select count(*) from information_schema.tables where table_name in "
                              "('fct_experiment_results', 'fct_experiment_daily')").fetchall() == [(0,)]
    output = invoke("--write", *arguments)
    assert ("✓ 2 rows written to metrics.fct_experiment_results, 3 to metrics.fct_experiment_daily"
            in output)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.sql("select experiment_id, decision from metrics.fct_experiment_results "
                              "order by 1").fetchall() == [("gb", "keep_running"), ("srm", "invalid")]


def test_a_missing_warehouse_is_one_line(tmp_path):
    output = invoke("--database", str(tmp_path / "none.duckdb"), code=2)
    assert output.startswith("✗ No DuckDB warehouse at") and output.count("\n") <= 2


def test_unmeasured_guardrails_and_an_experiment_without_statistics_are_shown(warehouse):
    from .test_tables import WAITING_MARTS, WAITING_REASON

    output = invoke("waiting", *warehouse(WAITING_MARTS))
    assert "waiting · keep_running" in output
    assert "units: control 40 (weight 0.4) · treatment 60 (weight 0.6) · SRM p = 1.000 ok" in output
    lines = output.splitlines()
    # No metric rows: no table; what was not measured, then the decision and why.
    assert "│" not in output
    assert lines[-2] == ("not measured: pm_ai_latency_p90_ms (a percentile) — guardrails the readout cannot judge; "
                         "check them elsewhere")
    assert lines[-1] == f"decision: keep_running — {WAITING_REASON}"


def test_the_unmeasured_line_follows_the_metrics_table(warehouse):
    from dataclasses import replace

    from .test_tables import MARTS

    gb = replace(MARTS.experiments[0], unmeasured_guardrails="pm_churn_rate (no per-user value)")
    output = invoke("gb", *warehouse(Marts([gb, MARTS.experiments[1]], MARTS.variations, MARTS.statistics)))
    table_end = max(i for i, line in enumerate(output.splitlines()) if "pm_revenue_usd (usd)" in line)
    lines = output.splitlines()
    assert lines[table_end + 1].startswith("not measured: pm_churn_rate (no per-user value) — ")
    assert lines[table_end + 2].startswith("decision: keep_running — no goal metric wins after holm correction")
    assert lines[table_end + 2].endswith("; not measured: pm_churn_rate (no per-user value)")


def test_write_names_the_decisions_table(warehouse, tmp_path):
    from .test_tables import WAITING_MARTS

    output = invoke("--write", *warehouse(WAITING_MARTS))
    assert ("✓ 2 rows written to metrics.fct_experiment_results, 3 to metrics.fct_experiment_daily, 3 to "
            "metrics.fct_experiment_decisions") in output
