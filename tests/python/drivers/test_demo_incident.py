"""End to end on the demo: the planted incident (product_metrics.demo_data.DEMO_INCIDENT, an android
release after which android users in two countries lose most of their active days) must come out of
`explain` as the first driver of the drop, from a plain `dbt build` of the demo project."""

from __future__ import annotations

import shutil

import pytest

from product_metrics.demo_data import demo_incident
from product_metrics.drivers.explain import explain
from product_metrics.drivers.periods import Period
from product_metrics.drivers.tables import explain_and_write
from product_metrics.governance.registry import load_registry, parse_project
from product_metrics.project import Project
from product_metrics.warehouse import Warehouse

from ..conftest import DEMO_PROJECT, DEMO_SIZE

INCIDENT = demo_incident(days=DEMO_SIZE["days"])
AFTER = Period("week", INCIDENT.release_date)  # the incident's first full week
BEFORE = AFTER.previous()
PLATFORM = ("platform", INCIDENT.platform)
HIT = {(("country", country), PLATFORM) for country in INCIDENT.countries}


@pytest.fixture(scope="module")
def demo(clean_demo_warehouse, tmp_path_factory):
    """A copy of the shared demo warehouse (the drivers table is written here) and its registry."""
    path = tmp_path_factory.mktemp("drivers_demo") / "warehouse.duckdb"
    shutil.copyfile(clean_demo_warehouse, path)
    return path, load_registry(parse_project(Project(root=DEMO_PROJECT, duckdb_path=path)))


@pytest.mark.parametrize("metric", ["pm_weekly_active_users", "pm_average_dau"])
def test_the_release_is_the_first_driver_of_the_drop(demo, metric):
    path, registry = demo
    with Warehouse.open(path, None) as warehouse:
        explanation = explain(warehouse, registry, metric, BEFORE, AFTER, ("country", "platform"))
    first = explanation.segments[0]
    # The release leads: the platform that shipped it, or the platform in a country it hit, moved
    # furthest below what the rest of the users' trend expected.
    assert first.segment in {(PLATFORM,), *HIT}
    assert first.unexpected_difference < 0
    # Every segment the release hit fell below expectation (the demo is small: the second country's
    # week before was already low, so its surprise is smaller than the first's).
    hit = [d for d in explanation.segments if d.segment in HIT]
    assert len(hit) == len(HIT) and all(d.unexpected_difference < 0 for d in hit)
    # No android segment outside the hit countries carries a comparable fall.
    others = [d for d in explanation.segments if PLATFORM in d.segment and d.segment not in HIT | {(PLATFORM,)}]
    assert all(d.unexpected_difference > first.unexpected_difference / 2 for d in others)


def test_the_north_star_change_is_attributed_along_the_metric_tree(demo):
    path, registry = demo
    with Warehouse.open(path, None) as warehouse:
        explanation = explain(warehouse, registry, "pm_north_star_users", BEFORE, AFTER, ("country", "platform"))
    depth1 = {row.metric: row for row in explanation.tree if row.depth == 1}
    assert set(depth1) >= {"pm_weekly_active_users", "pm_north_star_share_of_active"}
    # The tree's rows add up to the north star's change exactly.
    assert sum(row.contribution for row in depth1.values()) == pytest.approx(explanation.change, abs=1e-9)
    # The release took active users away: the weekly actives carry a fall.
    assert depth1["pm_weekly_active_users"].contribution < 0
    assert depth1["pm_weekly_active_users"].before > depth1["pm_weekly_active_users"].after
    depth2 = [row for row in explanation.tree if row.parent == "pm_weekly_active_users" and row.depth == 2]
    assert sum(row.contribution for row in depth2) == pytest.approx(
        depth1["pm_weekly_active_users"].contribution, abs=1e-9)


def test_the_build_stage_writes_the_incident_into_the_drivers_table(demo):
    path, registry = demo
    detail = explain_and_write(path, None, registry)
    assert "fct_metric_change_drivers" in detail
    with Warehouse.open(path, None) as warehouse:
        rows = warehouse.query(
            "select segment from metrics.fct_metric_change_drivers where metric_name = 'pm_weekly_active_users' "
            "and period_grain = 'week' and analysis = 'segment' and to_period_start = :after "
            "and unexpected_difference < 0 order by driver_rank limit 1", {"after": AFTER.start})
    # Cut by all four dimensions two deep, the release is still the largest fall (the largest surprise
    # overall is the newest signup cohort, growing as new users join).
    assert rows[0][0] in {f"platform={INCIDENT.platform}",
                          *(f"country={c}, platform={INCIDENT.platform}" for c in INCIDENT.countries)}
