#!/usr/bin/env bash
# Make a local Spark session possible: Java 17 (Debian's openjdk-17-jre-headless, installed with
# apt-get when missing and running as root) and pyspark in the venv (dbt-spark[session], pinned in
# pyproject.toml). Spark itself needs no server: dbt-spark's `session` method starts it inside dbt.
# Idempotent; prints what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"

if ! command -v java >/dev/null 2>&1; then
    if [[ "$(id -u)" != "0" ]]; then
        echo "Java is not installed and installing it needs root: apt-get install openjdk-17-jre-headless" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi
# Spark 3.5 runs on Java 8, 11 and 17.
JAVA_VERSION="$(java -version 2>&1 | head -n 1)"
if ! "${BIN}/python" -c "import pyspark, dbt.adapters.spark" 2>/dev/null; then
    echo "pyspark or dbt-spark is missing from ${BIN}: run make install" >&2
    exit 1
fi
echo "Spark ready: $("${BIN}/python" -c 'import pyspark; print("pyspark", pyspark.__version__)') on ${JAVA_VERSION}"
