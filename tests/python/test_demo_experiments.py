"""The demo experiments: exposures logged as the design says, effects planted only where they should
be, and the demo project's definitions (integration_tests/dbt_project.yml) agreeing with
product_metrics.demo_data.DEMO_EXPERIMENTS."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

from product_metrics import demo_data
from product_metrics.demo_data import DEMO_EXPERIMENTS, demo_experiments, generate_demo_data

REPO_ROOT = Path(__file__).resolve().parents[2]
# Large enough for every experiment to fit (the earliest starts 85 days before the end).
SIZE = {"users": 1500, "days": 120, "seed": 7}
OTHER_TABLES = ("users", "orders", "marketing_spend", "nps_responses", "invites", "model_predictions",
                "experiment_exposures")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "demo.duckdb"
    generate_demo_data(path, **SIZE)
    return path


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data with every effect switched off (exposures are drawn all the same)."""
    path = tmp_path_factory.mktemp("unplanted") / "demo.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_data, "CORE_ACTION_REPEAT_SHARE", 0.0)
        patch.setattr(demo_data, "LARGER_MODEL_ACCEPTANCE_LIFT", 0.0)
        patch.setattr(demo_data, "LARGER_MODEL_COST_FACTOR", 1.0)
        generate_demo_data(path, **SIZE)
    return path


@pytest.fixture(scope="module")
def con(planted: Path, unplanted: Path):
    connection = duckdb.connect(str(planted), read_only=True)
    connection.execute(f"attach '{unplanted}' as base (read_only)")
    connection.execute("""
        create temp table units as
        select experiment_id, user_id, min(exposed_at) as first_at, arg_min(variation, exposed_at) as variation,
               count(distinct variation) as variations, count(*) as exposures
        from raw.experiment_exposures group by all
    """)
    yield connection
    connection.close()


def _dates(experiment_id: str) -> tuple[str, str]:
    e = DEMO_EXPERIMENTS[experiment_id]
    return f"date '{e.start_date}'", f"date '{e.end_date}'"


# ------------------------------------------------------------------------------------------
# Definitions
# ------------------------------------------------------------------------------------------


def test_the_demo_project_defines_the_demo_experiments() -> None:
    project = yaml.safe_load((REPO_ROOT / "integration_tests" / "dbt_project.yml").read_text())
    defined = {item["id"]: item for item in project["vars"]["product_metrics__experiments"]}
    assert set(defined) == set(DEMO_EXPERIMENTS)
    for key, e in DEMO_EXPERIMENTS.items():
        item = defined[key]
        assert item["hypothesis"] == e.hypothesis
        assert item["owner"] == {"name": e.owner_name, "email": e.owner_email}
        assert (item["start_date"], item["end_date"]) == (e.start_date.isoformat(), e.end_date.isoformat())
        assert [(v["name"], v["weight"]) for v in item["variations"]] == list(e.variations)
        assert tuple(item["goal_metrics"]) == e.goal_metrics
        guardrails = item.get("guardrail_metrics")
        assert (tuple(guardrails) if guardrails is not None else None) == e.guardrail_metrics, key
        assert sum(e.weights) == pytest.approx(1.0) and e.variation_names[0] == "control"
    # The goal that wins and the guardrail it harms: defaulted from the goal's governance guardrails.
    governance = yaml.safe_load((REPO_ROOT / "models/marts/ai/_ai__models.yml").read_text())
    acceptance = next(m for m in governance["metrics"] if m["name"] == "pm_ai_acceptance_rate")
    assert "pm_ai_cost_per_1k_suggestions_usd" in acceptance["config"]["meta"]["governance"]["guardrails"]
    assert DEMO_EXPERIMENTS["larger_model"].guardrail_metrics is None


def test_experiment_dates_follow_the_window() -> None:
    assert demo_experiments() == DEMO_EXPERIMENTS
    moved = demo_experiments(dt.date(2025, 12, 31), 365)
    assert moved["larger_model"].start_date == dt.date(2025, 10, 7)  # 85 days before the end, as by default
    assert moved["larger_model"].end_date == dt.date(2025, 11, 3)
    # A window shorter than an experiment's distance to the end leaves it out.
    assert set(demo_experiments(days=60)) == {"core_action_shortcut", "onboarding_tips", "pricing_page_redesign"}
    assert set(demo_experiments(days=45)) == {"pricing_page_redesign"}
    assert demo_experiments(days=40) == {}


