#!/usr/bin/env bash
# dbt-score on the package's models: parses the package (the demo project's profile, a scratch
# warehouse) and scores every model. Fails under pyproject.toml's [tool.dbt-score] fail_project_under.
# Usage: scripts/dbt_score.sh [dbt-score lint options, e.g. --format json]
# Env: BIN (the venv's bin, default .venv/bin), LINT_TARGET (the dbt target path, default target/lint).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${BIN:-.venv/bin}")
target=$(realpath -m "${LINT_TARGET:-target/lint}")
mkdir -p "$target"
export DBT_PROFILES_DIR=integration_tests DBT_TARGET_PATH="$target" PRODUCT_METRICS_DUCKDB_PATH="$target/lint.duckdb"
"$BIN/dbt" parse --quiet
# The models by name: a dbt selector (resource_type:model) would drop the versioned ones (fct_*.v1).
mapfile -t select < <("$BIN/python" -c '
import json, sys
manifest = json.load(open(sys.argv[1]))
for node in manifest["nodes"].values():
    if node["resource_type"] == "model" and node["package_name"] == manifest["metadata"]["project_name"]:
        print("--select", node["name"], sep="\n")
' "$target/manifest.json")
"$BIN/dbt-score" lint --manifest "$target/manifest.json" "${select[@]}" "$@"
