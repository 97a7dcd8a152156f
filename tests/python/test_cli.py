"""The console script: fast help, and the commands a user runs."""

from __future__ import annotations

import subprocess
import sys

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