def test_no_experiment_fits_a_short_window(tmp_path: Path) -> None:
    result = generate_demo_data(tmp_path / "short.duckdb", users=300, days=40, dirty=True)
    assert result.row_counts["experiment_exposures"] == 0 and result.experiments == {}
    assert not [p for p in result.planted if p.source_table == "experiment_exposures"]


def test_other_streams_do_not_depend_on_the_experiments_stream() -> None:
    """The experiments' stream is the last child: the ten before it are those of a generator without it."""
    before = [child.random(3).tolist() for child in np.random.default_rng(42).spawn(10)]
    after = [child.random(3).tolist() for child in np.random.default_rng(42).spawn(11)[:10]]
    assert before == after


# ------------------------------------------------------------------------------------------
# Exposures
# ------------------------------------------------------------------------------------------


def test_exposures_are_logged_when_first_active(con: duckdb.DuckDBPyConnection) -> None:
    pairs = set(con.execute("select distinct experiment_id, variation from raw.experiment_exposures").fetchall())
    assert pairs == {(key, v) for key, e in DEMO_EXPERIMENTS.items() for v in e.variation_names}
    for key, e in DEMO_EXPERIMENTS.items():
        start, end = _dates(key)
        # Every exposure falls on a day the user is active (for the AI experiment: uses the assistant).
        activity = ("raw.ai_suggestions", "created_at") if e.population == "ai" else ("raw.events", "occurred_at")
        idle = con.execute(f"""
            select count(*) from raw.experiment_exposures x
            where experiment_id = '{key}' and not exists (
                select 1 from {activity[0]} a
                where a.user_id = x.user_id and cast(a.{activity[1]} as date) = cast(x.exposed_at as date))
        """).fetchone()[0]
        assert idle == 0, key
        # The first exposure is the user's first active day in the dates.
        later = con.execute(f"""
            select count(*) from units u
            where experiment_id = '{key}' and cast(first_at as date) between {start} and {end}
              and exists (select 1 from {activity[0]} a
                          where a.user_id = u.user_id and cast(a.{activity[1]} as date) >= {start}
                            and cast(a.{activity[1]} as date) < cast(u.first_at as date))
        """).fetchone()[0]
        assert later == 0, key
        # Outside the dates only a few users seen within three days after the end (stale clients).
        outside, too_late, units = con.execute(f"""
            select count(*) filter (where cast(first_at as date) not between {start} and {end}),
                   count(*) filter (where cast(first_at as date) < {start}
                                    or cast(first_at as date) > {end} + interval 3 day),
                   count(*)
            from units where experiment_id = '{key}'
        """).fetchone()
        assert too_late == 0 and 0 < outside < 0.05 * units, key


def test_repeats_and_users_seen_in_two_variations(con: duckdb.DuckDBPyConnection) -> None:
    for key in DEMO_EXPERIMENTS:
        repeated, multiple, units = con.execute(f"""
            select count(*) filter (where exposures > 1 and variations = 1), count(*) filter (where variations > 1),
                   count(*)
            from units where experiment_id = '{key}'
        """).fetchone()
        assert repeated > 0.2 * units, key
        assert 1 <= multiple < 0.02 * units, key


def test_assignment_by_weight_and_the_sample_ratio_mismatch(con: duckdb.DuckDBPyConnection) -> None:
    for key, e in DEMO_EXPERIMENTS.items():
        counts = dict(con.execute(
            f"select variation, count(*) from units where experiment_id = '{key}' and variations = 1 group by 1"
        ).fetchall())
        total = sum(counts.values())
        control = counts["control"] / total
        if key == "pricing_page_redesign":
            # Declared 50/50; the control's exposures of 18% of its users are lost: 0.41 / 0.91 = 45%.
            assert 0.41 < control < 0.49, counts
        else:
            expected = e.weights[0]
            assert abs(control - expected) < 4 * (expected * (1 - expected) / total) ** 0.5, (key, counts)


# ------------------------------------------------------------------------------------------
# Planted effects
# ------------------------------------------------------------------------------------------


