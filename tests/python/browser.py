"""Headless Chromium for the tests that open a generated HTML page as a person would: the DOM the
browser builds (after scripts ran), what it logged to its console, and a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Chromium prints each console message on stderr with --enable-logging=stderr:
#   [..:INFO:CONSOLE:57] "message", source: file:///…/index.html (57)
_CONSOLE_LINE = re.compile(r':CONSOLE(?:\(\d+\)|:\d+)\] "(?P<message>.*)", source: (?P<source>.*)$')
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
          # Any name lookup fails: a page that needs the network shows it as a console error.
          "--host-resolver-rules=MAP * ~NOTFOUND",
          "--enable-logging=stderr", "--v=0")


def chromium() -> str:
    """The headless browser, or skip (fail under CI=true: scripts/install_test_browsers.sh installs it)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser:
        return browser
    message = "chromium is not installed: `make test` installs it (scripts/install_test_browsers.sh)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class PageLoad:
    dom: str
    console: list[str]       # every console message the page logged, "message (source)"


def _run(page: Path, *args: str, budget_ms: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        # The virtual time budget lets the page's scripts (chart drawing) finish before the dump.
        result = subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args,
             page.resolve().as_uri()],
            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def console_messages(stderr: str) -> list[str]:
    return [f"{m['message']} ({m['source']})" for m in map(_CONSOLE_LINE.search, stderr.splitlines()) if m]


def load_page(page: Path, *, budget_ms: int = 10_000) -> PageLoad:
    """The DOM Chromium builds from the page and the console messages it logged meanwhile."""
    result = _run(page, "--dump-dom", budget_ms=budget_ms)
    return PageLoad(result.stdout, console_messages(result.stderr))


def screenshot(page: Path, png: Path, *, width: int = 1400, height: int = 2000, budget_ms: int = 10_000) -> list[str]:
    """Save a screenshot of the page's top `height` pixels; returns the console messages."""
    png.parent.mkdir(parents=True, exist_ok=True)
    result = _run(page, f"--window-size={width},{height}", f"--screenshot={png.resolve()}", budget_ms=budget_ms)
    assert png.is_file() and png.stat().st_size > 10_000, f"no screenshot written: {result.stderr[-1000:]}"
    return console_messages(result.stderr)
