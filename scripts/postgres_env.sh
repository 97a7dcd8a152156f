# Source me: the postgres dbt target pointed at the local server of scripts/start_postgres.sh.
# Every value can be set beforehand; these are local, throwaway defaults (never production).
export DBT_TARGET=postgres
export PRODUCT_METRICS_POSTGRES_HOST="${PRODUCT_METRICS_POSTGRES_HOST:-127.0.0.1}"
export PRODUCT_METRICS_POSTGRES_PORT="${PRODUCT_METRICS_POSTGRES_PORT:-54329}"
export PRODUCT_METRICS_POSTGRES_USER="${PRODUCT_METRICS_POSTGRES_USER:-product_metrics_dbt}"
export PRODUCT_METRICS_POSTGRES_PASSWORD="${PRODUCT_METRICS_POSTGRES_PASSWORD:-product_metrics_dbt}"
export PRODUCT_METRICS_POSTGRES_DBNAME="${PRODUCT_METRICS_POSTGRES_DBNAME:-product_metrics_demo}"
export PRODUCT_METRICS_POSTGRES_SCHEMA="${PRODUCT_METRICS_POSTGRES_SCHEMA:-public}"
