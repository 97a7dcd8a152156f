"""explain(): the cells read and summed to the asked dimensions, the formulas applied, the metric tree
read through lives_in, and the texts (headline, summary, tree, alerts), on the fabricated warehouse
(tests/python/drivers/fabricated.py: every expectation below is worked out from its numbers)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from product_metrics.drivers import decompose
from product_metrics.drivers.explain import (
    ExplainError,
    Explanation,
    alert_explainer,
    explain,
    top_drivers_text,
)
from product_metrics.drivers.periods import Period
from product_metrics.warehouse import Warehouse

from . import fabricated as fab

WEEK24, WEEK25 = Period("week", fab.W24), Period("week", fab.W25)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = fab.create_tables(tmp_path_factory.mktemp("drivers") / "warehouse.duckdb")
    with Warehouse.open(path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def registry():
    return fab.registry()


def by_segment(drivers):
    return {tuple(d.segment): d for d in drivers}


# --- summable metrics ------------------------------------------------------------------------------

def test_a_summable_metric_ranks_the_segment_that_dropped(warehouse, registry):
    explanation = explain(warehouse, registry, "pm_average_dau", WEEK24, WEEK25, ["country", "platform"])
    assert (explanation.before_value, explanation.after_value) == (600, 540)
    assert explanation.relative_change == pytest.approx(-0.1)
    assert explanation.headline() == "pm_average_dau 600 users → 540 users (−10.0%), week 2026-06-15 vs 2026-06-08"
    assert not explanation.ratio and explanation.dimensions == ("country", "platform")
    first = explanation.segments[0]
    assert first.rank == 1 and first.unexpected_difference == pytest.approx(-60)
    assert set(first.segment) <= {("country", "BR"), ("platform", "android")}
    # US: 200 -> 200 while the rest (BR, DE) went 400 -> 340: expected 200 × 0.85 = 170, unexpected +30;
    # support: its larger share of the two weeks, 200 / 540.
    us = by_segment(explanation.segments).get((("country", "US"),))
    if us is not None:  # not pruned
        assert (us.before, us.after, us.expected_after, us.unexpected_difference) == pytest.approx((200, 200, 170, 30))
        assert us.support == pytest.approx(200 / 540)
    assert explanation.summary().startswith("pm_average_dau −10.0% (2026-W25 vs 2026-W24): ")
    assert "−60 users unexpected" in explanation.summary()
    assert explanation.mix_rate == {} and explanation.tree == ()


def test_the_cells_are_summed_to_the_asked_dimensions(warehouse, registry, monkeypatch):
    """The formulas get one cell per value of --by (the other dimensions added up), both weeks side by side."""
    seen = {}

    def capture(cells, dimensions, **options):
        seen.update(cells={tuple(sorted(c.segment.items())): (c.before, c.after, c.before_denominator)
                           for c in cells}, dimensions=list(dimensions), options=options)
        return []

    monkeypatch.setattr(decompose, "segment_drivers", capture)
    explain(warehouse, registry, "average_dau", WEEK24, WEEK25, ["country"], depth=1)
    assert seen == {"cells": {(("country", "BR"),): (200, 140, None), (("country", "DE"),): (200, 200, None),
                              (("country", "US"),): (200, 200, None)},
                    "dimensions": ["country"], "options": {"max_depth": 1}}


# --- ratio metrics ---------------------------------------------------------------------------------

def test_a_ratio_metric_splits_its_change_into_mix_and_rate(warehouse, registry):
    explanation = explain(warehouse, registry, "pm_retention_rate", WEEK24, WEEK25, ["country", "platform"])
    assert explanation.ratio and explanation.dimensions == ("country",)
    assert explanation.notes[0] == "platform: one value in these periods, nothing to split"
    assert (explanation.before_value, explanation.after_value) == pytest.approx((0.4, 0.36))
    assert explanation.headline() == "pm_retention_rate 40.0% → 36.0% (−10.0%), week 2026-06-15 vs 2026-06-08"
    # Shares 0.5/0.5 -> 0.4/0.6, rates BR 0.2 -> 0.1, US 0.6 -> 0.5333:
    # BR mix (−0.1)(0.3)/2 = −0.015, rate 0.45 × (−0.1) = −0.045;
    # US mix (0.1)(1.1333)/2 = 0.056667, rate 0.55 × (−0.06667) = −0.036667; all: −0.04.
    drivers = by_segment(explanation.mix_rate["country"])
    br, us = drivers[(("country", "BR"),)], drivers[(("country", "US"),)]
    assert (br.mix_effect, br.rate_effect, br.total_effect) == pytest.approx((-0.015, -0.045, -0.06))
    assert (us.mix_effect, us.rate_effect) == pytest.approx((0.1 * (0.6 + 0.8 / 1.5) / 2, 0.55 * (0.8 / 1.5 - 0.6)))
    assert (br.before_share, br.after_share, br.before_rate, br.after_rate) == pytest.approx((0.5, 0.4, 0.2, 0.1))
    assert sum(d.total_effect for d in drivers.values()) == pytest.approx(-0.04)
    assert explanation.summary() == ("pm_retention_rate −10.0% (2026-W25 vs 2026-W24): country=US mix +5.7 pp; "
                                     "country=BR rate −4.5 pp; country=US rate −3.7 pp")


# --- the metric tree -------------------------------------------------------------------------------

def test_the_north_star_change_is_attributed_along_the_tree(warehouse, registry):
    """500 -> 405 = weekly actives 1000 -> 900 × share 0.5 -> 0.45: LMDI gives each factor
    L(405, 500) × ln 0.9 = −95 / 2 = −47.5 (−9.5 points of 500). Weekly actives −100 split as new
    +60, returning −60, resurrecting −100: −47.5 × (60, −60, −100) / −100 = (+28.5, −28.5, −47.5)."""
    explanation = explain(warehouse, registry, "north_star_users", WEEK24, WEEK25)
    assert explanation.tree_operation == "product"
    rows = {(r.depth, r.metric): r for r in explanation.tree}
    assert set(rows) == {(1, "pm_weekly_active_users"), (1, "pm_north_star_share_of_active"),
                         (2, "pm_new_users"), (2, "pm_returning_users"), (2, "pm_resurrecting_users")}
    assert rows[1, "pm_weekly_active_users"].contribution == pytest.approx(-47.5)
    assert rows[1, "pm_north_star_share_of_active"].contribution == pytest.approx(-47.5)
    assert rows[1, "pm_weekly_active_users"].contribution_share == pytest.approx(-0.095)
    assert (rows[1, "pm_weekly_active_users"].before, rows[1, "pm_weekly_active_users"].after) == (1000, 900)
    assert [rows[2, m].contribution for m in ("pm_new_users", "pm_returning_users", "pm_resurrecting_users")] \
        == pytest.approx([28.5, -28.5, -47.5])
    assert rows[2, "pm_new_users"].parent == "pm_weekly_active_users"
    assert sum(r.contribution for r in explanation.tree if r.depth == 1) == pytest.approx(405 - 500)
    assert explanation.tree_text() == (
        "pm_north_star_users −19.0%: pm_north_star_share_of_active −9.5 points, pm_weekly_active_users −9.5 points "
        "(pm_resurrecting_users −9.5 points, pm_new_users +5.7 points, pm_returning_users −5.7 points)")
    assert explanation.summary().endswith(
        "drivers: pm_north_star_share_of_active −9.5 points, pm_weekly_active_users −9.5 points")


def test_an_input_without_values_is_not_split_further(warehouse):
    """pm_returning_users without lives_in: weekly actives keep their −47.5, unsplit, and a note says why."""
    manifest = fab.manifest()
    del manifest["metrics"]["metric.product_metrics.pm_returning_users"]["config"]["meta"]["governance"]["lives_in"]
    from product_metrics.governance.registry import build_registry

    explanation = explain(warehouse, build_registry(manifest, {}), "pm_north_star_users", WEEK24, WEEK25)
    assert {(r.depth, r.metric) for r in explanation.tree} == {(1, "pm_weekly_active_users"),
                                                               (1, "pm_north_star_share_of_active")}
    assert ("no metric tree: pm_returning_users has no single value for both 2026-W24 and 2026-W25"
            in explanation.notes)


def test_a_metric_without_decomposition_has_no_tree(warehouse, registry):
    explanation = explain(warehouse, registry, "pm_average_dau", Period("week", fab.W23), WEEK24)
    assert explanation.tree == () and explanation.tree_text() is None
    assert (explanation.before_value, explanation.after_value) == (600, 600)


# --- what it cannot explain -------------------------------------------------------------------------

@pytest.mark.parametrize("metric, before, after, by, message", [
    ("pm_nps", WEEK24, WEEK25, ["country"],
     ("No cells to explain 'pm_nps': the metrics explain can explain are pm_average_dau, pm_north_star_users, "
     "pm_retention_rate, pm_signups.")),
    ("pm_average_dau", Period("week", dt.date(2026, 5, 25)), WEEK25, ["country"],
     ("pm_average_dau has no cells for week 2026-W22: the weeks available are 2026-W23, 2026-W24, 2026-W25, "
     "2026-W26 (latest complete 2026-W25).")),
    ("pm_average_dau", Period("month", fab.MAY), Period("month", fab.JUNE), ["country"],
     "pm_average_dau has cells by week only, not by month"),
    ("pm_average_dau", WEEK24, WEEK25, ["city"], ("Unknown dimension 'city' in --by: use country, platform, "
                                                 "acquisition_channel, signup_cohort_month (or signup_cohort).")),
    ("pm_retention_rate", WEEK24, WEEK25, ["platform"], ("pm_retention_rate has one value of platform in these "
                                                         "periods: cut it by country.")),
    ("pm_average_dau", Period("month", fab.MAY), WEEK25, ["country"], "--from 2026-05 is a month and --to 2026-W25"),
])
def test_what_it_cannot_explain_is_one_line_listing_what_it_can(warehouse, registry, metric, before, after, by,
                                                                 message):
    with pytest.raises(ExplainError) as error:
        explain(warehouse, registry, metric, before, after, by)
    assert message in str(error.value)


def test_signup_cohort_is_an_alias(warehouse, registry):
    explanation = explain(warehouse, registry, "pm_signups", Period("month", fab.APRIL), Period("month", fab.MAY),
                          ["signup_cohort", "country"])
    assert explanation.dimensions == ("signup_cohort_month", "country")
    assert (explanation.before_value, explanation.after_value) == (100, 130)


# --- units -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, unit, shown, change", [
    (1234.4, "users", "1,234 users", "+1,234 users"),
    (-310.0, "users", "−310 users", "−310 users"),
    (68.555, "usd", "$68.56", "+$68.56"),
    (-12345.0, "usd", "−$12,345", "−$12,345"),
    (0.123, "ratio", "12.3%", "+12.3 pp"),
    (2.228, "months", "2.2 months", "+2.2 months"),
    (None, "users", "—", "—"),
])
def test_values_and_changes_carry_their_unit(value, unit, shown, change):
    explanation = Explanation("pm_x", unit, WEEK24, WEEK25, None, None, False, ("country",))
    assert explanation.value_text(value) == shown
    assert explanation.change_text(value) == change


def test_a_count_names_what_it_counts():
    explanation = Explanation("pm_core_actions", "count", WEEK24, WEEK25, None, None, False, ("country",),
                              noun="core actions")
    assert explanation.value_text(883.0) == "883 core actions"
    assert explanation.change_text(-12.0) == "−12 core actions"


# --- alerts ----------------------------------------------------------------------------------------

def test_an_alert_carries_its_top_drivers(warehouse, registry):
    text = top_drivers_text(warehouse, registry, "pm_retention_rate", fab.W25, "cohort_week")
    assert text == ("pm_retention_rate −10.0% (2026-W25 vs 2026-W24): country=US mix +5.7 pp; country=BR rate "
                    "−4.5 pp; country=US rate −3.7 pp")
    # A day's alert is explained by its week against the week before.
    assert top_drivers_text(warehouse, registry, "pm_average_dau", fab.W25 + dt.timedelta(days=3), "day") \
        .startswith("pm_average_dau −10.0% (2026-W25 vs 2026-W24)")
    # Nothing to explain: no text, never an error.
    assert top_drivers_text(warehouse, registry, "pm_nps", fab.W25, "month") is None
    assert top_drivers_text(warehouse, registry, "pm_average_dau", fab.W23, "week") is None  # no W22 cells
    # A day of the running week W26 (not complete): its complete week before, never a part-week.
    assert top_drivers_text(warehouse, registry, "pm_average_dau", fab.W26 + dt.timedelta(days=1), "day") \
        .startswith("pm_average_dau −10.0% (2026-W25 vs 2026-W24)")


def test_the_alert_explainer_reads_the_evaluations_metric_and_period(warehouse, registry):
    explainer = alert_explainer(warehouse, registry)
    evaluation = SimpleNamespace(metric="pm_retention_rate", latest=SimpleNamespace(period=fab.W25))
    assert explainer(evaluation).startswith("pm_retention_rate −10.0% (2026-W25 vs 2026-W24)")
    assert explainer(SimpleNamespace(metric="pm_retention_rate", latest=SimpleNamespace(period=None))) is None
    assert explainer(SimpleNamespace(metric="pm_unknown", latest=SimpleNamespace(period=fab.W25))) is None
