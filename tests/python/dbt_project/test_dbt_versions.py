"""The dbt-core versions the package supports: dbt_project.yml's require-dbt-version, the README's
statement of the tested versions, and a real build on the oldest supported minor.

The build installs that minor's pinned dbt (scripts/install_dbt_minor.sh, requirements/dbt-<minor>.txt)
into .venv-dbt-<minor>: without a package index it is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]


def require_dbt_version() -> tuple[str, str]:
    """The lower and upper bound of dbt_project.yml's require-dbt-version, e.g. ('1.10.8', '1.12.0')."""
    spec = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["require-dbt-version"]
    assert isinstance(spec, list) and len(spec) == 2, f"require-dbt-version must be a range: {spec!r}"
    lower = re.fullmatch(r">=(\d+\.\d+\.\d+)", spec[0])
    upper = re.fullmatch(r"<(\d+\.\d+\.\d+)", spec[1])
    assert lower and upper, f'require-dbt-version must read [">=X.Y.Z", "<X.Y.Z"]: {spec!r}'
    return lower.group(1), upper.group(1)


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def oldest_minor() -> str:
    return minor(require_dbt_version()[0])


def test_readme_states_the_range_of_require_dbt_version():
    lower, upper = require_dbt_version()
    statement = re.search(r"Tested\s+on\s+dbt-core\s+(\d+\.\d+\.\d+)\s+\(the\s+oldest\s+supported\)\s+and\s+(\d+\.\d+)",
                          (REPO_ROOT / "README.md").read_text())
    assert statement, "README: no line 'Tested on dbt-core X.Y.Z (the oldest supported) and X.Y'"
    oldest, newest = statement.groups()
    assert oldest == lower, f"README tests {oldest}, require-dbt-version starts at {lower}"
    major, newest_minor = (int(part) for part in newest.split("."))
    assert upper == f"{major}.{newest_minor + 1}.0", f"README's newest {newest} is not the last below <{upper}"


def test_the_oldest_minor_has_a_lock_pinning_the_lower_bound():
    lower, _ = require_dbt_version()
    lock = REPO_ROOT / "requirements" / f"dbt-{minor(lower)}.txt"
    assert lock.is_file(), f"no lock for the oldest supported minor: {lock.relative_to(REPO_ROOT)}"
    pins = dict(line.split("==", 1) for line in lock.read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    assert pins.get("dbt-core") == lower
    assert {"dbt-duckdb", "dbt-postgres"} <= pins.keys()


@dataclass
class ProjectUnderTest:
    """A dbt project to build with another dbt, and how: its directory, profiles directory, environment."""

    project_dir: Path
    profiles_dir: Path
    env: dict[str, str] = field(default_factory=dict)


def project_under_test(tmp_path: Path) -> ProjectUnderTest:
    """The dbt project built on the oldest supported dbt: the integration host project (Acme's own
    project installing the package with `local:`), on its own DuckDB file with small demo data as its
    app tables. The newest minor builds it in test_host_project.py."""
    import duckdb

    from product_metrics.demo_data import generate_demo_data

    from ..host_project import copy_host_project, land_app_tables

    project_dir = copy_host_project(tmp_path / "acme_analytics")
    database = tmp_path / "acme.duckdb"
    generate_demo_data(database, dirty=False, users=300, days=60, seed=7)
    with duckdb.connect(str(database)) as connection:
        land_app_tables(connection.execute)
        connection.execute("drop schema raw cascade")
    env = {"ACME_DUCKDB_PATH": str(database)}
    return ProjectUnderTest(project_dir=project_dir, profiles_dir=project_dir, env=env)


def install_dbt_minor(version_minor: str) -> Path:
    """.venv-dbt-<minor>/bin/dbt, installed by scripts/install_dbt_minor.sh (skip when it cannot
    install here; fail under CI=true)."""
    try:
        result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "install_dbt_minor.sh"), version_minor],
                                check=False, capture_output=True, text=True, timeout=900)
        failure = None if result.returncode == 0 else (
            "\n".join(result.stderr.splitlines()[-15:]) or f"exit code {result.returncode}")
    except subprocess.TimeoutExpired:
        failure = "timed out after 15 minutes"
    if failure is not None:
        message = f"dbt-core {version_minor} does not install (scripts/install_dbt_minor.sh): {failure}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REPO_ROOT / f".venv-dbt-{version_minor}" / "bin" / "dbt"


def run_with(dbt: Path, project: ProjectUnderTest, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **project.env, "DBT_PROFILES_DIR": str(project.profiles_dir),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(dbt), *args, "--project-dir", str(project.project_dir)],
                          cwd=project.project_dir, env=env, check=False, capture_output=True, text=True,
                          timeout=1800)


def test_the_project_builds_on_the_oldest_supported_dbt(tmp_path):
    lower, _ = require_dbt_version()
    dbt = install_dbt_minor(minor(lower))
    project = project_under_test(tmp_path)
    if (project.project_dir / "packages.yml").is_file() or (project.project_dir / "dependencies.yml").is_file():
        deps = run_with(dbt, project, "deps")
        assert deps.returncode == 0, deps.stdout[-3000:]

    build = run_with(dbt, project, "build")

    assert (project.project_dir / "target" / "run_results.json").is_file(), build.stdout[-3000:]
    results = json.loads((project.project_dir / "target" / "run_results.json").read_text())
    assert results["metadata"]["dbt_version"] == lower, "the build did not run on the pinned oldest dbt"
    # Saved queries and exposures are no-ops; anything else must have run and passed.
    failed = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}" for r in results["results"]
              if r["status"] not in ("success", "pass", "no-op")]
    assert build.returncode == 0 and not failed, "\n".join(failed[:20]) + "\n" + build.stdout[-3000:]
    unit_tests = [r for r in results["results"] if r["unique_id"].startswith("unit_test.")]
    models = [r for r in results["results"] if r["unique_id"].startswith("model.")]
    assert unit_tests and models, "the build ran no model or no unit test"
