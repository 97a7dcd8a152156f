"""The statistics of an experiment readout, from per-arm sufficient statistics.

Each arm is summarised by sums the warehouse computes in one pass: the number of units `n`, Σy and Σy²
of the per-unit value, and optionally the sums of a ratio metric's denominator (Σd, Σd², Σyd) or of a
CUPED covariate (Σx, Σx², Σyx). From them:

- `compare` gives the effect of a treatment against the control (absolute, or relative to the control
  mean by the delta method), its interval and p-value: a Welch–Satterthwaite t-test at a fixed horizon,
  or an asymptotic confidence sequence (Waudby-Smith et al.) when the experiment is looked at as it
  runs. The formulas are those of GrowthBook's frequentist engine (gbstats), whose published cases the
  tests reproduce.
- `sample_ratio_mismatch` tests the observed split of units against the planned traffic weights.
- `adjust_p_values` corrects a family of p-values (Holm, or Benjamini–Hochberg).

Bad input raises a ValueError with one line that says what is wrong; data that cannot support an
inference (an arm without variance, a zero control mean for a relative effect) gives None instead.
scipy is imported inside the functions that need it, so importing this module is instant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

__all__ = [
    "ArmStatistics",
    "Comparison",
    "SrmResult",
    "adjust_p_values",
    "compare",
    "sample_ratio_mismatch",
]

DEFAULT_SEQUENTIAL_N_STAR = 5000.0
# Sums of squares minus squared sums cancel catastrophically; a negative variance smaller than this
# share of the terms is rounding, not bad input.
_RELATIVE_NOISE = 1e-9

_RATIO_FIELDS = ("denominator_sum", "denominator_sum_squares", "sum_products")
_COVARIATE_FIELDS = ("covariate_sum", "covariate_sum_squares", "covariate_sum_products")


@dataclass(frozen=True)
class ArmStatistics:
    """Sufficient statistics of one arm (variation) for one metric.

    `sum` and `sum_squares` are Σy and Σy² of the per-unit value (a ratio metric's numerator).
    A ratio metric adds its denominator's `denominator_sum` (Σd), `denominator_sum_squares` (Σd²) and
    `sum_products` (Σyd). CUPED adds the pre-exposure covariate's `covariate_sum` (Σx),
    `covariate_sum_squares` (Σx²) and `covariate_sum_products` (Σyx). Each group is given whole or not
    at all.
    """

    n: int
    sum: float
    sum_squares: float
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    sum_products: float | None = None
    covariate_sum: float | None = None
    covariate_sum_squares: float | None = None
    covariate_sum_products: float | None = None

    @classmethod
    def from_statistics_row(cls, row: Mapping[str, Any]) -> ArmStatistics:
        """An arm from a row with the columns of `fct_experiment_statistics` (summed over dates):
        units, value_sum, value_sum_squares, denominator_sum, denominator_sum_squares,
        value_denominator_sum, covariate_sum, covariate_sum_squares, value_covariate_sum."""
        return cls(
            n=row["units"],
            sum=row["value_sum"],
            sum_squares=row["value_sum_squares"],
            denominator_sum=row.get("denominator_sum"),
            denominator_sum_squares=row.get("denominator_sum_squares"),
            sum_products=row.get("value_denominator_sum"),
            covariate_sum=row.get("covariate_sum"),
            covariate_sum_squares=row.get("covariate_sum_squares"),
            covariate_sum_products=row.get("value_covariate_sum"),
        )


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control for one metric.

    `control_mean` and `treatment_mean` are the arms' unadjusted means (Σy/n, or Σy/Σd for a ratio
    metric). `effect` is treatment minus control (CUPED-adjusted when `cuped_applied`), divided by
    |control mean| when `relative`. `ci_lower`/`ci_upper` is the (1 − alpha) interval: a t interval
    with `degrees_of_freedom` (Welch–Satterthwaite), or the confidence sequence when `sequential`
    (then `degrees_of_freedom` is None: the sequence is asymptotically normal). The interval, p-value
    and standard error are None when an arm has no variance; every effect field is None when the
    effect is undefined (a relative effect on a zero control mean, a ratio with a zero denominator).
    """

    control_mean: float | None
    treatment_mean: float | None
    effect: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    standard_error: float | None
    degrees_of_freedom: float | None
    relative: bool
    cuped_applied: bool
    sequential: bool


@dataclass(frozen=True)
class SrmResult:
    """Pearson's χ² of observed units against planned weights (k − 1 degrees of freedom)."""

    chi_square: float
    p_value: float


# ---------------------------------------------------------------------------------------------------
# Input


def _number(value: Any, where: str) -> float | None:
    """A finite float, or None for a missing value (None or NaN, as a warehouse null arrives)."""
    if value is None:
        return None
    if isinstance(value, bool | str) or not hasattr(value, "__float__"):
        raise ValueError(f"{where} is {value!r}; give a number.")
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise ValueError(f"{where} is {number}; give a finite number.")
    return number


def _arm(arm: ArmStatistics | Mapping[str, Any], name: str) -> dict[str, float | None]:
    if isinstance(arm, ArmStatistics):
        raw = {f.name: getattr(arm, f.name) for f in fields(ArmStatistics)}
    elif isinstance(arm, Mapping):
        known = {f.name for f in fields(ArmStatistics)}
        unknown = sorted(set(arm) - known)
        if unknown:
            raise ValueError(f"{name} has unknown field(s) {', '.join(map(str, unknown))}; "
                             f"the fields are {', '.join(sorted(known))}.")
        raw = {key: arm.get(key) for key in known}
    else:
        raise TypeError(f"{name} is a {type(arm).__name__}; give an ArmStatistics or a mapping of its fields.")
    values = {key: _number(value, f"{name}.{key}") for key, value in raw.items()}
    for key in ("n", "sum", "sum_squares"):
        if values[key] is None:
            raise ValueError(f"{name}.{key} is missing; n, sum and sum_squares are required.")
    n = values["n"]
    if n != int(n) or n < 2:
        raise ValueError(f"{name}.n is {raw['n']}; each arm needs a whole number of at least 2 units.")
    for group, label in ((_RATIO_FIELDS, "ratio"), (_COVARIATE_FIELDS, "CUPED covariate")):
        given = [key for key in group if values[key] is not None]
        if given and len(given) != len(group):
            missing = [key for key in group if values[key] is None]
            raise ValueError(f"{name} has {label} field(s) {', '.join(given)} without {', '.join(missing)}; "
                             "give all of them or none.")
    return values


def _variance(sum_: float, sum_squares: float, n: float, where: str) -> float:
    """The sample variance (n − 1) from sums; rounding below zero is clamped, real negatives refused."""
    centred = sum_squares - sum_ * sum_ / n
    if centred < 0:
        if -centred > _RELATIVE_NOISE * max(abs(sum_squares), sum_ * sum_ / n, 1.0):
            raise ValueError(f"{where}: the sum of squares is smaller than (sum)²/n, a negative variance; "
                             "the sums do not belong together.")
        centred = 0.0
    return centred / (n - 1)


def _covariance(sum_products: float, sum_x: float, sum_y: float, n: float, var_x: float, var_y: float,
                where: str) -> float:
    covariance = (sum_products - sum_x * sum_y / n) / (n - 1)
    bound = math.sqrt(var_x * var_y)
    noise = _RELATIVE_NOISE * max(abs(sum_products), abs(sum_x * sum_y / n), 1.0) / (n - 1)
    if abs(covariance) > bound + noise:
        raise ValueError(f"{where}: the sum of products implies a correlation beyond ±1; "
                         "the sums do not belong together.")
    return max(-bound, min(bound, covariance))


@dataclass(frozen=True)
class _Moments:
    n: float
    mean: float | None  # the unadjusted mean; None for a ratio with a zero denominator
    variance: float  # per-unit variance of the mean's estimator (delta method for a ratio)


def _plain(values: dict[str, float | None], name: str) -> _Moments:
    n, sum_, squares = values["n"], values["sum"], values["sum_squares"]
    return _Moments(n, sum_ / n, _variance(sum_, squares, n, name))


def _ratio(values: dict[str, float | None], name: str) -> _Moments:
    n = values["n"]
    mean_m, mean_d = values["sum"] / n, values["denominator_sum"] / n
    var_m = _variance(values["sum"], values["sum_squares"], n, f"{name} (numerator)")
    var_d = _variance(values["denominator_sum"], values["denominator_sum_squares"], n, f"{name} (denominator)")
    cov = _covariance(values["sum_products"], values["sum"], values["denominator_sum"], n, var_m, var_d,
                      f"{name} (numerator × denominator)")
    if mean_d == 0:
        return _Moments(n, None, 0.0)
    # Delta method for M/D: Var ≈ Var(M)/μd² − 2·Cov(M, D)·μm/μd³ + μm²·Var(D)/μd⁴.
    variance = var_m / mean_d**2 - 2 * cov * mean_m / mean_d**3 + mean_m**2 * var_d / mean_d**4
    return _Moments(n, mean_m / mean_d, max(variance, 0.0))


# ---------------------------------------------------------------------------------------------------
# compare


def compare(
    control: ArmStatistics | Mapping[str, Any],
    treatment: ArmStatistics | Mapping[str, Any],
    *,
    relative: bool = True,
    alpha: float = 0.05,
    sequential_n_star: float | None = None,
) -> Comparison:
    """Compare a treatment arm with the control arm of one metric.

    Args:
        control, treatment: each an `ArmStatistics` or a mapping with its field names (n, sum,
            sum_squares, and optionally the ratio or CUPED sums). Both arms must give the same groups.
        relative: the effect as a share of |control mean| (delta method) rather than a difference.
        alpha: 1 − the interval's coverage, and the test's level.
        sequential_n_star: None for a fixed-horizon t-test; a positive number for sequential testing,
            the total sample size the confidence sequence is tuned to be tightest at (5000 is a
            common choice).

    Returns:
        A `Comparison`.

    Raises:
        ValueError: one line naming the bad input (an arm with fewer than 2 units, sums that imply a
            negative variance, fields missing from one arm or group, an alpha outside (0, 1)).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is {alpha}; give a number between 0 and 1, e.g. 0.05.")
    if sequential_n_star is not None and not (
        _number(sequential_n_star, "sequential_n_star") or 0) > 0:
        raise ValueError(f"sequential_n_star is {sequential_n_star}; give a positive number (e.g. 5000) "
                         "or None for a fixed-horizon test.")
    a, b = _arm(control, "control"), _arm(treatment, "treatment")
    is_ratio = a["denominator_sum"] is not None
    has_covariate = a["covariate_sum"] is not None
    if is_ratio != (b["denominator_sum"] is not None) or has_covariate != (b["covariate_sum"] is not None):
        raise ValueError("control and treatment give different fields; both arms need the same ratio "
                         "and CUPED sums (or neither).")
    if is_ratio and has_covariate:
        raise ValueError("an arm gives both ratio and CUPED sums; CUPED applies to mean metrics only, "
                         "leave the covariate sums out for a ratio metric.")

    if is_ratio:
        stats_a, stats_b = _ratio(a, "control"), _ratio(b, "treatment")
    else:
        stats_a, stats_b = _plain(a, "control"), _plain(b, "treatment")

    sequential = sequential_n_star is not None

    def empty(effect: float | None = None) -> Comparison:
        return Comparison(stats_a.mean, stats_b.mean, effect, None, None, None, None, None,
                          relative, False, sequential)

    if stats_a.mean is None or stats_b.mean is None or (relative and stats_a.mean == 0):
        return empty()

    theta = _pooled_theta(a, b) if has_covariate else 0.0
    if theta != 0.0:
        adjusted_a, var_a, cov_a, var_x_a = _adjusted(a, theta, "control")
        adjusted_b, var_b, _, _ = _adjusted(b, theta, "treatment")
    else:
        adjusted_a, var_a = stats_a.mean, stats_a.variance
        adjusted_b, var_b = stats_b.mean, stats_b.variance
    n_a, n_b = stats_a.n, stats_b.n
    baseline = stats_a.mean

    difference = adjusted_b - adjusted_a
    effect = difference / abs(baseline) if relative else difference
    if var_a <= 0 or var_b <= 0:
        return Comparison(stats_a.mean, stats_b.mean, effect, None, None, None, None, None,
                          relative, theta != 0.0, sequential)

    if not relative:
        variance = var_a / n_a + var_b / n_b
    elif theta == 0.0:
        # Delta method for (B − A)/A with independent arms; squares make the sign of A irrelevant.
        variance = var_b / (n_b * baseline**2) + var_a * stats_b.mean**2 / (n_a * baseline**4)
    else:
        # Relative CUPED: the control's unadjusted mean is both in the adjusted difference and the
        # divisor, so its gradient carries the covariance of ȳ and x̄ within the control arm (as gbstats).
        var_y_a = _variance(a["sum"], a["sum_squares"], n_a, "control")
        control_part = (var_y_a * stats_b.mean**2 / baseline**2
                        - 2 * theta * cov_a * stats_b.mean / baseline
                        + theta**2 * var_x_a)
        variance = var_b / (n_b * baseline**2) + control_part / (n_a * baseline**2)
    if variance <= 0:
        return Comparison(stats_a.mean, stats_b.mean, effect, None, None, None, None, None,
                          relative, theta != 0.0, sequential)
    standard_error = math.sqrt(variance)

    if sequential:
        lower, upper, p_value = _confidence_sequence(effect, standard_error, n_a + n_b, alpha,
                                                     float(sequential_n_star))
        dof = None
    else:
        from scipy.stats import t

        dof = (var_a / n_a + var_b / n_b) ** 2 / (
            (var_a / n_a) ** 2 / (n_a - 1) + (var_b / n_b) ** 2 / (n_b - 1))
        halfwidth = float(t.ppf(1 - alpha / 2, dof)) * standard_error
        lower, upper = effect - halfwidth, effect + halfwidth
        p_value = min(1.0, 2 * float(t.sf(abs(effect) / standard_error, dof)))
    return Comparison(
        control_mean=stats_a.mean,
        treatment_mean=stats_b.mean,
        effect=effect,
        ci_lower=lower,
        ci_upper=upper,
        p_value=p_value,
        standard_error=standard_error,
        degrees_of_freedom=dof,
        relative=relative,
        cuped_applied=theta != 0.0,
        sequential=sequential,
    )


def _pooled_theta(a: dict[str, float | None], b: dict[str, float | None]) -> float:
    """θ = Cov(y, x) / Var(x) over both arms pooled; 0 (no adjustment) when either has no variance."""
    n = a["n"] + b["n"]
    sum_y, sum_x = a["sum"] + b["sum"], a["covariate_sum"] + b["covariate_sum"]
    var_y = _variance(sum_y, a["sum_squares"] + b["sum_squares"], n, "control and treatment")
    var_x = _variance(sum_x, a["covariate_sum_squares"] + b["covariate_sum_squares"], n,
                      "control and treatment (covariate)")
    if var_x == 0 or var_y == 0:
        return 0.0
    covariance = (a["covariate_sum_products"] + b["covariate_sum_products"] - sum_y * sum_x / n) / (n - 1)
    return covariance / var_x


def _adjusted(values: dict[str, float | None], theta: float, name: str) -> tuple[float, float, float, float]:
    """The CUPED-adjusted mean ȳ − θx̄, its per-unit variance, Cov(y, x) and Var(x) of one arm."""
    n = values["n"]
    var_y = _variance(values["sum"], values["sum_squares"], n, name)
    var_x = _variance(values["covariate_sum"], values["covariate_sum_squares"], n, f"{name} (covariate)")
    cov = _covariance(values["covariate_sum_products"], values["sum"], values["covariate_sum"], n, var_y, var_x,
                      f"{name} (value × covariate)")
    mean = values["sum"] / n - theta * values["covariate_sum"] / n
    variance = var_y + theta**2 * var_x - 2 * theta * cov
    return mean, max(variance, 0.0), cov, var_x


def _confidence_sequence(effect: float, standard_error: float, n: float, alpha: float,
                         n_star: float) -> tuple[float, float, float]:
    """The asymptotic confidence sequence of Waudby-Smith et al. (arXiv 2103.06476, eq. 9), tuned by
    ρ (eq. 161, from alpha and n_star) to be tightest at n_star units, and its always-valid p-value
    (eq. 155, with the same ρ): p < alpha exactly when the interval excludes zero."""
    log_alpha = math.log(alpha)
    rho_squared = (-2 * log_alpha + math.log(-2 * log_alpha + 1)) / n_star
    s_squared = standard_error**2 * n  # the per-unit variance of the effect's estimator
    growth = n * rho_squared + 1
    halfwidth = math.sqrt(s_squared * 2 * growth * math.log(math.sqrt(growth) / alpha) / (n**2 * rho_squared))
    z_squared = (effect / standard_error) ** 2
    log_p = 0.5 * math.log(growth) - rho_squared * n * z_squared / (2 * growth)
    return effect - halfwidth, effect + halfwidth, math.exp(min(0.0, log_p))


# ---------------------------------------------------------------------------------------------------
# Sample ratio mismatch and multiple testing


def sample_ratio_mismatch(counts: Sequence[int], weights: Sequence[float]) -> SrmResult:
    """Pearson's χ² test of the units per arm against the planned traffic weights.

    Weights are normalised to sum to 1; the statistic has k − 1 degrees of freedom for k arms. With no
    units at all there is nothing to test: χ² 0 and p 1.
    """
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValueError(f"{len(counts)} counts and {len(weights)} weights; give one weight per arm, "
                         "at least two arms.")
    observed = [_number(count, "a count") for count in counts]
    planned = [_number(weight, "a weight") for weight in weights]
    if any(count is None or count < 0 for count in observed):
        raise ValueError(f"counts are {list(counts)}; give the number of units per arm (0 or more).")
    if any(weight is None or weight <= 0 for weight in planned):
        raise ValueError(f"weights are {list(weights)}; every arm needs a positive weight.")
    total = sum(observed)
    if total == 0:
        return SrmResult(chi_square=0.0, p_value=1.0)
    total_weight = sum(planned)
    chi_square = 0.0
    for count, weight in zip(observed, planned):
        expected = weight / total_weight * total
        chi_square += (count - expected) ** 2 / expected
    from scipy.stats import chi2

    return SrmResult(chi_square=chi_square, p_value=float(chi2.sf(chi_square, len(observed) - 1)))


def adjust_p_values(
    p_values: Sequence[float | None],
    method: Literal["holm", "benjamini_hochberg"] = "holm",
) -> list[float | None]:
    """Adjust a family of p-values for multiple testing, in the order given.

    `holm` (Holm–Bonferroni) controls the family-wise error rate; `benjamini_hochberg` the false
    discovery rate. Adjusted p-values are monotone in the raw ones and capped at 1. None entries (no
    test) pass through and do not count in the family.
    """
    if method not in ("holm", "benjamini_hochberg"):
        raise ValueError(f"method is {method!r}; use 'holm' or 'benjamini_hochberg'.")
    present: list[tuple[int, float]] = []
    for index, p in enumerate(p_values):
        number = _number(p, "a p-value")
        if number is None:
            continue
        if not 0 <= number <= 1:
            raise ValueError(f"a p-value is {p}; p-values lie between 0 and 1.")
        present.append((index, number))
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(present)
    if method == "holm":
        # Step down from the smallest: p₍ᵢ₎·(m − i), never below the previous adjusted value.
        running = 0.0
        for rank, (index, p) in enumerate(sorted(present, key=lambda item: item[1])):
            running = max(running, min(1.0, p * (m - rank)))
            adjusted[index] = running
    else:
        # Step up from the largest: p₍ᵢ₎·m/i, never above the next larger adjusted value.
        running = 1.0
        for rank, (index, p) in enumerate(sorted(present, key=lambda item: item[1], reverse=True)):
            running = min(running, p * m / (m - rank))
            adjusted[index] = running
    return adjusted
