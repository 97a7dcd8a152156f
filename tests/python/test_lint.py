"""The house style is checked, not hoped for: sqlfluff (dbt templater) on the SQL and on the SQL the
macros generate, ruff and mypy on Python, dbt-score on the models' documentation and tests."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def sqlfluff_lint(tmp_path, *options):
    # The dbt templater compiles the project, which opens the warehouse: give it a scratch one.
    env = {**os.environ, "DBT_PROFILES_DIR": str(REPO_ROOT / "integration_tests"),
           "PRODUCT_METRICS_DUCKDB_PATH": str(tmp_path / "lint.duckdb")}
    return subprocess.run([str(BIN / "sqlfluff"), "lint", "models", "analyses", *options],
                          cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True)


def test_sqlfluff_lint_passes_on_models_and_analyses(tmp_path):
    result = sqlfluff_lint(tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_sqlfluff_lint_passes_on_the_sql_macros_generate(tmp_path):
    # sqlfluff skips macro files; the second pass lints the models' templated areas, which is
    # where the macros' SQL is. Without ignore_templated_areas off it would lint nothing new.
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".sqlfluff-macros")
    assert config.getboolean("sqlfluff", "ignore_templated_areas") is False
    result = sqlfluff_lint(tmp_path, "--config", ".sqlfluff-macros")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_passes_on_python():
    result = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "bench"], cwd=REPO_ROOT,
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:]


def test_mypy_passes_on_the_package():
    # pyproject.toml [tool.mypy] says what is checked (src/product_metrics) and how strictly.
    result = subprocess.run([str(BIN / "mypy")], cwd=REPO_ROOT, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_dbt_score_of_the_models_is_at_least_9(tmp_path):
    # scripts/dbt_score.sh parses the package and scores every model (as `make lint` does);
    # pyproject.toml [tool.dbt-score] holds the threshold and the rules it leaves out.
    env = {**os.environ, "BIN": str(BIN), "LINT_TARGET": str(tmp_path)}
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "dbt_score.sh"), "--format", "json"],
                            cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True)
    assert result.stdout.strip(), result.stderr[-3000:]
    report = json.loads(result.stdout)
    models = report["evaluables"]
    assert len(models) >= 50 and all(name.startswith("model.product_metrics.") for name in models)
    failing = "\n".join(
        f"{name} ({model['score']:.1f}): " + "; ".join(
            f"{rule.rsplit('.', 1)[-1]}: {outcome['message']}"
            for rule, outcome in model["results"].items() if outcome["result"] != "OK")
        for name, model in sorted(models.items(), key=lambda item: item[1]["score"]) if model["score"] < 10)
    assert report["project"]["score"] >= 9, f"project score {report['project']['score']:.2f}:\n{failing}"
    assert result.returncode == 0, result.stderr[-3000:]
