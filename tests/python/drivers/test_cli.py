"""`product-metrics explain`: the headline, the ranked segments with units, mix and rate for a ratio,
the metric tree, --json rows of the table's shape, and errors of one or two lines that list what it
can explain (on the fabricated warehouse, tests/python/drivers/fabricated.py)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from product_metrics.cli import app
from product_metrics.drivers.tables import DRIVERS_COLUMNS

from . import fabricated as fab

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def options(tmp_path_factory):
    directory = tmp_path_factory.mktemp("explain")
    database = fab.create_tables(directory / "warehouse.duckdb")
    return ["--database", str(database), "--manifest-dir", str(fab.write_manifest(directory / "target"))]


def explain(options, *args):
    return runner.invoke(app, ["explain", *args, *options], env=ENV)


def test_a_summable_metric_shows_its_headline_and_ranked_segments(options):
    result = explain(options, "average_dau", "--from", "2026-W24", "--to", "2026-06-15", "--by", "country,platform")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "pm_average_dau 600 users → 540 users (−10.0%), week 2026-06-15 vs 2026-06-08"
    assert "Segments by country, platform" in result.output
    for column in ("segment", "from", "to", "difference", "expected", "unexpected", "support"):
        assert column in result.output
    first = next(line for line in lines if line.strip().startswith("1 "))
    assert "−60" in first and ("country=BR" in first or "platform=android" in first)


def test_a_ratio_shows_mix_and_rate_and_the_north_star_its_tree(options):
    ratio = explain(options, "pm_retention_rate", "--from", "2026-W24", "--to", "2026-W25")
    assert ratio.exit_code == 0, ratio.output
    assert ratio.output.startswith("pm_retention_rate 40.0% → 36.0% (−10.0%), week 2026-06-15 vs 2026-06-08")
    assert "Mix and rate by country" in ratio.output
    br = next(line for line in ratio.output.splitlines() if "country=BR" in line)
    for part in ("50.0% → 40.0%", "20.0% → 10.0%", "−1.5 pp", "−4.5 pp", "−6.0 pp"):  # share, rate, effects
        assert part in br, br
    tree = explain(options, "pm_north_star_users", "--from", "2026-W24", "--to", "2026-W25")
    assert tree.exit_code == 0, tree.output
    assert ("Metric tree (product): pm_north_star_users −19.0%: pm_north_star_share_of_active −9.5 points, "
            "pm_weekly_active_users −9.5 points (pm_resurrecting_users −9.5 points, pm_new_users +5.7 points, "
            "pm_returning_users −5.7 points)") in " ".join(tree.output.split())


def test_json_prints_rows_of_the_tables_shape(options):
    result = explain(options, "pm_north_star_users", "--from", "2026-W24", "--to", "2026-W25", "--json", "--top", "2")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all(list(row) == [name for name, _ in DRIVERS_COLUMNS] for row in rows)
    tree = [row for row in rows if row["analysis"] == "tree"]
    assert [(r["segment"], r["driver_rank"]) for r in tree] == [("pm_north_star_share_of_active", 1),
                                                                ("pm_weekly_active_users", 2)]
    assert tree[1]["contribution"] == pytest.approx(-47.5)
    assert {row["from_period_start"] for row in rows} == {"2026-06-08"}
    assert max(row["driver_rank"] for row in rows) == 2


@pytest.mark.parametrize("args, message", [
    (["pm_nps", "--from", "2026-W24", "--to", "2026-W25"],
     ("No cells to explain 'pm_nps': the metrics explain can explain are pm_average_dau, pm_north_star_users, "
     "pm_retention_rate, pm_signups.")),
    (["pm_average_dau", "--from", "2026-W20", "--to", "2026-W25"],
     ("pm_average_dau has no cells for week 2026-W20: the weeks available are 2026-W23, 2026-W24, 2026-W25, 2026-W26 "
     "(latest complete 2026-W25).")),
    (["pm_average_dau", "--from", "2026-05", "--to", "2026-W25"],
     "--from 2026-05 is a month and --to 2026-W25 a week: compare two weeks or two months."),
    (["pm_average_dau", "--from", "2026-06-10", "--to", "2026-W25"],
     "2026-06-10 does not start a week: a week starts on a Monday (the week holding it starts on 2026-06-08)."),
    (["pm_average_dau", "--from", "2026-W24", "--to", "2026-W25", "--by", "city"],
     "Unknown dimension 'city' in --by"),
])
def test_errors_are_one_or_two_lines_saying_what_it_can_do(options, args, message):
    result = explain(options, *args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith("✗ ") and message in text
    assert len(result.output.strip().splitlines()) <= 3  # one or two lines, wrapped at 200 columns


def test_help_names_the_command():
    result = runner.invoke(app, ["--help"], env=ENV)
    assert "explain" in result.output
