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


# Runs in the page once its charts are drawn and writes what a reader would notice as JSON into
# <pre id="layout-checks">: text that overflows its box, chart text outside its chart, legends and
# the series drawn, the size of the metric tree's text, the sections and their text.
_LAYOUT_SCRIPT = r"""
<script>
setTimeout(function () {
  var out = {overflow: [], chart_text_outside: [], charts: {}, tree_font_px: [], sections: [], values: []};
  document.querySelectorAll("h1, h2, h3, p, td, th, dt, dd, li, .tile-value, .big, article").forEach(function (e) {
    if (e.closest("svg") || e.closest("figure#metric-tree")) return;
    if (e.scrollWidth > e.clientWidth + 1) out.overflow.push(e.tagName + "." + e.className + ": " + e.textContent.slice(0, 80));
  });
  document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
    var box = gd.getBoundingClientRect();
    gd.querySelectorAll("svg text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.width === 0 || !t.textContent.trim()) return;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.chart_text_outside.push(gd.id + ": " + t.textContent.slice(0, 60));
    });
    var legend = Array.from(gd.querySelectorAll(".legend .traces .legendtext")).map(function (t) { return t.textContent; });
    var drawn = (gd._fullData || []).filter(function (d) {
      var values = (d.y || d.z || []);
      return d.visible === true && Array.from(values).some(function (v) { return v !== null && v === v; });
    });
    out.charts[gd.id] = {
      legend: legend,
      legend_traces: drawn.filter(function (d) { return d.showlegend && gd._fullLayout.showlegend; }).map(function (d) {
        var color = (d.line && d.line.color) || (d.marker && d.marker.color);
        return {name: d.name, color: typeof color === "string" ? color.toLowerCase() : null};
      }),
      drawn: drawn.map(function (d) { return d.name; })
    };
  });
  document.querySelectorAll("figure#metric-tree svg text").forEach(function (t) {
    var scale = t.ownerSVGElement.getScreenCTM().a;
    out.tree_font_px.push([t.textContent, parseFloat(t.getAttribute("font-size")) * scale]);
  });
  document.querySelectorAll("main > section").forEach(function (s) {
    var heading = s.querySelector("h2");
    out.sections.push({id: s.id, title: heading ? heading.textContent : "", text_length: s.innerText.length,
                       has_chart: !!s.querySelector(".main-svg"), text: s.innerText.slice(0, 4000)});
  });
  document.querySelectorAll(".value-text").forEach(function (e) { out.values.push(e.textContent.trim()); });
  var pre = document.createElement("pre");
  pre.id = "layout-checks";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 1000);
</script>
"""


def measure_layout(page: Path, *, width: int = 1400, budget_ms: int = 15_000) -> dict:
    """What the layout script above found in `page` at `width` pixels (a copy of the page is measured)."""
    import json

    html = page.read_text(encoding="utf-8")
    copy = page.with_name(page.stem + ".measured.html")
    copy.write_text(html.replace("</body>", _LAYOUT_SCRIPT + "</body>"), encoding="utf-8")
    try:
        result = _run(copy, f"--window-size={width},2000", "--dump-dom", budget_ms=budget_ms)
    finally:
        copy.unlink()
    found = re.search(r'<pre id="layout-checks">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, "the layout script did not run: " + result.stderr[-1000:]
    from html import unescape

    return json.loads(unescape(found.group(1)))
