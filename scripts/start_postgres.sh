#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 server for the tests: Debian's package, run as user postgres,
# listening on 127.0.0.1 only, data under $PGDATA (default /tmp/product_metrics_pg).
# Idempotent: exits 0 at once when the server already answers.
#
#   scripts/start_postgres.sh            # start (installing postgresql-15 with apt-get if missing)
#   scripts/start_postgres.sh stop       # stop it
#
# Tests connect with PRODUCT_METRICS_TEST_POSTGRES_URL, default
# postgresql+psycopg2://postgres@127.0.0.1:54329/postgres (trust auth, loopback only).
set -euo pipefail

PGPORT="${PGPORT:-54329}"
PGDATA="${PGDATA:-/tmp/product_metrics_pg}"
PGVERSION=15
LOG="${PGDATA}.log"

find_bin() {
    local dir
    for dir in "/usr/lib/postgresql/${PGVERSION}/bin" /usr/lib/postgresql/*/bin; do
        if [[ -x "${dir}/pg_ctl" ]]; then
            echo "${dir}"
            return 0
        fi
    done
    return 1
}

as_postgres() {
    if [[ "$(id -un)" == "postgres" ]]; then
        "$@"
    else
        # runuser needs no password as root; su works where runuser is missing.
        if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi
    fi
}

ready() {
    local bin="$1"
    "${bin}/pg_isready" -q -h 127.0.0.1 -p "${PGPORT}" 2>/dev/null
}

if BIN="$(find_bin)" && ready "${BIN}"; then
    if [[ "${1:-}" == "stop" ]]; then
        as_postgres "${BIN}/pg_ctl" -D "${PGDATA}" -m fast -w stop
        exit 0
    fi
    echo "PostgreSQL already running on 127.0.0.1:${PGPORT}"
    exit 0
fi
if [[ "${1:-}" == "stop" ]]; then
    echo "PostgreSQL is not running"
    exit 0
fi

if ! BIN="$(find_bin)"; then
    if [[ "$(id -u)" != "0" ]]; then
        echo "PostgreSQL ${PGVERSION} is not installed and installing it needs root (apt-get)." >&2
        exit 1
    fi
    echo "Installing postgresql-${PGVERSION} (apt-get)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's own cluster is not used (we run our own on a private port): no need to start it.
    apt-get install -y -qq --no-install-recommends "postgresql-${PGVERSION}" >/dev/null
    BIN="$(find_bin)"
fi

if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
    mkdir -p "${PGDATA}"
    chown postgres "${PGDATA}"
    chmod 700 "${PGDATA}"
    as_postgres "${BIN}/initdb" -D "${PGDATA}" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >/dev/null
fi
touch "${LOG}" && chown postgres "${LOG}"
# Loopback only; the socket directory is the data dir (no need for /var/run/postgresql).
as_postgres "${BIN}/pg_ctl" -D "${PGDATA}" -l "${LOG}" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p ${PGPORT} -k ${PGDATA} -c fsync=off -c full_page_writes=off"
ready "${BIN}"
echo "PostgreSQL ${PGVERSION} running on 127.0.0.1:${PGPORT} (data: ${PGDATA}, log: ${LOG})"
