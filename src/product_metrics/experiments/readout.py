"""The readout of each experiment from the marts' per-arm sums (product_metrics.experiments.tables):

- a sample-ratio-mismatch check of the arms' units against their weights;
- per treatment variation x metric, the arms' sums over every exposure date compared with the
  control's (stats.compare): the absolute and the relative effect, each with its interval, ratio
  fields for ratio metrics, CUPED when the covariate sums are there, sequential when the experiment
  sets sequential_n_star; p-values adjusted (Holm or Benjamini-Hochberg) over the experiment's goal
  metrics x treatment variations only;
- the decisions (product_metrics.experiments.decisions), also for an experiment without statistics
  yet, their reasons naming the guardrails the experiment cannot measure;
- the daily view: on each exposure date d, the same comparison over the units first exposed on or
  before d (cumulative), for the sequential chart.

The p-value of a row is the relative comparison's (GrowthBook's default), so that the relative
effect and interval shown agree with it; when the control mean is zero there is no relative effect,
and the p-value is the absolute comparison's (Welch's t on the difference of means).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from product_metrics.experiments import decisions
from product_metrics.experiments.tables import Experiment, Marts, Statistics, Variation

SUM_FIELDS = ("units", "value_sum", "value_sum_squares", "denominator_sum", "denominator_sum_squares",
              "value_denominator_sum", "covariate_sum", "covariate_sum_squares", "value_covariate_sum")


@dataclass
class MetricResult:
    """One row of fct_experiment_results: a treatment variation against the control on one metric."""

    experiment_id: str
    variation: str
    metric_name: str
    metric_role: str
    metric_kind: str
    unit: str | None
    direction: str
    control_units: int
    variation_units: int
    control_mean: float | None = None
    variation_mean: float | None = None
    absolute_effect: float | None = None
    absolute_ci_lower: float | None = None
    absolute_ci_upper: float | None = None
    relative_effect: float | None = None
    relative_ci_lower: float | None = None
    relative_ci_upper: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None  # goal metrics only: guardrails are not corrected
    srm_p_value: float | None = None
    is_significant: bool = False
    is_harmful: bool = False
    variation_decision: str = ""
    decision: str = ""
    decision_reason: str = ""
    cuped_applied: bool = False
    sequential: bool = False


@dataclass(frozen=True)
class DailyResult:
    """One row of fct_experiment_daily: the comparison over the units first exposed up to exposure_date."""

    experiment_id: str
    variation: str
    metric_name: str
    exposure_date: dt.date
    control_units: int
    variation_units: int
    absolute_effect: float | None
    absolute_ci_lower: float | None
    absolute_ci_upper: float | None
    relative_effect: float | None
    relative_ci_lower: float | None
    relative_ci_upper: float | None
    p_value: float | None


@dataclass
class ExperimentReadout:
    experiment: Experiment
    variations: list[Variation]
    srm_p_value: float | None
    results: list[MetricResult]
    daily: list[DailyResult]
    verdict: decisions.Verdict
    variation_verdicts: dict[str, decisions.Verdict] = field(default_factory=dict)

    @property
    def control(self) -> Variation | None:
        return self.variations[0] if self.variations else None

    @property
    def unmeasured_guardrails(self) -> str | None:
        """The guardrails the readout cannot judge ('metric (reason), ...'), or None."""
        return self.experiment.unmeasured_guardrails


def read_out(marts: Marts) -> list[ExperimentReadout]:
    """The readout of every experiment of the marts, in experiment_id order."""
    variations: dict[str, list[Variation]] = defaultdict(list)
    for variation in marts.variations:
        variations[variation.experiment_id].append(variation)
    statistics: dict[str, list[Statistics]] = defaultdict(list)
    for row in marts.statistics:
        statistics[row.experiment_id].append(row)
    return [read_out_experiment(experiment, sorted(variations[experiment.experiment_id],
                                                   key=lambda v: v.variation_index),
                                statistics[experiment.experiment_id])
            for experiment in sorted(marts.experiments, key=lambda e: e.experiment_id)]


def read_out_experiment(experiment: Experiment, variations: Sequence[Variation],
                        statistics: Sequence[Statistics]) -> ExperimentReadout:
    """The readout of one experiment; `variations` control first."""
    from product_metrics.experiments.stats import adjust_p_values

    srm_p_value = _srm_p_value(variations)
    control, treatments = (variations[0].variation, [v.variation for v in variations[1:]]) if variations else ("", [])
    metrics = _metrics(statistics)
    by_arm: dict[tuple[str, str], list[Statistics]] = defaultdict(list)
    for row in statistics:
        by_arm[(row.metric_name, row.variation)].append(row)

    results = []
    for treatment in treatments:
        for metric in metrics.values():
            result = _compare_arms(experiment, metric, treatment, _sums(by_arm[(metric.metric_name, control)]),
                                   _sums(by_arm[(metric.metric_name, treatment)]))
            result.srm_p_value = srm_p_value
            results.append(result)

    goals = [r for r in results if r.metric_role == "goal" and r.p_value is not None]
    if goals:
        adjusted_p_values = adjust_p_values([r.p_value for r in goals], method="benjamini_hochberg"
                                            if experiment.correction == "benjamini_hochberg" else "holm")
        for result, adjusted in zip(goals, adjusted_p_values, strict=True):
            result.adjusted_p_value = _number(adjusted)
    for result in results:
        deciding_p = result.adjusted_p_value if result.metric_role == "goal" else result.p_value
        result.is_significant = deciding_p is not None and deciding_p < experiment.alpha
        result.is_harmful = (result.is_significant and result.absolute_effect is not None
                             and result.absolute_effect != 0
                             and not decisions.in_good_direction(result.direction, result.absolute_effect))

    invalid = decisions.invalid_reason(experiment, variations, srm_p_value)
    verdicts = {t: decisions.decide_variation(experiment, [r for r in results if r.variation == t], invalid)
                for t in treatments}
    if invalid is not None:
        verdict = decisions.Verdict(decisions.INVALID, invalid)
    elif not statistics and experiment.exposed_users > 0:
        verdict = decisions.without_statistics(experiment)
        verdicts = dict.fromkeys(treatments, verdict)
    else:
        verdict = decisions.decide_experiment(verdicts, results)
    verdict = decisions.with_unmeasured(verdict, experiment)
    for result in results:
        result.variation_decision = verdicts[result.variation].decision
        result.decision, result.decision_reason = verdict.decision, verdict.reason
    return ExperimentReadout(experiment, list(variations), srm_p_value, results,
                             _daily(experiment, control, treatments, metrics, by_arm), verdict, verdicts)


def _srm_p_value(variations: Sequence[Variation]) -> float | None:
    from product_metrics.experiments.stats import sample_ratio_mismatch

    if len(variations) < 2 or sum(v.units for v in variations) == 0:
        return None
    return _number(sample_ratio_mismatch([v.units for v in variations], [v.weight for v in variations]).p_value)


def _metrics(statistics: Sequence[Statistics]) -> dict[str, Statistics]:
    """One row per metric (its role, kind, direction, unit), goal metrics first, then by name."""
    metrics: dict[str, Statistics] = {}
    for row in statistics:
        metrics.setdefault(row.metric_name, row)
    return dict(sorted(metrics.items(), key=lambda item: (item[1].metric_role != "goal", item[0])))


def _sums(rows: Iterable[Statistics]) -> dict[str, float | None]:
    """The arm's sums over its rows; a sum that is null in every row (not a ratio, no CUPED) stays null."""
    sums: dict[str, float | None] = dict.fromkeys(SUM_FIELDS)
    for row in rows:
        for name in SUM_FIELDS:
            value = getattr(row, name)
            if value is not None:
                sums[name] = (sums[name] or 0) + value
    return sums


