"""Fixtures of the semantic-layer tests (this folder's tests); the session-scoped ones are built once.

`mf` reads `<project>/target/semantic_manifest.json` only, so the tests never run it in the
repository (other work shares its target/): they copy the project's dbt sources to a scratch
directory, put a copy of the clean demo warehouse at the path the README assumes
(warehouse/product_metrics.duckdb), and run the README's setup lines there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from product_metrics.project import DEMO_PROJECT_DIR

from ..conftest import REPO_ROOT

README_SECTION = "## Semantic layer (MetricFlow)"
PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", ".dbtignore", "packages.yml", "dependencies.yml",
                   "selectors.yml", "models", "macros", "seeds", "tests", "analyses", "snapshots")
VENV_BIN = Path(sys.executable).parent
# Variables that would point dbt or mf somewhere else than the scratch project.
FOREIGN_ENV = {"PRODUCT_METRICS_DUCKDB_PATH", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET",
               "DBT_TARGET_PATH", "PRODUCT_METRICS_PROJECT_DIR"}


@dataclass(frozen=True)
class ReadmeCommands:
    exports: list[str]
    setup: list[str]
    mf: list[str]


def readme_commands() -> ReadmeCommands:
    """The shell lines of the README section's ```bash blocks: `export`, `dbt` and `mf` lines."""
    text = (REPO_ROOT / "README.md").read_text()
    if README_SECTION not in text:
        return ReadmeCommands([], [], [])
    section = text.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
        lines += [line.strip() for line in block.replace("\\\n", " ").splitlines()]
    return ReadmeCommands(
        exports=[line for line in lines if line.startswith("export ")],
        setup=[line for line in lines if line.startswith("dbt ")],
        mf=[line for line in lines if line.startswith("mf ")],
    )


def shell_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return {**env, **extra}


def run_shell(lines: list[str], cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=cwd, env=shell_env(**extra_env),
                          capture_output=True, text=True, check=False, timeout=600)


@dataclass(frozen=True)
class SemanticProject:
    root: Path
    warehouse: Path
    manifest: Path
    commands: ReadmeCommands


@pytest.fixture(scope="session")
def semantic_project(tmp_path_factory, clean_demo_warehouse) -> SemanticProject:
    """A scratch copy of the package and its demo project over a copy of the clean demo warehouse,
    parsed the README's way in the demo project."""
    checkout = tmp_path_factory.mktemp("semantic_project")
    for name in PROJECT_SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name)
        elif source.is_file():
            shutil.copy2(source, checkout / name)
    # The README's commands run in the demo project, which installs the package from `../`.
    shutil.copytree(REPO_ROOT / DEMO_PROJECT_DIR, checkout / DEMO_PROJECT_DIR,
                    ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb*", "host_project"))
    root = checkout / DEMO_PROJECT_DIR
    warehouse = root / "warehouse" / "product_metrics.duckdb"
    warehouse.parent.mkdir(exist_ok=True)
    shutil.copy2(clean_demo_warehouse, warehouse)
    commands = readme_commands()
    assert commands.setup, f"README section {README_SECTION!r} has no `dbt parse` line"
    result = run_shell(commands.exports + commands.setup, cwd=root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = root / "target" / "semantic_manifest.json"
    assert manifest.is_file(), "the README's setup did not write target/semantic_manifest.json"
    return SemanticProject(root=root, warehouse=warehouse, manifest=manifest, commands=commands)


VALIDATE_CONFIGS = "mf validate-configs"


@pytest.fixture(scope="session")
def mf_runs(semantic_project) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every README `mf` command and `mf validate-configs`, as written, in the scratch project.

    Each `mf` process loads dbt (seconds), so they run concurrently, each on its own copy of the
    warehouse (DuckDB allows one writing process per file, and mf opens it for writing).
    """
    project = semantic_project
    commands = [*project.commands.mf, VALIDATE_CONFIGS]

    def run(index_command: tuple[int, str]) -> tuple[str, subprocess.CompletedProcess[str]]:
        index, command = index_command
        copy = project.root / "runs" / str(index) / "product_metrics.duckdb"
        copy.parent.mkdir(parents=True)
        shutil.copy2(project.warehouse, copy)
        result = run_shell([*project.commands.exports, command], cwd=project.root,
                           PRODUCT_METRICS_DUCKDB_PATH=str(copy))
        return command, result

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        return dict(pool.map(run, enumerate(commands)))
