"""The refresh window of the data tests works with the package installed in another dbt project,
with no `dispatch:` config there: the windowed tests are the package's own generic tests, not an
override of a dbt macro (which dbt calls only from the root project)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO_ROOT

DBT = Path(sys.executable).parent / "dbt"


def test_windowed_tests_filter_in_a_host_project(tmp_path):
    host = tmp_path / "host"
    (host / "models").mkdir(parents=True)
    (host / "models" / "host_model.sql").write_text("select 1 as id\n")
    (host / "dbt_project.yml").write_text(
        "name: host\nversion: '1.0.0'\nconfig-version: 2\nprofile: host\nmodel-paths: [models]\n")
    (host / "profiles.yml").write_text(
        "host:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'host.duckdb'}\n      schema: main\n")
    (host / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    env = {**os.environ, "DBT_PROFILES_DIR": str(host), "PRODUCT_METRICS_TEST_WINDOW_START": "2026-06-20"}
    env.pop("PRODUCT_METRICS_DUCKDB_PATH", None)

    def dbt(*args: str) -> None:
        result = subprocess.run([str(DBT), *args], cwd=host, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]

    dbt("deps")
    dbt("compile", "-s",
        "stg_raw__events,test_type:generic", "stg_raw__users,test_type:generic")
    compiled = host / "target" / "compiled" / "product_metrics" / "models" / "staging" / "raw" / "_raw__models.yml"
    windowed = (compiled / "unique_in_refresh_window_stg_raw__events_event_id__event_date.sql").read_text()
    assert "event_date >= cast('2026-06-20' as date)" in windowed
    whole = (compiled / "unique_stg_raw__users_user_id.sql").read_text()
    assert "2026-06-20" not in whole and "where user_id is not null" in whole