def _arm(sums: Mapping[str, float | None], kind: str, cuped: bool) -> dict[str, float]:
    """The arm's sufficient statistics as stats.compare takes them."""
    arm = {"n": sums["units"] or 0, "sum": sums["value_sum"] or 0.0, "sum_squares": sums["value_sum_squares"] or 0.0}
    if kind == "ratio":
        arm |= {"denominator_sum": sums["denominator_sum"] or 0.0,
                "denominator_sum_squares": sums["denominator_sum_squares"] or 0.0,
                "sum_products": sums["value_denominator_sum"] or 0.0}
    if cuped:
        arm |= {"covariate_sum": sums["covariate_sum"] or 0.0, "covariate_sum_squares": sums["covariate_sum_squares"]
                or 0.0, "covariate_sum_products": sums["value_covariate_sum"] or 0.0}
    return arm


def _has_covariate(sums: Mapping[str, float | None]) -> bool:
    return all(sums[name] is not None for name in ("covariate_sum", "covariate_sum_squares", "value_covariate_sum"))


# The metric kinds whose per-unit value is 0 or 1 (macros/experiments/experiment_metric_catalog.sql).
BINARY_KINDS = ("conversion", "retention")


@dataclass(frozen=True)
class _Comparisons:
    absolute: Any
    relative: Any
    cuped: bool


