"""Every worked question in analyses/ compiles and runs against a built warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from product_metrics.dbt import run_dbt
from product_metrics.project import Project

from ..conftest import DEMO_PROJECT, REPO_ROOT

ANALYSES = sorted(p.stem for p in (REPO_ROOT / "analyses").glob("*.sql"))


@pytest.fixture(scope="module")
def compiled_analyses(sample_warehouse) -> Path:
    run = run_dbt(Project(DEMO_PROJECT, sample_warehouse), ["compile", "--select", "resource_type:analysis"])
    assert run.success, run.error_lines
    return run.target_path / "compiled" / "product_metrics" / "analyses"


@pytest.mark.parametrize("name", ANALYSES)
def test_analysis_runs(name, compiled_analyses, sample_warehouse):
    sql = (compiled_analyses / f"{name}.sql").read_text()
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, f"analyses/{name}.sql returned no rows on the sample data"
