"""End to end on the demo: generated raw data with four experiments whose truth is planted
(product_metrics.demo_data.DEMO_EXPERIMENTS), `dbt build` of the demo project, then the readout.
Each planted truth must come out: the lift inside its interval, the sample-ratio mismatch flagged,
the harmed guardrail blocking *ship*, nothing found where nothing was planted."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from product_metrics.demo_data import DEMO_EXPERIMENTS
from product_metrics.experiments.commands import compute_readouts, write_readouts
from product_metrics.relations import Relations
from product_metrics.warehouse import Warehouse


@pytest.fixture(scope="module")
def demo_copy(clean_demo_warehouse, tmp_path_factory) -> Path:
    """A copy of the shared demo warehouse: the readout writes its tables here, not into the fixture
    other tests compare with."""
    path = tmp_path_factory.mktemp("experiments_demo") / "warehouse.duckdb"
    shutil.copyfile(clean_demo_warehouse, path)
    return path


@pytest.fixture(scope="module")
def readouts(demo_copy):
    with Warehouse.open(demo_copy, None) as warehouse:
        found = compute_readouts(warehouse, Relations.default())
        write_readouts(warehouse, Relations.default(), found)
    return {readout.experiment.experiment_id: readout for readout in found}


def result(readout, metric: str, variation: str | None = None):
    return next(r for r in readout.results if r.metric_name == metric and variation in (None, r.variation))


def test_every_demo_experiment_reaches_its_planted_decision(readouts):
    assert set(readouts) == set(DEMO_EXPERIMENTS)
    decided = {experiment_id: readout.verdict.decision for experiment_id, readout in readouts.items()}
    assert decided == {experiment_id: e.expected_decision for experiment_id, e in DEMO_EXPERIMENTS.items()}


def test_the_real_lift_lies_inside_its_interval(readouts):
    truth = dict(DEMO_EXPERIMENTS["core_action_shortcut"].true_relative_effects)["pm_core_actions"]
    lift = result(readouts["core_action_shortcut"], "pm_core_actions")
    assert lift.relative_ci_lower < truth < lift.relative_ci_upper
    assert lift.relative_ci_lower > 0, "the lift is found"
    assert lift.adjusted_p_value < 0.05
    # Active days were left as they were: no effect found on the guardrail.
    days = result(readouts["core_action_shortcut"], "pm_active_user_days")
    assert days.relative_ci_lower < 0 < days.relative_ci_upper
    assert "pm_core_actions" in readouts["core_action_shortcut"].verdict.reason


def test_the_sample_ratio_mismatch_is_flagged(readouts):
    readout = readouts["pricing_page_redesign"]
    assert readout.verdict.decision == "invalid"
    assert all(r.srm_p_value < 0.001 for r in readout.results)
    assert "sample ratio mismatch" in readout.verdict.reason
    # The experiments without a mismatch pass the check.
    for experiment_id in ("core_action_shortcut", "onboarding_tips", "larger_model"):
        assert all(r.srm_p_value > 0.001 for r in readouts[experiment_id].results), experiment_id


def test_the_harmed_guardrail_blocks_ship(readouts):
    readout = readouts["larger_model"]
    truths = dict(DEMO_EXPERIMENTS["larger_model"].true_relative_effects)
    cost = result(readout, "pm_ai_cost_per_1k_suggestions_usd")
    assert cost.metric_role == "guardrail", "defaulted from the acceptance rate's governance guardrails"
    assert cost.is_harmful and cost.relative_effect > 0.2
    acceptance = result(readout, "pm_ai_acceptance_rate")
    assert acceptance.metric_role == "goal"
    assert acceptance.relative_ci_lower < truths["pm_ai_acceptance_rate"] < acceptance.relative_ci_upper
    assert acceptance.relative_effect > 0
    assert readout.verdict.decision == "do_not_ship"
    assert "pm_ai_cost_per_1k_suggestions_usd" in readout.verdict.reason


def test_no_effect_is_found_where_none_was_planted(readouts):
    readout = readouts["onboarding_tips"]
    assert {r.variation for r in readout.results} == {"short_tips", "long_tips"}
    goals = [r for r in readout.results if r.metric_role == "goal"]
    assert goals and all(r.adjusted_p_value >= 0.05 for r in goals)


def test_the_written_tables_hold_the_readout(demo_copy, readouts):
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        rows = con.execute("select experiment_id, any_value(decision), count(*) from metrics.fct_experiment_results "
                           "group by experiment_id").fetchall()
        daily = con.execute("select count(distinct experiment_id), min(exposure_date) >= date '2026-04-06' "
                            "from metrics.fct_experiment_daily").fetchone()
    assert {experiment_id: decision for experiment_id, decision, _ in rows} == {
        experiment_id: readout.verdict.decision for experiment_id, readout in readouts.items()}
    assert {experiment_id: count for experiment_id, _, count in rows} == {
        experiment_id: len(readout.results) for experiment_id, readout in readouts.items()}
    assert daily == (4, True)


def test_exposures_to_two_variations_are_excluded_and_counted(clean_demo_warehouse):
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as con:
        excluded = dict(con.execute("select experiment_id, excluded_multiple_variations from metrics.fct_experiments")
                        .fetchall())
        overlap = con.execute("""
            select count(*) from intermediate.int_experiment_units as units
            where units.exclusion_reason is null and (
                select count(distinct exposures.variation)
                from staging.stg_raw__experiment_exposures as exposures
                inner join intermediate.int_experiments as experiments
                    on exposures.experiment_id = experiments.experiment_id
                    and exposures.exposure_date between experiments.start_date and experiments.end_date
                where exposures.experiment_id = units.experiment_id and exposures.user_id = units.user_id) > 1
        """).fetchone()[0]
    assert all(count > 0 for count in excluded.values()), excluded
    assert overlap == 0


def test_the_guardrails_not_measured_are_named_and_the_first_windows_dated(clean_demo_warehouse, readouts):
    # larger_model defaults the acceptance rate's governance guardrails, among them a percentile;
    # onboarding_tips' goals default pm_churn_rate (a trailing monthly rate); the two others name theirs.
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "select experiment_id, unmeasured_guardrails, first_exposure_date, first_window_end_date "
            "from metrics.fct_experiments").fetchall()}
    assert {experiment_id: row[0] for experiment_id, row in rows.items()} == {
        "larger_model": "pm_ai_latency_p90_ms (a percentile)", "onboarding_tips": "pm_churn_rate (no per-user value)",
        "core_action_shortcut": None, "pricing_page_redesign": None}
    assert readouts["larger_model"].verdict.reason.endswith("; not measured: pm_ai_latency_p90_ms (a percentile)")
    assert readouts["onboarding_tips"].verdict.reason.endswith("; not measured: pm_churn_rate (no per-user value)")
    assert "not measured" not in readouts["core_action_shortcut"].verdict.reason
    # Every demo experiment's shortest window is 14 days (conversion window, two weeks, retention week 1)
    # and starts at the first exposure (no delay; reporting time zone UTC).
    for experiment_id, (_, first_exposure, first_window_end) in rows.items():
        assert (first_window_end - first_exposure).days == 14, experiment_id
