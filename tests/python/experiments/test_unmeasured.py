"""What the readout could not judge is never hidden: the guardrails an experiment cannot measure
per user (fct_experiments.unmeasured_guardrails) end every valid decision's reason, and an
experiment with units but no statistics yet (no complete window) keeps running and says why;
fct_experiment_decisions has a row for each."""

from __future__ import annotations

import datetime as dt

import pytest

from product_metrics.experiments import decisions
from product_metrics.experiments.readout import decision_rows, read_out, result_rows
from product_metrics.experiments.tables import Marts

from .marts import START, experiment, variations
from .test_readout import conversion, two_arms, win_rows

LATENCY = "pm_ai_latency_p90_ms (a percentile)"
FIRST_WINDOW_END = START + dt.timedelta(days=14)


def test_a_ship_names_the_guardrails_it_could_not_judge():
    readout = two_arms("win", win_rows("win"), units=(34070, 34610), unmeasured_guardrails=LATENCY)
    assert readout.verdict.decision == decisions.SHIP
    assert readout.verdict.reason.startswith("goal pm_revenue_usd wins: +70.7% (95% CI +47.3% to +94.2%), "
                                             "adjusted p = ")
    assert readout.verdict.reason.endswith("; no guardrail harmed; not measured: pm_ai_latency_p90_ms (a percentile)")
    assert readout.unmeasured_guardrails == LATENCY
    # Every result row and the decision row carry the same reason.
    assert {row["decision_reason"] for row in result_rows([readout])} == {readout.verdict.reason}
    assert decision_rows([readout])[0]["decision_reason"] == readout.verdict.reason


def test_do_not_ship_and_keep_running_name_them_too_but_invalid_does_not():
    # Retention 1704 / 3407 against 1385 / 3461: harmed (test_readout.test_a_harmed_guardrail_blocks_ship).
    harm = two_arms("harm", win_rows("harm", conversion("harm", "control", 0, "pm_retention_rate", 3407, 1704),
                                     conversion("harm", "treatment", 1, "pm_retention_rate", 3461, 1385)),
                    unmeasured_guardrails=LATENCY)
    assert harm.verdict.decision == decisions.DO_NOT_SHIP
    assert harm.verdict.reason.startswith("guardrail pm_retention_rate harmed: -20.0% (95% CI ")
    assert harm.verdict.reason.endswith(f"; not measured: {LATENCY}")
    running = two_arms("running", win_rows("running"), units=(34070, 34610), is_ended=False, runtime_days=7,
                       unmeasured_guardrails=LATENCY)
    assert running.verdict == decisions.Verdict(
        decisions.KEEP_RUNNING, "running 7 of its minimum 14 days: no ship decision before the minimum runtime; "
                                f"not measured: {LATENCY}")
    # A sample-ratio mismatch: nothing was judged, the reason is the mismatch alone.
    invalid = two_arms("srm", win_rows("srm"), units=(500, 650), unmeasured_guardrails=LATENCY)
    assert invalid.verdict.decision == decisions.INVALID and "not measured" not in invalid.verdict.reason
    # Without unmeasured guardrails the reason is as before.
    plain = two_arms("plain", win_rows("plain"), units=(34070, 34610))
    assert plain.verdict.reason.endswith("; no guardrail harmed")


def waiting(experiment_id: str = "waiting", *, units=(40, 60), weights=(0.4, 0.6), **overrides):
    """An experiment with units whose windows are all still open: no statistics rows."""
    return Marts(experiments=[experiment(experiment_id, exposed_users=sum(units), **overrides)],
                 variations=variations(experiment_id, ("control", weights[0], units[0]),
                                       ("treatment", weights[1], units[1])),
                 statistics=[])


def test_units_without_a_complete_window_keep_running_and_say_when_the_first_ends():
    (readout,) = read_out(waiting(first_window_end_date=FIRST_WINDOW_END))
    assert readout.results == [] and readout.daily == []
    assert readout.verdict == decisions.Verdict(
        decisions.KEEP_RUNNING, "no unit has a complete measurement window yet (the first window ends 2026-04-20)")
    assert readout.variation_verdicts == {"treatment": readout.verdict}
    # 40 and 60 units at weights 0.4 / 0.6: exactly as planned, chi-square 0, p 1.
    assert readout.srm_p_value == pytest.approx(1.0)
    assert decision_rows([readout]) == [{
        "experiment_id": "waiting", "decision": "keep_running",
        "decision_reason": "no unit has a complete measurement window yet (the first window ends 2026-04-20)",
        "srm_p_value": readout.srm_p_value, "runtime_days": 28, "units": 100}]
    assert result_rows([readout]) == []  # fct_experiment_results keeps its grain: no metric, no row


def test_without_a_known_first_window_and_while_running_the_reason_is_the_same():
    (readout,) = read_out(waiting(is_ended=False, runtime_days=3, unmeasured_guardrails="pm_churn_rate "
                                                                                       "(no per-user value)"))
    # Before the minimum runtime too: missing windows are the reason nothing is read out.
    assert readout.verdict == decisions.Verdict(
        decisions.KEEP_RUNNING, "no unit has a complete measurement window yet; not measured: pm_churn_rate "
                                "(no per-user value)")


def test_an_experiment_without_statistics_can_still_be_invalid():
    # 100 against 150 units at 50/50: chi-square 2 * 25^2 / 125 = 10, p 0.00157 — above 0.001, valid;
    # 100 against 200: chi-square 2 * 50^2 / 150 = 33.3, p 7.7e-9 — a mismatch, before any window ends.
    (valid,) = read_out(waiting(units=(100, 150), weights=(0.5, 0.5)))
    assert valid.srm_p_value == pytest.approx(0.001565, abs=1e-6)
    assert valid.verdict.decision == decisions.KEEP_RUNNING
    (mismatch,) = read_out(waiting(units=(100, 200), weights=(0.5, 0.5)))
    assert mismatch.verdict.decision == decisions.INVALID
    assert mismatch.verdict.reason.startswith("sample ratio mismatch: units control 100, treatment 200")
    (short,) = read_out(waiting(runtime_days=10, first_window_end_date=FIRST_WINDOW_END))
    assert short.verdict == decisions.Verdict(
        decisions.INVALID, "too short: ended after 10 days, before its minimum runtime of 14 days")
