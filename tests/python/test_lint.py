"""The house style is checked, not hoped for: sqlfluff (dbt templater) on the SQL, ruff on Python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def test_sqlfluff_lint_passes_on_models_and_analyses(tmp_path):
    # The dbt templater compiles the project, which opens the warehouse: give it a scratch one.
    env = {**os.environ, "DBT_PROFILES_DIR": str(REPO_ROOT / "integration_tests"),
           "PRODUCT_METRICS_DUCKDB_PATH": str(tmp_path / "lint.duckdb")}
    result = subprocess.run([str(BIN / "sqlfluff"), "lint", "models", "analyses"],
                            cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_passes_on_python():
    result = subprocess.run([str(BIN / "ruff"), "check", "src", "tests"], cwd=REPO_ROOT,
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:]