def test_effects_touch_nothing_else(con: duckdb.DuckDBPyConnection) -> None:
    for table in OTHER_TABLES:
        differ = con.execute(f"""
            select count(*) from ((select * from raw.{table} except all select * from base.raw.{table})
                                  union all (select * from base.raw.{table} except all select * from raw.{table}))
        """).fetchone()[0]
        assert differ == 0, table
    # Events: the planted data has every event of the unplanted data and its active days.
    missing = con.execute("""
        select count(*) from (select user_id, occurred_at, event_name from base.raw.events
                              except all select user_id, occurred_at, event_name from raw.events)
    """).fetchone()[0]
    assert missing == 0
    new_days = con.execute("""
        select count(*) from (select distinct user_id, cast(occurred_at as date) from raw.events
                              except select distinct user_id, cast(occurred_at as date) from base.raw.events)
    """).fetchone()[0]
    assert new_days == 0


def test_core_action_shortcut_adds_core_actions_of_treated_users(con: duckdb.DuckDBPyConnection) -> None:
    """Extra core actions only for users first exposed to the shortcut, from that exposure until the
    effect ends; one per treated core action with probability CORE_ACTION_REPEAT_SHARE."""
    start, end = _dates("core_action_shortcut")
    period = f"e.occurred_at >= u.first_at and e.occurred_at < {end} + interval {1 + demo_data.EFFECT_WINDOW_DAYS} day"
    extra = con.execute(f"""
        with e as (select user_id, occurred_at, event_name from raw.events
                   except all select user_id, occurred_at, event_name from base.raw.events)
        select e.event_name, u.variation, {period}, count(*)
        from e left join units u on u.user_id = e.user_id and u.experiment_id = 'core_action_shortcut'
        group by all
    """).fetchall()
    assert [row[:3] for row in extra] == [("core_action", "shortcut", True)]
    added = extra[0][3]
    treated = con.execute(f"""
        select count(*) from base.raw.events e join units u on u.user_id = e.user_id
        where u.experiment_id = 'core_action_shortcut' and u.variation = 'shortcut'
          and cast(u.first_at as date) between {start} and {end}
          and e.event_name = 'core_action' and {period}
    """).fetchone()[0]
    share = demo_data.CORE_ACTION_REPEAT_SHARE
    assert abs(added - share * treated) < 4 * (treated * share * (1 - share)) ** 0.5, (added, treated)


def test_larger_model_raises_acceptance_and_cost_of_treated_users(con: duckdb.DuckDBPyConnection) -> None:
    _, end = _dates("larger_model")
    rows = con.execute(f"""
        select p.outcome, b.outcome, p.cost_usd, b.cost_usd, u.variation = 'larger_model' as treated,
               p.created_at >= u.first_at
               and p.created_at < {end} + interval {1 + demo_data.EFFECT_WINDOW_DAYS} day as in_period
        from raw.ai_suggestions p join base.raw.ai_suggestions b using (suggestion_id)
        left join units u on u.user_id = p.user_id and u.experiment_id = 'larger_model'
        where p.outcome <> b.outcome or p.cost_usd <> b.cost_usd
    """).fetchall()
    assert rows
    changes = Counter((b_out, p_out) for p_out, b_out, *_ in rows if p_out != b_out)
    assert set(changes) <= {("rejected", "accepted"), ("ignored", "accepted")} and changes
    assert all(treated and in_period for *_, treated, in_period in rows)
    factor = demo_data.LARGER_MODEL_COST_FACTOR
    assert all(abs(p_cost - round(round(b_cost * 1e6) * factor) / 1e6) < 1e-12 for _, _, p_cost, b_cost, _, _ in rows)
    # Every treated suggestion in the period costs more (none is left at its old price).
    unchanged = con.execute(f"""
        select count(*) from raw.ai_suggestions p join base.raw.ai_suggestions b using (suggestion_id)
        join units u on u.user_id = p.user_id and u.experiment_id = 'larger_model' and u.variation = 'larger_model'
        where p.created_at >= u.first_at and p.created_at < {end} + interval {1 + demo_data.EFFECT_WINDOW_DAYS} day
          and cast(u.first_at as date) <= {end} and p.cost_usd = b.cost_usd
    """).fetchone()[0]
    assert unchanged == 0
