#!/usr/bin/env bash
# The demo on PostgreSQL: a local server, a dbt role and database, generated demo data in schema
# raw, `dbt build` on the postgres target. Arguments go to the loader (e.g. --users 5000 --dirty).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"

bash scripts/start_postgres.sh
# shellcheck source=scripts/postgres_env.sh
source scripts/postgres_env.sh
bash scripts/postgres_setup_roles.sh
"${BIN}/python" -m product_metrics.warehouses.postgres load-demo "$@"
DBT_PROFILES_DIR="${PWD}" "${BIN}/dbt" build
echo "Metric tables: schema metrics of ${PRODUCT_METRICS_POSTGRES_DBNAME} on" \
     "${PRODUCT_METRICS_POSTGRES_HOST}:${PRODUCT_METRICS_POSTGRES_PORT} (BI role: bi_reader)"
