"""Shared fixtures: warehouses built once per test session (dbt is the slow part)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from product_metrics.dbt import DbtRun, run_dbt
from product_metrics.project import Project
from product_metrics.warehouses.postgres import PostgresSettings, ensure_login_role

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


# --- PostgreSQL ----------------------------------------------------------------------------------
# scripts/start_postgres.sh (run by `make test` and `make test-postgres`) starts a server on
# 127.0.0.1:54329; PRODUCT_METRICS_TEST_POSTGRES_URL points elsewhere. Without a server the
# PostgreSQL tests are skipped, except under CI (CI=true), where they fail.
POSTGRES_URL_ENV = "PRODUCT_METRICS_TEST_POSTGRES_URL"
POSTGRES_DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:54329/postgres"
# dbt runs as an ordinary role (not a superuser), as in production: it owns its databases and may
# create the BI role.
DBT_USER, DBT_PASSWORD = "product_metrics_dbt", "product_metrics_dbt"


def skip_or_fail(message: str) -> None:
    """A missing test dependency: skip the test, or fail it under CI (CI=true), where nothing may be missing."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin() -> PostgresSettings:
    """The PostgreSQL server's admin login (databases, roles), with the dbt role ready to log in."""
    psycopg2 = pytest.importorskip("psycopg2")
    settings = PostgresSettings.from_url(os.environ.get(POSTGRES_URL_ENV, POSTGRES_DEFAULT_URL))
    try:
        settings.connect().close()
    except psycopg2.OperationalError as error:
        skip_or_fail(f"No PostgreSQL at {settings.host}:{settings.port} ({str(error).strip()}): "
                     f"start one with scripts/start_postgres.sh or set {POSTGRES_URL_ENV}")
    ensure_login_role(settings, DBT_USER, DBT_PASSWORD, attributes="createrole")
    return settings


def sqlalchemy_url(settings: PostgresSettings) -> str:
    """The SQLAlchemy URL of a login and database."""
    from urllib.parse import quote

    return (f"postgresql+psycopg2://{quote(settings.user, safe='')}:{quote(settings.password, safe='')}"
            f"@{settings.host}:{settings.port}/{settings.dbname}")
