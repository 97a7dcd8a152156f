"""The report's experiments section: per experiment the decision and its reason, and a chart of each
metric's relative effect with its interval, drawn in headless Chromium (a screenshot kept as a test
artifact); no section when there are no experiments."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pytest

from product_metrics.experiments.commands import read_out_and_write
from product_metrics.experiments.tables import Marts
from product_metrics.relations import Relations
from product_metrics.report.html import write_report

from ..browser import load_page, screenshot
from ..report.test_report import ARTIFACTS
from .marts import create_marts, experiment, statistics, variations, write_manifest
from .test_readout import WIN_CONTROL, WIN_TREATMENT

BUILT_AT = dt.datetime(2026, 5, 4, 6, 0)


def conversion(experiment_id, variation, index, n, converted):
    return statistics(experiment_id, variation, index, "pm_retention_rate", n, converted, converted,
                      role="guardrail", kind="conversion", unit="users")


# larger_model wins its goal; new_onboarding has two treatments: `a` wins, `b` harms retention.
MARTS = Marts(
    experiments=[experiment("larger_model", hypothesis="A larger model gets more suggestions accepted"),
                 experiment("new_onboarding", is_ended=False, runtime_days=21)],
    variations=variations("larger_model", ("control", 0.5, 34070), ("larger_model", 0.5, 34610))
    + variations("new_onboarding", ("control", 1 / 3, 34070), ("a", 1 / 3, 34610), ("b", 1 / 3, 34070)),
    statistics=[
        statistics("larger_model", "control", 0, "pm_revenue_usd", *WIN_CONTROL),
        statistics("larger_model", "larger_model", 1, "pm_revenue_usd", *WIN_TREATMENT),
        conversion("larger_model", "control", 0, 34070, 13630),
        conversion("larger_model", "larger_model", 1, 34610, 13850),
        statistics("new_onboarding", "control", 0, "pm_revenue_usd", *WIN_CONTROL),
        statistics("new_onboarding", "a", 1, "pm_revenue_usd", *WIN_TREATMENT),
        statistics("new_onboarding", "b", 2, "pm_revenue_usd", *WIN_CONTROL),
        conversion("new_onboarding", "control", 0, 34070, 17040),
        conversion("new_onboarding", "a", 1, 34610, 17300),
        conversion("new_onboarding", "b", 2, 34070, 13630),
    ])


def warehouse_with(tmp_path, marts: Marts, *, read_out: bool = True):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        create_marts(connection, marts)
    if read_out:
        read_out_and_write(path, None, Relations.load(write_manifest(tmp_path / "target")))
    return path


def figures(html: str) -> dict[str, dict]:
    return {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in re.finditer(
        r'<script type="application/json" class="figure" data-target="(experiment-\w+)">(.*?)</script>', html)}


def test_the_section_shows_each_decision_and_charts_the_effects(tmp_path):
    path = warehouse_with(tmp_path, MARTS)
    page, _ = write_report(tmp_path / "report", path, built_at=BUILT_AT)
    html = page.read_text()
    assert '<a href="#panel-experiments">Experiments</a>' in html
    section = re.search(r'<section class="panel" id="panel-experiments">.*?</section>', html, re.DOTALL).group(0)
    assert "<em>A larger model gets more suggestions accepted</em>" in section
    assert ("owner: Ana Ruiz &lt;<a href=\"mailto:ana@example.com\">ana@example.com</a>&gt; · 2026-04-06 → "
            "2026-05-03 · ended, 28 of at least 14 days") in section
    assert '<span class="decision level-ok">ship</span>' in section
    assert "goal pm_revenue_usd wins: +70.7% (95% CI +47.3% to +94.2%)" in section
    assert "a: goal pm_revenue_usd wins" in section  # new_onboarding ships its arm a

    charts = figures(html)
    assert sorted(charts) == ["experiment-larger_model", "experiment-new_onboarding"]
    larger = charts["experiment-larger_model"]
    (trace,) = larger["data"]
    # Relative effects in percent, the interval as asymmetric error bars around them.
    assert trace["y"] == ["pm_revenue_usd (goal) · n 34,070 vs 34,610",
                          "pm_retention_rate (guardrail) · n 34,070 vs 34,610"]
    revenue, retention = trace["x"]
    assert revenue == pytest.approx(70.732, abs=1e-3)
    assert retention == pytest.approx(((13850 / 34610) / (13630 / 34070) - 1) * 100, abs=1e-6)
    upper, lower = trace["error_x"]["array"][0], trace["error_x"]["arrayminus"][0]
    assert (revenue - lower, revenue + upper) == pytest.approx((47.257, 94.207), abs=5e-2)
    assert [s["x0"] for s in larger["layout"]["shapes"]] == [0]  # the zero line
    onboarding = charts["experiment-new_onboarding"]
    assert [t["name"] for t in onboarding["data"]] == ["a", "b"]
    assert onboarding["data"][1]["y"] == ["b · pm_revenue_usd (goal) · n 34,070 vs 34,070",
                                          "b · pm_retention_rate (guardrail) · n 34,070 vs 34,070"]
    # b's retention: 13630 / 34070 against 17040 / 34070, harmed: a red outline.
    assert onboarding["data"][1]["x"][1] == pytest.approx((13630 / 17040 - 1) * 100)
    assert onboarding["data"][1]["marker"]["line"]["color"][1] == "#c53030"

    loaded = load_page(page)
    assert loaded.console == [], loaded.console
    for key in charts:
        drawn = re.search(rf'<div class="experiment-chart[^"]*" id="{key}"[^>]*>(.*?)<script type="application/json"',
                          loaded.dom, re.DOTALL)
        assert drawn and 'class="main-svg"' in drawn.group(1), key
        # One dot and one error bar per metric and variation.
        assert len(re.findall(r'class="point[ "]', drawn.group(1))) == drawn.group(1).count('class="errorbar"') == \
            sum(len(trace["x"]) for trace in charts[key]["data"]), key
    assert 'class="render-error"' not in loaded.dom
    shot = ARTIFACTS / "report_experiments.png"
    assert screenshot(page, shot, height=1600) == []
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("read_out", [False, True])
def test_no_section_without_experiments(tmp_path, read_out):
    # Not read out (no result tables), or read out with no experiment (empty tables).
    path = warehouse_with(tmp_path, Marts([], [], []) if read_out else MARTS, read_out=read_out)
    page, _ = write_report(tmp_path / "report", path, built_at=BUILT_AT)
    html = page.read_text()
    assert "#panel-experiments" not in html and 'id="panel-experiments"' not in html
    assert 'class="experiment-chart"' not in html


def test_the_section_shows_what_was_not_measured_and_experiments_without_results(tmp_path):
    from dataclasses import replace

    from .test_tables import WAITING_REASON
    from .test_unmeasured import FIRST_WINDOW_END

    larger_model = replace(MARTS.experiments[0], unmeasured_guardrails="pm_ai_latency_p90_ms (a percentile)")
    waiting = experiment("waiting", hypothesis="Tips help", exposed_users=100,
                         unmeasured_guardrails="pm_ai_latency_p90_ms (a percentile)",
                         first_window_end_date=FIRST_WINDOW_END)
    marts = Marts([larger_model, MARTS.experiments[1], waiting],
                  MARTS.variations + variations("waiting", ("control", 0.4, 40), ("treatment", 0.6, 60)),
                  MARTS.statistics)
    page, _ = write_report(tmp_path / "report", warehouse_with(tmp_path, marts), built_at=BUILT_AT)
    html = page.read_text()
    section = re.search(r'<section class="panel" id="panel-experiments">.*?</section>', html, re.DOTALL).group(0)
    blocks = dict(re.findall(r'<div class="experiment" data-experiment="(\w+)">(.*?)</div>(?=<div class="experiment"|'
                             r'</section>)', section, re.DOTALL))
    assert list(blocks) == ["larger_model", "new_onboarding", "waiting"]
    # The ship says what it did not check, in its reason and on a line of its own.
    assert ('<p class="unmeasured level-warn">Not measured: pm_ai_latency_p90_ms (a percentile) — guardrails this '
            "readout cannot judge; check them elsewhere.</p>") in blocks["larger_model"]
    assert "; no guardrail harmed; not measured: pm_ai_latency_p90_ms (a percentile)</p>" in blocks["larger_model"]
    assert "Not measured" not in blocks["new_onboarding"]
    # No result rows yet: the experiment is there, with its decision and why, and no chart.
    waiting_block = blocks["waiting"]
    assert '<span class="decision level-warn">keep running</span>' in waiting_block
    assert f'<p class="decision-reason">{WAITING_REASON}</p>' in waiting_block
    assert "No results yet: no unit has a complete measurement window." in waiting_block
    assert 'class="experiment-chart"' not in waiting_block and "<em>Tips help</em>" in waiting_block
    assert sorted(figures(html)) == ["experiment-larger_model", "experiment-new_onboarding"]

    loaded = load_page(page)
    assert loaded.console == [], loaded.console
    assert 'class="render-error"' not in loaded.dom
    assert "no unit has a complete measurement window yet (the first window ends 2026-04-20)" in loaded.dom
    shot = ARTIFACTS / "report_experiments_unmeasured.png"
    assert screenshot(page, shot, height=1800) == []
