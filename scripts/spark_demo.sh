#!/usr/bin/env bash
# The demo on Apache Spark: Java and pyspark checked, generated demo data in Spark schema raw, and
# `dbt build` on the spark target (a local session; tables under $PRODUCT_METRICS_SPARK_DIR, default
# warehouse/spark). Arguments go to the loader (e.g. --users 5000 --dirty).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"

bash scripts/start_spark.sh
# shellcheck source=scripts/spark_env.sh
source scripts/spark_env.sh
"${BIN}/python" -m product_metrics.warehouses.spark load-demo "$@"
DBT_PROFILES_DIR="${PWD}" "${BIN}/dbt" build
echo "Metric tables: Spark database metrics under ${PRODUCT_METRICS_SPARK_DIR}" \
     "(read them with: ${BIN}/python -m product_metrics.warehouses.spark export --schema metrics --to DIR)"