def _comparisons(experiment: Experiment, kind: str, control: Mapping[str, float | None],
                 treatment: Mapping[str, float | None]) -> _Comparisons | None:
    """The absolute and relative comparisons of the two arms, or None when an arm has fewer than two
    units (no variance to estimate)."""
    from product_metrics.experiments.stats import compare

    if (control["units"] or 0) < 2 or (treatment["units"] or 0) < 2:
        return None
    cuped = kind != "ratio" and _has_covariate(control) and _has_covariate(treatment)
    arms = _arm(control, kind, cuped), _arm(treatment, kind, cuped)
    # 0/1 metrics take the binomial variance p(1 - p), as gbstats does for proportions.
    alpha, n_star, proportion = experiment.alpha, experiment.sequential_n_star, kind in BINARY_KINDS
    return _Comparisons(
        compare(*arms, relative=False, alpha=alpha, sequential_n_star=n_star, proportion=proportion),
        compare(*arms, relative=True, alpha=alpha, sequential_n_star=n_star, proportion=proportion), cuped)


def _compare_arms(experiment: Experiment, metric: Statistics, treatment: str, control_sums: Mapping[str, float | None],
                  treatment_sums: Mapping[str, float | None]) -> MetricResult:
    result = MetricResult(experiment.experiment_id, treatment, metric.metric_name, metric.metric_role,
                          metric.metric_kind, metric.unit, metric.direction, int(control_sums["units"] or 0),
                          int(treatment_sums["units"] or 0), sequential=experiment.sequential_n_star is not None)
    compared = _comparisons(experiment, metric.metric_kind, control_sums, treatment_sums)
    if compared is None:
        return result
    absolute, relative = compared.absolute, compared.relative
    result.control_mean, result.variation_mean = _number(absolute.control_mean), _number(absolute.treatment_mean)
    result.absolute_effect, result.absolute_ci_lower, result.absolute_ci_upper = _interval(absolute)
    result.relative_effect, result.relative_ci_lower, result.relative_ci_upper = _interval(relative)
    result.p_value = _p_value(compared)
    result.cuped_applied = bool(getattr(absolute, "cuped_applied", compared.cuped))
    return result


def _p_value(compared: _Comparisons) -> float | None:
    tested = compared.relative if compared.relative.effect is not None else compared.absolute
    return _number(tested.p_value)


def _interval(comparison) -> tuple[float | None, float | None, float | None]:
    return _number(comparison.effect), _number(comparison.ci_lower), _number(comparison.ci_upper)


def _number(value: Any) -> float | None:
    """A plain float (not numpy's), None for a missing or undefined number."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _daily(experiment: Experiment, control: str, treatments: Sequence[str], metrics: Mapping[str, Statistics],
           by_arm: Mapping[tuple[str, str], list[Statistics]]) -> list[DailyResult]:
    dates = sorted({row.exposure_date for rows in by_arm.values() for row in rows})
    daily = []
    for treatment in treatments:
        for metric in metrics.values():
            control_rows = by_arm.get((metric.metric_name, control), [])
            treatment_rows = by_arm.get((metric.metric_name, treatment), [])
            for date in dates:
                control_sums = _sums(r for r in control_rows if r.exposure_date <= date)
                treatment_sums = _sums(r for r in treatment_rows if r.exposure_date <= date)
                compared = _comparisons(experiment, metric.metric_kind, control_sums, treatment_sums)
                if compared is None:
                    continue
                daily.append(DailyResult(experiment.experiment_id, treatment, metric.metric_name, date,
                                         int(control_sums["units"] or 0), int(treatment_sums["units"] or 0),
                                         *_interval(compared.absolute), *_interval(compared.relative),
                                         _p_value(compared)))
    return daily


def result_rows(readouts: Iterable[ExperimentReadout]) -> list[dict[str, Any]]:
    return [asdict(result) for readout in readouts for result in readout.results]


def daily_rows(readouts: Iterable[ExperimentReadout]) -> list[dict[str, Any]]:
    return [asdict(row) for readout in readouts for row in readout.daily]


def decision_rows(readouts: Iterable[ExperimentReadout]) -> list[dict[str, Any]]:
    """One row of fct_experiment_decisions per experiment, with or without result rows."""
    return [{"experiment_id": r.experiment.experiment_id, "decision": r.verdict.decision,
             "decision_reason": r.verdict.reason, "srm_p_value": r.srm_p_value,
             "runtime_days": r.experiment.runtime_days, "units": r.experiment.exposed_users} for r in readouts]
