"""Where the dbt project and the warehouse live, resolved once for every command."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from product_metrics.errors import UserError

PROJECT_DIR_ENV = "PRODUCT_METRICS_PROJECT_DIR"
DUCKDB_PATH_ENV = "PRODUCT_METRICS_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = Path("warehouse") / "product_metrics.duckdb"
# dbt's file log (logs/dbt.log) at `info`: each node's start, result and error. dbt's default,
# `debug`, also writes every SQL statement, which cost 3-4 s of a 10M-event refresh (~12 %); the
# statements are in the run's target path anyway. DBT_LOG_LEVEL_FILE=debug in the caller's
# environment brings them back.
FILE_LOG_LEVEL_ENV = "DBT_LOG_LEVEL_FILE"
DEFAULT_FILE_LOG_LEVEL = "info"
# dbt rotates logs/dbt.log at this size and keeps 5 old files: at most 6 x 5 MB, whatever the schedule.
FILE_LOG_MAX_BYTES_ENV = "DBT_LOG_FILE_MAX_BYTES"
DEFAULT_FILE_LOG_MAX_BYTES = str(5 * 1024 * 1024)


class ProjectNotFound(UserError):
    pass


@dataclass(frozen=True)
class Project:
    """The dbt project directory (holding dbt_project.yml and profiles.yml) and its warehouse."""

    root: Path
    duckdb_path: Path

    @classmethod
    def locate(cls, duckdb_path: str | os.PathLike[str] | None = None) -> Project:
        root = _find_root()
        path = Path(duckdb_path or os.environ.get(DUCKDB_PATH_ENV) or root / DEFAULT_DUCKDB_PATH)
        if not path.is_absolute():
            path = Path.cwd() / path
        return cls(root=root, duckdb_path=path)

    @property
    def warehouse_url(self) -> str | None:
        """The SQLAlchemy URL of a server warehouse the run writes to; None: the DuckDB file."""
        return None

    def published_schema(self, name: str) -> str:
        """Where this run writes the BI-facing schema `name` (`metrics`, `audit`): the schema itself
        here; the pending schema of a PostgreSQL run that publishes (product_metrics.publish)."""
        return name

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: this project's profile and warehouse."""
        env = dict(os.environ)
        env["DBT_PROFILES_DIR"] = str(self.root)
        env[DUCKDB_PATH_ENV] = str(self.duckdb_path)
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        env.setdefault(FILE_LOG_LEVEL_ENV, DEFAULT_FILE_LOG_LEVEL)
        env.setdefault(FILE_LOG_MAX_BYTES_ENV, DEFAULT_FILE_LOG_MAX_BYTES)  # 0 (never rotate) only if asked
        return env


def _is_project(directory: Path) -> bool:
    manifest = directory / "dbt_project.yml"
    return manifest.is_file() and "name: product_metrics" in manifest.read_text()


def _find_root() -> Path:
    """The env var, else the nearest parent of the working directory, else the source checkout."""
    if explicit := os.environ.get(PROJECT_DIR_ENV):
        root = Path(explicit).resolve()
        if not _is_project(root):
            raise ProjectNotFound(f"{PROJECT_DIR_ENV}={explicit} does not hold the product_metrics dbt_project.yml")
        return root
    for directory in [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]:
        if _is_project(directory):
            return directory
    raise ProjectNotFound(
        f"No product_metrics dbt project found: run from its directory or set {PROJECT_DIR_ENV}."
    )
