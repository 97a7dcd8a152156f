"""Shared fixtures: warehouses built once per test session (dbt is the slow part)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from product_metrics.dbt import DbtRun, run_dbt
from product_metrics.project import Project

REPO_ROOT = Path(__file__).resolve().parents[2]
# The demo and test project: a root dbt project that installs the package with `local: ../`.
DEMO_PROJECT = REPO_ROOT / "integration_tests"

# Session fixtures read the artifacts of runs made long before (manifests, run results): the test
# process keeps every run of its own (the pruning tests set their own number).
os.environ.setdefault("PRODUCT_METRICS_KEEP_RUNS", "100000")


def build_warehouse(path: Path, vars: dict[str, object] | None = None, args: tuple[str, ...] = ()) -> DbtRun:
    project = Project(root=DEMO_PROJECT, duckdb_path=path)
    run = run_dbt(project, ["build", *args], vars=vars)
    if not run.success:
        failed = "\n".join(f"{n.unique_id}: {n.message}" for n in run.failed_nodes())
        pytest.fail(f"dbt build failed:\n{failed}\n" + "\n".join(run.error_lines[-20:]))
    return run


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """A fresh clone's `dbt build`: no raw data, so the sample seeds stand in."""
    path = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    build_warehouse(path, vars={"sample_data": True})
    return path


DEMO_SIZE = {"users": 1500, "days": 150, "seed": 7}


def build_demo_warehouse(path: Path, *, dirty: bool):
    """Generated raw data (clean or with every kind of bad row), then `dbt build` on it."""
    from product_metrics.demo_data import generate_demo_data

    result = generate_demo_data(path, dirty=dirty, **DEMO_SIZE)
    build_warehouse(path)
    return result


@pytest.fixture(scope="session")
def clean_demo_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo_clean") / "warehouse.duckdb"
    build_demo_warehouse(path, dirty=False)
    return path


@pytest.fixture(scope="session")
def dirty_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo_dirty") / "warehouse.duckdb"
    return path, build_demo_warehouse(path, dirty=True)
