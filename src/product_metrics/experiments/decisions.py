"""The decision an experiment's readout comes to, per treatment variation and for the experiment,
each with a one-line reason that names the metric and its numbers.

In order, the first rule that holds decides:
1. invalid: the arms' units do not match their traffic weights (sample-ratio mismatch, chi-square
   p < 0.001), or the experiment ended before its minimum runtime;
2. do_not_ship: a guardrail metric is significantly harmed (raw p < alpha, in its bad direction; no
   correction: a guardrail is a safety check, and a correction would only hide harm);
3. keep_running: the experiment is running and has not reached its minimum runtime;
4. ship: a goal metric wins (p adjusted over the goal metrics x treatment variations < alpha, in its
   good direction), and (rule 2) no guardrail is harmed;
5. keep_running: no conclusion yet.
Harm is judged before the minimum runtime too: stopping a harmful variation early is the point of
guardrails, while a win needs the full runtime (weekly cycles, novelty effects).

The experiment's decision across its treatment variations: invalid when the experiment is; ship
when a variation ships (the one whose goal wins with the smallest adjusted p); else do_not_ship
when a variation harms a guardrail; else keep_running.

An experiment with units but no statistics (no unit has a complete metric window yet) keeps running,
unless it is invalid. A valid decision's reason ends with the guardrails the experiment cannot measure
("; not measured: pm_ai_latency_p90_ms (a percentile)"): a ship never hides what was not checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from product_metrics.experiments.readout import MetricResult
    from product_metrics.experiments.tables import Experiment, Variation

INVALID, DO_NOT_SHIP, SHIP, KEEP_RUNNING = "invalid", "do_not_ship", "ship", "keep_running"
DECISIONS = (SHIP, DO_NOT_SHIP, KEEP_RUNNING, INVALID)
SRM_P_THRESHOLD = 0.001  # the usual bar (GrowthBook, Statsig): a real mismatch, not chance, at many looks
HIGHER_IS_BETTER = "higher_is_better"


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str


def in_good_direction(direction: str, effect: float) -> bool:
    return effect > 0 if direction == HIGHER_IS_BETTER else effect < 0


def invalid_reason(experiment: Experiment, variations: Sequence[Variation], srm_p_value: float | None) -> str | None:
    """Why the experiment's numbers cannot be trusted, or None."""
    if srm_p_value is not None and srm_p_value < SRM_P_THRESHOLD:
        units = ", ".join(f"{v.variation} {v.units:,}" for v in variations)
        weights = "/".join(f"{v.weight:g}" for v in variations)
        return (f"sample ratio mismatch: units {units} against weights {weights} (p = {format_p(srm_p_value)} < "
                f"{SRM_P_THRESHOLD:g}); find why assignment or exposure logging differs between the arms")
    if experiment.is_ended and experiment.runtime_days < experiment.minimum_runtime_days:
        return (f"too short: ended after {experiment.runtime_days} days, before its minimum runtime of "
                f"{experiment.minimum_runtime_days} days")
    return None


def decide_variation(experiment: Experiment, results: Sequence[MetricResult], invalid: str | None) -> Verdict:
    """The decision for one treatment variation from its metrics' results (rules in the module docstring)."""
    if invalid is not None:
        return Verdict(INVALID, invalid)
    harmed = sorted((r for r in results if r.metric_role == "guardrail" and r.is_harmful),
                    key=lambda r: r.p_value if r.p_value is not None else 1.0)
    if harmed:
        worst = harmed[0]
        more = f" (and {len(harmed) - 1} more guardrails)" if len(harmed) > 1 else ""
        return Verdict(DO_NOT_SHIP, f"guardrail {worst.metric_name} harmed: {describe(worst, experiment.alpha)}"
                                    f"{more}")
    if not experiment.is_ended and experiment.runtime_days < experiment.minimum_runtime_days:
        return Verdict(KEEP_RUNNING, f"running {experiment.runtime_days} of its minimum {experiment.minimum_runtime_days}"
                                     " days: no ship decision before the minimum runtime")
    goals = [r for r in results if r.metric_role == "goal"]
    wins = sorted((r for r in goals if r.is_significant and r.absolute_effect is not None
                   and in_good_direction(r.direction, r.absolute_effect)),
                  key=lambda r: r.adjusted_p_value if r.adjusted_p_value is not None else 1.0)
    if wins:
        return Verdict(SHIP, f"goal {wins[0].metric_name} wins: {describe(wins[0], experiment.alpha, adjusted=True)}"
                             "; no guardrail harmed")
    tested = [r for r in goals if r.adjusted_p_value is not None]
    if not tested:
        return Verdict(KEEP_RUNNING, "no goal metric has units with complete windows in both arms yet")
    best = min(tested, key=lambda r: r.adjusted_p_value if r.adjusted_p_value is not None else 1.0)
    return Verdict(KEEP_RUNNING, f"no goal metric wins after {experiment.correction} correction "
                                 f"(closest: {best.metric_name} {describe(best, experiment.alpha, adjusted=True)})")


