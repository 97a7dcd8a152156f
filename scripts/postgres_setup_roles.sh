#!/usr/bin/env bash
# Roles and database for running dbt on the local PostgreSQL (scripts/start_postgres.sh starts it):
# a login role for dbt (not a superuser: it owns its database and may create the BI role, as in
# production) and a database it owns. Idempotent. Settings come from the environment:
#
#   PRODUCT_METRICS_POSTGRES_{HOST,PORT,USER,PASSWORD,DBNAME}   the dbt login and its database
#   PRODUCT_METRICS_TEST_POSTGRES_URL                           the administrator (default: the local server's postgres user)
#   PRODUCT_METRICS_BI_PASSWORD                                 optional: let the BI role log in with this password
#   PRODUCT_METRICS_BI_ROLE                                     the BI role (default bi_reader, as var product_metrics__bi_role)
set -euo pipefail

: "${PRODUCT_METRICS_POSTGRES_USER:?set PRODUCT_METRICS_POSTGRES_USER (e.g. source scripts/postgres_env.sh)}"
: "${PRODUCT_METRICS_POSTGRES_PASSWORD:?set PRODUCT_METRICS_POSTGRES_PASSWORD}"
: "${PRODUCT_METRICS_POSTGRES_DBNAME:?set PRODUCT_METRICS_POSTGRES_DBNAME}"
ADMIN_URL="${PRODUCT_METRICS_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:54329/postgres}"
ADMIN_URL="${ADMIN_URL/postgresql+psycopg2:/postgresql:}"  # psql reads libpq URLs, not SQLAlchemy's
BI_ROLE="${PRODUCT_METRICS_BI_ROLE:-bi_reader}"

admin_psql() {
    psql "${ADMIN_URL}" -v ON_ERROR_STOP=1 -q -X "$@"
}

admin_psql -v user="${PRODUCT_METRICS_POSTGRES_USER}" -v password="${PRODUCT_METRICS_POSTGRES_PASSWORD}" <<'SQL'
select format('create role %I', :'user')
where not exists (select from pg_roles where rolname = :'user') \gexec
alter role :"user" with login createrole password :'password';
SQL

# CREATE DATABASE cannot run inside a function or a multi-statement string: \gexec runs it alone.
admin_psql -v db="${PRODUCT_METRICS_POSTGRES_DBNAME}" -v user="${PRODUCT_METRICS_POSTGRES_USER}" <<'SQL'
select format('create database %I owner %I', :'db', :'user')
where not exists (select from pg_database where datname = :'db') \gexec
-- JIT compiling costs seconds per query and does not pay off for dbt's build queries (README).
alter database :"db" set jit = off;
SQL

if [[ -n "${PRODUCT_METRICS_BI_PASSWORD:-}" ]]; then
    admin_psql -v role="${BI_ROLE}" -v password="${PRODUCT_METRICS_BI_PASSWORD}" <<'SQL'
select format('create role %I', :'role')
where not exists (select from pg_roles where rolname = :'role') \gexec
alter role :"role" with login password :'password';
SQL
fi
echo "PostgreSQL: role ${PRODUCT_METRICS_POSTGRES_USER} owns database ${PRODUCT_METRICS_POSTGRES_DBNAME}"
