#!/usr/bin/env bash
# Headless Chromium (Debian's package, no browser download) for the tests that open the HTML metric
# catalog and the HTML report (tests/python/browser.py) as a person would. Idempotent: exits at once
# when chromium is already installed.
#
#   scripts/install_test_browsers.sh
#
# Tests look for `chromium` on PATH; without it they fail under CI=true and are skipped elsewhere.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO} apt-get update -qq
# fonts-liberation: text in screenshots (--dump-dom needs none, but a person looks at screenshots too)
${SUDO} apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
chromium --version
