"""The integration host project (integration_tests/host_project): Acme's own dbt project that installs
the package. Its app tables are the demo's raw data under Acme's own table and column names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

HOST_PROJECT = REPO_ROOT / "integration_tests" / "host_project"

# Acme's app table: (raw table, its columns as `<raw column> as <app column>`).
APP_TABLES = {
    "accounts": ("users", ("user_id as account_id, signed_up_at as created_at, acquisition_channel as utm_channel, "
                          "country as country_code, platform as device")),
    "app_events": ("events", "event_id as id, user_id as account_id, occurred_at as happened_at, event_name as name"),
    "purchases": ("orders", ("order_id as purchase_id, user_id as account_id, ordered_at as purchased_at, "
                            "amount_usd as total_usd")),
    "ad_spend": ("marketing_spend", "spend_date as day, channel, campaign, spend_usd as cost_usd"),
    "nps_survey": ("nps_responses", "response_id as id, user_id as account_id, responded_at as answered_at, score"),
    "referrals": ("invites", ("invite_id as id, inviter_user_id as sender_account_id, "
                             "invitee_user_id as joined_account_id, sent_at")),
    "ai_suggestions": ("ai_suggestions", "*"),
    "model_evals": ("model_predictions", ("prediction_id as id, model_version, evaluated_at, "
                                         "predicted_label as predicted, actual_label as actual")),
    "ab_exposures": ("experiment_exposures", ("exposure_id as id, experiment_id as experiment_key, variation as arm, "
                                             "user_id as account_id, exposed_at as seen_at")),
}


def land_app_tables(execute, raw_schema: str = "raw") -> None:
    """Create schema `app` from the raw tables with `execute(sql)` (DuckDB or PostgreSQL)."""
    execute("create schema if not exists app")
    for table, (raw_table, columns) in APP_TABLES.items():
        execute(f"drop table if exists app.{table}")
        execute(f"create table app.{table} as select {columns} from {raw_schema}.{raw_table}")


def copy_host_project(destination: Path) -> Path:
    """The host project in a directory of its own, installing the package from this checkout."""
    shutil.copytree(HOST_PROJECT, destination, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs",
                                                                               "*.duckdb", "package-lock.yml"))
    (destination / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    return destination


BIN = Path(sys.executable).parent
# Settings of ours that must not reach the host: it has its own profile, target and warehouse.
OUR_ENV = ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET", "DBT_TARGET_PATH", "PRODUCT_METRICS_DUCKDB_PATH",
           "PRODUCT_METRICS_PROJECT_DIR", "PRODUCT_METRICS_DBT_VARS")
HOST_SCHEMAS = {"analytics", "acme_marts", "acme_staging", "acme_intermediate", "acme_metrics", "acme_audit", "app"}


def host_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in OUR_ENV}
    return {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


def run(host: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=host, env=env or host_env(),
                          capture_output=True, text=True, timeout=1800, check=False)


def tail(result: subprocess.CompletedProcess) -> str:
    return (result.stdout + result.stderr)[-4000:]