def without_statistics(experiment: Experiment) -> Verdict:
    """The decision of an experiment with units but no statistics row yet (and not invalid)."""
    when = (f" (the first window ends {experiment.first_window_end_date:%Y-%m-%d})"
            if experiment.first_window_end_date is not None else "")
    return Verdict(KEEP_RUNNING, f"no unit has a complete measurement window yet{when}")


def with_unmeasured(verdict: Verdict, experiment: Experiment) -> Verdict:
    """The verdict, its reason naming the guardrails the experiment cannot measure (not for invalid:
    nothing was judged)."""
    if not experiment.unmeasured_guardrails or verdict.decision == INVALID:
        return verdict
    return Verdict(verdict.decision, f"{verdict.reason}; not measured: {experiment.unmeasured_guardrails}")


def decide_experiment(verdicts: Mapping[str, Verdict], results: Sequence[MetricResult]) -> Verdict:
    """The experiment's decision from its variations' (rules in the module docstring); the reason
    names the variation when there is more than one."""
    if not verdicts:
        return Verdict(KEEP_RUNNING, "no treatment variation has units yet")
    named = len(verdicts) > 1

    def verdict_of(variation: str) -> Verdict:
        verdict = verdicts[variation]
        return Verdict(verdict.decision, f"{variation}: {verdict.reason}" if named else verdict.reason)

    first = next(iter(verdicts))
    if verdicts[first].decision == INVALID:
        return verdicts[first]
    for decision in (SHIP, DO_NOT_SHIP):
        chosen = [v for v, verdict in verdicts.items() if verdict.decision == decision]
        if chosen:
            return verdict_of(min(chosen, key=lambda v: _best_goal_p(v, results)))
    return verdict_of(min(verdicts, key=lambda v: _best_goal_p(v, results)))


def _best_goal_p(variation: str, results: Sequence[MetricResult]) -> float:
    return min((r.adjusted_p_value for r in results if r.variation == variation and r.metric_role == "goal"
                and r.adjusted_p_value is not None), default=1.0)


def describe(result: MetricResult, alpha: float, *, adjusted: bool = False) -> str:
    """`+5.2% (95% CI +2.0% to +8.4%), p = 0.0012`: the relative effect when there is one, else the
    absolute effect in the metric's unit."""
    level = f"{1 - alpha:.0%}"
    if result.relative_effect is not None:
        effect = (f"{result.relative_effect:+.1%} ({level} CI {format_percent(result.relative_ci_lower)} to "
                  f"{format_percent(result.relative_ci_upper)})")
    elif result.absolute_effect is not None:
        unit = f" {result.unit}" if result.unit else ""
        effect = (f"{result.absolute_effect:+.4g}{unit} ({level} CI {format_number(result.absolute_ci_lower)} to "
                  f"{format_number(result.absolute_ci_upper)})")
    else:
        return "no estimate (too few units)"
    p = f"p = {format_p(result.p_value)}"
    if adjusted and result.adjusted_p_value is not None:
        p = f"adjusted p = {format_p(result.adjusted_p_value)}"
    return f"{effect}, {p}"


def format_percent(value: float | None) -> str:
    return "?" if value is None else f"{value:+.1%}"


def format_number(value: float | None) -> str:
    return "?" if value is None else f"{value:+.4g}"


def format_p(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"
