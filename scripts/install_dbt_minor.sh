#!/usr/bin/env bash
# Usage: scripts/install_dbt_minor.sh MINOR   (e.g. 1.10)
#
# A virtualenv .venv-dbt-MINOR in the repository with dbt-core MINOR, dbt-duckdb and dbt-postgres,
# exactly as pinned in requirements/dbt-MINOR.txt (the whole tree). Its dbt is
# .venv-dbt-MINOR/bin/dbt. Idempotent: a stamp holds the lock's checksum, so a second run with the
# same lock returns at once; a changed lock reinstalls from scratch.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MINOR="${1:-}"
LOCK="$ROOT/requirements/dbt-$MINOR.txt"
if [[ ! "$MINOR" =~ ^[0-9]+\.[0-9]+$ ]] || [ ! -f "$LOCK" ]; then
    available="$(cd "$ROOT/requirements" && ls dbt-*.txt 2>/dev/null | sed 's/^dbt-//; s/\.txt$//' | tr '\n' ' ')"
    echo "install_dbt_minor.sh: no lock for dbt-core minor '$MINOR' (requirements/dbt-$MINOR.txt); use one of: $available" >&2
    exit 2
fi

VENV="$ROOT/.venv-dbt-$MINOR"
STAMP="$VENV/.installed"
checksum="$(sha256sum "$LOCK" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$checksum" ] && [ -x "$VENV/bin/dbt" ]; then
    exit 0
fi

# The project's Python (pyproject.toml: 3.11); PYTHON overrides.
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$LOCK"
"$VENV/bin/dbt" --version >/dev/null
echo "$checksum" > "$STAMP"
echo "dbt-core $MINOR installed: $VENV/bin/dbt"
