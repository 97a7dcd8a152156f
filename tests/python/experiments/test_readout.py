"""The readout and its decisions on hand-made per-arm sums: each rule of the decision, the Holm /
Benjamini-Hochberg family (goal metrics x treatment variations only), multi-arm experiments, ratio
and zero-baseline metrics, and the cumulative daily view. The effects and intervals are checked
against GrowthBook's published stats-engine case and hand-worked Welch intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from product_metrics.experiments import decisions
from product_metrics.experiments.readout import read_out, read_out_experiment
from product_metrics.experiments.tables import Marts

from .marts import START, experiment, of_values, statistics, variations

# GrowthBook's stats-engine case: control (n 3407, sum 1396.87, sum of squares 52377.9767) against
# treatment (n 3461, sum 2422.7, sum of squares 134698.29): absolute effect 0.29, 95% interval
# (0.04538, 0.53462), p 0.02016. Means 0.41 and 0.70, variances 15.21 and 38.44: relative effect
# 0.29 / 0.41 = 0.70732, its delta-method variance 38.44 / 3461 / 0.41^2 + 15.21 / 3407 * 0.7^2 / 0.41^4
# = 0.143486 (se 0.37880): 95% interval (-0.0353, 1.4499), p 0.0619 — not significant.
GB_CONTROL = (3407, 1396.87, 52377.9767)
GB_TREATMENT = (3461, 2422.7, 134698.29)
GB_RELATIVE_P = 0.06191
# The same means and variances with ten times the units: relative interval (+47.3%, +94.2%), p 3.5e-9.
WIN_CONTROL = (34070, 13968.7, 523779.767)
WIN_TREATMENT = (34610, 24227.0, 1346982.9)
# Means 0.41 and 0.70, variances 15.21 and 38.44, 4000 units each: relative se
# sqrt(38.44 / 4000 / 0.41^2 + 15.21 / 4000 * 0.7^2 / 0.41^4) = 0.35087, z 2.0159, p 0.0438.
BORDER_CONTROL = (4000, 1640.0, 61497.19)
BORDER_TREATMENT = (4000, 2800.0, 155681.56)
BORDER_P = 0.0438


def goal(experiment_id, variation, index, sums, metric="pm_revenue_usd", **options):
    return statistics(experiment_id, variation, index, metric, *sums, **options)


def conversion(experiment_id, variation, index, metric, n, converted, *, role="guardrail",
               direction="higher_is_better"):
    """A 0/1 metric: the sum of squares is the sum."""
    return statistics(experiment_id, variation, index, metric, n, converted, converted, role=role,
                      kind="conversion", direction=direction, unit="users")


def two_arms(experiment_id, rows, *, units=(3407, 3461), **overrides):
    """The readout of a control/treatment experiment at 50/50 with these statistics rows."""
    return read_out_experiment(experiment(experiment_id, **overrides),
                               variations(experiment_id, ("control", 0.5, units[0]), ("treatment", 0.5, units[1])),
                               rows)


def win_rows(experiment_id, *guardrails):
    return [goal(experiment_id, "control", 0, WIN_CONTROL), goal(experiment_id, "treatment", 1, WIN_TREATMENT),
            *guardrails]


def result(readout, metric, variation="treatment"):
    (found,) = [r for r in readout.results if r.metric_name == metric and r.variation == variation]
    return found


def test_growthbooks_case_gives_its_numbers_and_is_no_win_yet():
    readout = two_arms("gb", [goal("gb", "control", 0, GB_CONTROL), goal("gb", "treatment", 1, GB_TREATMENT)])
    row = result(readout, "pm_revenue_usd")
    assert (row.control_units, row.variation_units) == (3407, 3461)
    assert row.control_mean == pytest.approx(0.41) and row.variation_mean == pytest.approx(0.70)
    assert row.absolute_effect == pytest.approx(0.29)
    assert row.absolute_ci_lower == pytest.approx(0.04538, abs=1e-5)
    assert row.absolute_ci_upper == pytest.approx(0.53462, abs=1e-5)
    assert row.relative_effect == pytest.approx(0.29 / 0.41)
    assert (row.relative_ci_lower, row.relative_ci_upper) == pytest.approx((-0.0353, 1.4499), abs=1e-4)
    # The p-value tests the relative effect shown: its interval holds zero, so it is not significant.
    assert row.p_value == pytest.approx(GB_RELATIVE_P, abs=1e-5)
    assert row.adjusted_p_value == pytest.approx(row.p_value)  # a family of one
    assert not row.is_significant
    assert readout.verdict == decisions.Verdict(
        decisions.KEEP_RUNNING, "no goal metric wins after holm correction (closest: pm_revenue_usd +70.7% "
                                "(95% CI -3.5% to +145.0%), adjusted p = 0.062)")


def test_goal_win_ships():
    readout = two_arms("win", win_rows("win", conversion("win", "control", 0, "pm_retention_rate", 3407, 1363),
                                       conversion("win", "treatment", 1, "pm_retention_rate", 3461, 1385)),
                       units=(34070, 34610))
    row = result(readout, "pm_revenue_usd")
    assert row.relative_effect == pytest.approx(0.29 / 0.41)
    # Ten times the units: the standard error sqrt(10) times smaller, 0.37880 / sqrt(10) = 0.11979.
    assert row.relative_ci_upper - row.relative_effect == pytest.approx(1.96 * 0.37880 / 10 ** 0.5, abs=1e-3)
    assert row.adjusted_p_value == pytest.approx(row.p_value) and row.p_value < 1e-8
    assert row.is_significant and not row.is_harmful
    guardrail = result(readout, "pm_retention_rate")
    assert guardrail.adjusted_p_value is None and not guardrail.is_significant
    assert readout.verdict.decision == decisions.SHIP
    assert readout.verdict.reason.startswith("goal pm_revenue_usd wins: +70.7% (95% CI +47.3% to +94.2%), "
                                             "adjusted p = ")
    assert readout.verdict.reason.endswith("; no guardrail harmed")
    # 34070 against 34610 units at 50/50: chi-square 2 * 270^2 / 34340 = 4.2458, p = erfc(sqrt(4.2458 / 2)) = 0.03935.
    assert readout.srm_p_value == pytest.approx(0.03935, abs=1e-5)
    assert {(r.variation_decision, r.decision, r.srm_p_value) for r in readout.results} == {
        ("ship", "ship", readout.srm_p_value)}


def test_a_harmed_guardrail_blocks_ship():
    # Retention 1704 / 3407 = 50.0% in control, 1385 / 3461 = 40.0% in treatment: -20.0%.
    readout = two_arms("harm", win_rows("harm", conversion("harm", "control", 0, "pm_retention_rate", 3407, 1704),
                                       conversion("harm", "treatment", 1, "pm_retention_rate", 3461, 1385)))
    harmed = result(readout, "pm_retention_rate")
    assert harmed.relative_effect == pytest.approx((1385 / 3461) / (1704 / 3407) - 1)
    assert harmed.is_significant and harmed.is_harmful and harmed.p_value < 1e-10
    assert result(readout, "pm_revenue_usd").is_significant  # the goal still wins...
    assert readout.verdict.decision == decisions.DO_NOT_SHIP  # ...but the guardrail decides
    assert readout.verdict.reason.startswith("guardrail pm_retention_rate harmed: -20.0% (95% CI ")


def test_a_guardrail_moving_in_its_good_direction_is_no_harm():
    lower_is_better = {"direction": "lower_is_better"}
    down = two_arms("down", win_rows("down", conversion("down", "control", 0, "pm_dormant_users", 3407, 1704,
                                                       **lower_is_better),
                                    conversion("down", "treatment", 1, "pm_dormant_users", 3461, 1385,
                                               **lower_is_better)))
    assert not result(down, "pm_dormant_users").is_harmful and down.verdict.decision == decisions.SHIP
    up = two_arms("up", win_rows("up", conversion("up", "control", 0, "pm_dormant_users", 3407, 1385,
                                                 **lower_is_better),
                                conversion("up", "treatment", 1, "pm_dormant_users", 3461, 1704, **lower_is_better)))
    assert result(up, "pm_dormant_users").is_harmful and up.verdict.decision == decisions.DO_NOT_SHIP


def test_sample_ratio_mismatch_makes_the_experiment_invalid():
    # 500 against 650 units at 50/50: chi-square 2 * 75^2 / 575 = 19.57, p ~ 1e-5 < 0.001.
    readout = two_arms("srm", win_rows("srm"), units=(500, 650))
    assert readout.srm_p_value < decisions.SRM_P_THRESHOLD
    assert readout.verdict.decision == decisions.INVALID
    assert readout.verdict.reason.startswith("sample ratio mismatch: units control 500, treatment 650 against "
                                             "weights 0.5/0.5 (p = ")
    assert {r.variation_decision for r in readout.results} == {decisions.INVALID}
    # The case, 500 against 600: chi-square 9.0909, p 0.00257 — a warning level, not invalid.
    readout = two_arms("srm_ok", win_rows("srm_ok"), units=(500, 600))
    assert readout.srm_p_value == pytest.approx(0.00257, abs=1e-5)
    assert readout.verdict.decision == decisions.SHIP


def test_an_experiment_that_ended_too_early_is_invalid():
    readout = two_arms("short", win_rows("short"), runtime_days=10, end_date=START + dt.timedelta(days=9))
    assert readout.verdict == decisions.Verdict(
        decisions.INVALID, "too short: ended after 10 days, before its minimum runtime of 14 days")


def test_before_its_minimum_runtime_a_win_keeps_running_but_harm_stops_it():
    running = {"is_ended": False, "runtime_days": 7}
    readout = two_arms("early", win_rows("early"), **running)
    assert result(readout, "pm_revenue_usd").is_significant
    assert readout.verdict == decisions.Verdict(
        decisions.KEEP_RUNNING, "running 7 of its minimum 14 days: no ship decision before the minimum runtime")
    harmful = two_arms("early_harm", win_rows("early_harm",
                                             conversion("early_harm", "control", 0, "pm_retention_rate", 3407, 1704),
                                             conversion("early_harm", "treatment", 1, "pm_retention_rate", 3461, 1385)),
                       **running)
    assert harmful.verdict.decision == decisions.DO_NOT_SHIP


def test_nothing_significant_keeps_running():
    readout = two_arms("flat", [goal("flat", "control", 0, GB_CONTROL), goal("flat", "treatment", 1, GB_CONTROL)],
                       units=(3407, 3407))
    row = result(readout, "pm_revenue_usd")
    assert row.absolute_effect == pytest.approx(0) and row.p_value == pytest.approx(1)
    assert readout.verdict.decision == decisions.KEEP_RUNNING
    assert readout.verdict.reason.startswith("no goal metric wins after holm correction (closest: pm_revenue_usd +0.0%")


def test_holm_corrects_over_goal_metrics_only_and_can_stop_a_win():
    # Three goals: a borderline win (p 0.0438) and two without effect (p 1). Holm: 3 x 0.0438 = 0.13.
    rows = [goal("holm", "control", 0, BORDER_CONTROL), goal("holm", "treatment", 1, BORDER_TREATMENT)]
    rows += [goal("holm", arm, i, BORDER_CONTROL, metric=metric)
             for metric in ("pm_orders", "pm_events") for arm, i in (("control", 0), ("treatment", 1))]
    # A guardrail with a tiny p (in its good direction) is no member of the family.
    rows += [conversion("holm", "control", 0, "pm_retention_rate", 3407, 1385),
             conversion("holm", "treatment", 1, "pm_retention_rate", 3461, 1704)]
    readout = two_arms("holm", rows, units=(4000, 4000))
    win = result(readout, "pm_revenue_usd")
    assert win.p_value == pytest.approx(BORDER_P, abs=1e-4)
    assert win.adjusted_p_value == pytest.approx(3 * win.p_value)
    assert not win.is_significant
    assert result(readout, "pm_retention_rate").is_significant
    assert readout.verdict.decision == decisions.KEEP_RUNNING
    assert "(closest: pm_revenue_usd +70.7%" in readout.verdict.reason
    assert readout.verdict.reason.endswith(f"adjusted p = {3 * win.p_value:.3f})")


@pytest.mark.parametrize(("correction", "factor", "decision"), [("holm", 2.0, decisions.KEEP_RUNNING),
                                                                ("benjamini_hochberg", 1.0, decisions.SHIP)])
def test_the_experiments_correction_is_used(correction, factor, decision):
    # Two goals with the same p 0.0438: Holm gives 2p = 0.0876 to both (no win), Benjamini-Hochberg p (a win).
    rows = [goal("two", arm, i, sums, metric=metric) for metric in ("pm_revenue_usd", "pm_orders")
            for arm, i, sums in (("control", 0, BORDER_CONTROL), ("treatment", 1, BORDER_TREATMENT))]
    readout = two_arms("two", rows, units=(4000, 4000), correction=correction)
    assert [r.adjusted_p_value for r in readout.results] == pytest.approx([factor * BORDER_P] * 2, abs=2e-4)
    assert readout.verdict.decision == decision


def test_multi_arm_ships_the_winning_variation_and_names_the_harmful_one():
    experiment_id = "arms"
    rows = [goal(experiment_id, "control", 0, BORDER_CONTROL), goal(experiment_id, "a", 1, WIN_TREATMENT),
            goal(experiment_id, "b", 2, BORDER_CONTROL),
            conversion(experiment_id, "control", 0, "pm_retention_rate", 3407, 1704),
            conversion(experiment_id, "a", 1, "pm_retention_rate", 3461, 1731),
            conversion(experiment_id, "b", 2, "pm_retention_rate", 3407, 1385)]
    readout = read_out_experiment(experiment(experiment_id),
                                  variations(experiment_id, ("control", 1 / 3, 3407), ("a", 1 / 3, 3461),
                                             ("b", 1 / 3, 3407)), rows)
    # The family: one goal x two treatments. a: 2 x its p; b: p 1.
    a = result(readout, "pm_revenue_usd", "a")
    assert a.adjusted_p_value == pytest.approx(2 * a.p_value) and a.adjusted_p_value < 0.05
    assert result(readout, "pm_revenue_usd", "b").adjusted_p_value == pytest.approx(1)
    assert {v: verdict.decision for v, verdict in readout.variation_verdicts.items()} == {
        "a": decisions.SHIP, "b": decisions.DO_NOT_SHIP}
    assert readout.verdict.decision == decisions.SHIP
    assert readout.verdict.reason.startswith("a: goal pm_revenue_usd wins: +70.7%")
    assert [(r.variation, r.metric_name, r.variation_decision, r.decision) for r in readout.results] == [
        ("a", "pm_revenue_usd", "ship", "ship"), ("a", "pm_retention_rate", "ship", "ship"),
        ("b", "pm_revenue_usd", "do_not_ship", "ship"), ("b", "pm_retention_rate", "do_not_ship", "ship")]


def test_ratio_metrics_use_their_denominators_and_a_zero_baseline_has_no_relative_effect():
    def ratio(variation, index, numerators, denominators):
        return statistics("ratio", variation, index, "pm_ai_acceptance_rate", len(numerators), sum(numerators),
                          sum(v * v for v in numerators), kind="ratio", unit="ratio",
                          denominator_sum=sum(denominators), denominator_sum_squares=sum(d * d for d in denominators),
                          value_denominator_sum=sum(v * d for v, d in zip(numerators, denominators, strict=True)))

    rows = [ratio("control", 0, [1, 0, 2, 1], [4, 2, 5, 3]), ratio("treatment", 1, [2, 1, 3, 2], [4, 3, 5, 4]),
            of_values("ratio", "control", 0, "pm_orders", [0, 0, 0, 0], role="guardrail", unit="count"),
            of_values("ratio", "treatment", 1, "pm_orders", [0, 1, 0, 1], role="guardrail", unit="count")]
    readout = two_arms("ratio", rows, units=(4, 4))
    accepted = result(readout, "pm_ai_acceptance_rate")
    assert accepted.control_mean == pytest.approx(4 / 14) and accepted.variation_mean == pytest.approx(8 / 16)
    assert accepted.absolute_effect == pytest.approx(0.5 - 4 / 14)
    orders = result(readout, "pm_orders")
    assert orders.absolute_effect == pytest.approx(0.5)
    assert (orders.relative_effect, orders.relative_ci_lower, orders.relative_ci_upper) == (None, None, None)
    assert not orders.cuped_applied and not accepted.cuped_applied


def test_cuped_and_sequential_settings_reach_compare(monkeypatch):
    from product_metrics.experiments import stats

    calls = []
    original = stats.compare

    def spy(control, treatment, **options):
        calls.append((dict(control), options))
        return original(control, treatment, **options)

    monkeypatch.setattr(stats, "compare", spy)
    # Values 1..4 (control) and 2..5 (treatment), each unit's covariate 1..4.
    covariates = {"covariate_sum": 10.0, "covariate_sum_squares": 30.0}
    rows = [goal("seq", "control", 0, (4, 10.0, 30.0), **covariates, value_covariate_sum=30.0),
            goal("seq", "treatment", 1, (4, 14.0, 54.0), **covariates, value_covariate_sum=40.0)]
    readout = two_arms("seq", rows, units=(4, 4), sequential_n_star=5000.0, alpha=0.1)
    row = result(readout, "pm_revenue_usd")
    assert row.cuped_applied and row.sequential
    control, options = calls[0]
    assert control == {"n": 4, "sum": 10.0, "sum_squares": 30.0, "covariate_sum": 10.0,
                       "covariate_sum_squares": 30.0, "covariate_sum_products": 30.0}
    assert options["sequential_n_star"] == 5000.0 and options["alpha"] == 0.1
    assert {c[1]["relative"] for c in calls} == {True, False}


def test_daily_is_cumulative_by_exposure_date():
    day1, day2 = START, START + dt.timedelta(days=1)
    rows = [of_values("daily", "control", 0, "pm_revenue_usd", [1, 2, 3, 4], date=day1),
            of_values("daily", "treatment", 1, "pm_revenue_usd", [2, 3, 4, 5], date=day1),
            of_values("daily", "control", 0, "pm_revenue_usd", [5, 6], date=day2),
            of_values("daily", "treatment", 1, "pm_revenue_usd", [8, 9], date=day2)]
    readout = two_arms("daily", rows, units=(6, 6))
    first, second = readout.daily
    assert (first.exposure_date, first.control_units, first.variation_units) == (day1, 4, 4)
    # Day 1: means 2.5 and 3.5, variances 5/3 each, se sqrt(5/6) = 0.91287, Welch df 6, t(0.975, 6) = 2.446912.
    assert first.absolute_effect == pytest.approx(1.0)
    assert (first.absolute_ci_lower, first.absolute_ci_upper) == pytest.approx((1 - 2.233719, 1 + 2.233719), abs=1e-5)
    # Its relative effect 1 / 2.5 = 0.4, variance (5/12) / 2.5^2 + (5/12) * 3.5^2 / 2.5^4 = 0.197333
    # (se 0.44422), t 0.90045 on 6 df: p 0.40257.
    assert first.relative_effect == pytest.approx(0.4)
    assert first.p_value == pytest.approx(0.40257, abs=1e-4)
    # Day 2 holds every unit exposed up to it: means 21/6 and 31/6, the experiment's result.
    assert (second.exposure_date, second.control_units, second.variation_units) == (day2, 6, 6)
    assert second.absolute_effect == pytest.approx(10 / 6)
    row = result(readout, "pm_revenue_usd")
    assert (second.absolute_effect, second.p_value) == (row.absolute_effect, row.p_value)


def test_read_out_orders_experiments_and_arms():
    marts = Marts(experiments=[experiment("zeta"), experiment("alpha")],
                  variations=variations("zeta", ("control", 0.5, 4), ("t", 0.5, 4))[::-1]
                  + variations("alpha", ("control", 0.5, 0), ("t", 0.5, 0)),
                  statistics=[])
    readouts = read_out(marts)
    assert [r.experiment.experiment_id for r in readouts] == ["alpha", "zeta"]
    assert [v.variation for v in readouts[1].variations] == ["control", "t"]
    # No units yet: no SRM test, no results, nothing concluded.
    assert readouts[0].srm_p_value is None and readouts[0].results == []
    assert readouts[0].verdict == decisions.Verdict(decisions.KEEP_RUNNING,
                                                    "no goal metric has units with complete windows in both arms yet")
