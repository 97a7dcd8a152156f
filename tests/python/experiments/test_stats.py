"""The statistics engine against hand-checked values and GrowthBook's published gbstats cases.

Cases marked "GrowthBook" are from github.com/growthbook/growthbook: packages/stats/tests for the
engine, packages/shared/test/experiments.test.ts for the p-value corrections. The numbers are theirs,
rounded to the decimals their tests round to.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from product_metrics.experiments import ArmStatistics, adjust_p_values, compare, sample_ratio_mismatch

# GrowthBook, tests/frequentist/test_tests.py, TestTwoSidedTTest.setUp: stat_a, stat_b.
CONTROL = {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9767}
TREATMENT = {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29}
# GrowthBook, TestSequentialTTest: the same sums with 3000 control units.
CONTROL_3000 = {**CONTROL, "n": 3000}


def arm(values: np.ndarray, denominators: np.ndarray | None = None,
        covariates: np.ndarray | None = None) -> dict[str, float]:
    """The sums the warehouse computes, from per-unit values."""
    sums = {"n": len(values), "sum": float(values.sum()), "sum_squares": float((values**2).sum())}
    if denominators is not None:
        sums |= {"denominator_sum": float(denominators.sum()),
                 "denominator_sum_squares": float((denominators**2).sum()),
                 "sum_products": float((values * denominators).sum())}
    if covariates is not None:
        sums |= {"covariate_sum": float(covariates.sum()), "covariate_sum_squares": float((covariates**2).sum()),
                 "covariate_sum_products": float((values * covariates).sum())}
    return sums


# --- fixed horizon: Welch–Satterthwaite t ---------------------------------------------------------

def test_absolute_effect_welch_interval_and_p_value():
    # GrowthBook, TestTwoSidedTTest.test_two_sided_ttest_absolute (the case).
    result = compare(CONTROL, TREATMENT, relative=False)
    assert round(result.effect, 5) == 0.29
    assert (round(result.ci_lower, 5), round(result.ci_upper, 5)) == (0.04538, 0.53462)
    assert round(result.p_value, 5) == 0.02016
    assert round(result.standard_error, 5) == 0.12478
    assert (result.control_mean, result.treatment_mean) == (pytest.approx(0.41), pytest.approx(0.7))
    assert not result.relative and not result.sequential and not result.cuped_applied


def test_absolute_effect_agrees_with_scipys_welch_test():
    # An independent implementation of Welch's test from the same summary statistics.
    def moments(a: dict[str, float]) -> tuple[float, float, float]:
        mean = a["sum"] / a["n"]
        return mean, math.sqrt((a["sum_squares"] - a["sum"] * mean) / (a["n"] - 1)), a["n"]

    welch = scipy_stats.ttest_ind_from_stats(*moments(TREATMENT), *moments(CONTROL), equal_var=False)
    result = compare(CONTROL, TREATMENT, relative=False)
    assert result.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert result.effect / result.standard_error == pytest.approx(welch.statistic, rel=1e-12)
    # The same p-value from the same t needs the same Welch–Satterthwaite degrees of freedom.
    assert 5800 < result.degrees_of_freedom < 5900


def test_relative_effect_by_the_delta_method():
    # GrowthBook, TestTwoSidedTTest.test_two_sided_ttest.
    result = compare(CONTROL, TREATMENT)
    assert round(result.effect, 5) == 0.70732
    assert (round(result.ci_lower, 5), round(result.ci_upper, 5)) == (-0.03526, 1.44989)
    assert round(result.standard_error, 5) == 0.37879
    assert round(result.p_value, 5) == 0.06191
    assert result.relative


def test_relative_effect_count_metric():
    # GrowthBook, tests/test_gbstats.py, TestAnalyzeMetricDfFrequentist.test_get_metric_dfs_frequentist
    # (dimension "one" of MULTI_DIMENSION_STATISTICS_DF; 9 decimals).
    result = compare({"n": 100, "sum": 270, "sum_squares": 848.79}, {"n": 120, "sum": 300, "sum_squares": 869})
    assert (result.control_mean, result.treatment_mean) == (2.7, 2.5)
    assert round(result.effect, 9) == -0.074074074
    assert round(result.p_value, 9) == 0.145219005


def test_alpha_sets_the_interval_not_the_p_value():
    wide, narrow = compare(CONTROL, TREATMENT, relative=False, alpha=0.01), compare(CONTROL, TREATMENT, relative=False)
    assert wide.p_value == narrow.p_value
    assert wide.ci_lower < narrow.ci_lower < 0.29 < narrow.ci_upper < wide.ci_upper
    assert wide.ci_lower < 0 < wide.ci_upper  # p 0.02016 > 0.01: the 99% interval holds zero


# --- ratio metrics: the delta method -------------------------------------------------------------

RATIO_CONTROL = {"n": 100, "sum": 485.112236689623, "sum_squares": 2715.484666118136,
                 "denominator_sum": 679.9093275844917, "denominator_sum_squares": 4939.424001640236,
                 "sum_products": 3602.146836776702}
RATIO_TREATMENT = {"n": 100, "sum": 514.7757826608777, "sum_squares": 2994.897482705013,
                   "denominator_sum": 705.4090874383759, "denominator_sum_squares": 5291.36604146392,
                   "sum_products": 3918.1561431600717}


def test_ratio_metric_means_and_delta_method():
    # The post-period sums of GrowthBook's RATIO_RA_STATISTICS_DF (tests/test_gbstats.py); its means
    # (cr 0.713495487 and 0.729754963) are published in test_analyze_metric_df_ratio_ra. The effects
    # are gbstats' RatioStatistic + TwoSidedTTest on these sums (gbstats 0.8.0; unchanged since).
    relative = compare(RATIO_CONTROL, RATIO_TREATMENT)
    assert round(relative.control_mean, 9) == 0.713495487
    assert round(relative.treatment_mean, 9) == 0.729754963
    assert round(relative.effect, 5) == 0.02279
    assert (round(relative.ci_lower, 5), round(relative.ci_upper, 5)) == (-0.03224, 0.07782)
    assert round(relative.p_value, 5) == 0.41513
    absolute = compare(RATIO_CONTROL, RATIO_TREATMENT, relative=False)
    assert round(absolute.effect, 5) == 0.01626
    assert round(absolute.standard_error, 5) == 0.01968
    assert round(absolute.p_value, 5) == 0.40975


def test_ratio_metric_matches_the_linearised_per_unit_values():
    # By hand: the delta method's variance of R = ΣY/ΣD is the variance of the per-unit
    # linearisation (y − R·d)/mean(d), divided by n.
    rng = np.random.default_rng(7)
    d_a, d_b = rng.poisson(5, 400) + 1.0, rng.poisson(5, 300) + 1.0
    y_a, y_b = rng.binomial(d_a.astype(int), 0.3).astype(float), rng.binomial(d_b.astype(int), 0.36).astype(float)

    def by_hand(y: np.ndarray, d: np.ndarray) -> tuple[float, float]:
        ratio = y.sum() / d.sum()
        return ratio, float(np.var((y - ratio * d) / d.mean(), ddof=1) / len(y))

    (r_a, v_a), (r_b, v_b) = by_hand(y_a, d_a), by_hand(y_b, d_b)
    result = compare(arm(y_a, d_a), arm(y_b, d_b), relative=False)
    assert result.control_mean == pytest.approx(r_a) and result.treatment_mean == pytest.approx(r_b)
    assert result.effect == pytest.approx(r_b - r_a)
    assert result.standard_error == pytest.approx(math.sqrt(v_a + v_b), rel=1e-9)


def test_ratio_with_a_zero_control_denominator_has_no_effect():
    control = {**RATIO_CONTROL, "denominator_sum": 0, "denominator_sum_squares": 0, "sum_products": 0}
    result = compare(control, RATIO_TREATMENT)
    assert result.control_mean is None and result.treatment_mean == pytest.approx(0.729754963)
    assert (result.effect, result.ci_lower, result.ci_upper, result.p_value) == (None, None, None, None)


def test_growthbooks_inconsistent_ratio_sums_are_refused():
    # GrowthBook's RATIO_STATISTICS_DF (test_get_metric_dfs_frequentist_ratio) gives Σd = 510 and
    # Σd² = 810 for 100 units: a negative variance, which gbstats does not check. Here it is bad input.
    control = {"n": 100, "sum": 270, "sum_squares": 848.79, "denominator_sum": 510,
               "denominator_sum_squares": 810, "sum_products": -900}
    treatment = {"n": 120, "sum": 300, "sum_squares": 869, "denominator_sum": 500,
                 "denominator_sum_squares": 800, "sum_products": -905}
    with pytest.raises(ValueError, match="negative variance"):
        compare(control, treatment)


# --- CUPED ---------------------------------------------------------------------------------------

CUPED_CONTROL = {"n": 3001, "sum": 300, "sum_squares": 600, "covariate_sum": 210, "covariate_sum_squares": 415,
                 "covariate_sum_products": -20}
CUPED_TREATMENT = {"n": 3000, "sum": 222, "sum_squares": 555, "covariate_sum": 120, "covariate_sum_squares": 405,
                   "covariate_sum_products": -10}


def test_cuped_relative_effect():
    # GrowthBook, tests/test_gbstats.py, TestAnalyzeMetricDfRegressionAdjustment.test_analyze_metric_df_ra
    # (RA_STATISTICS_DF; 9 decimals). The means reported are the unadjusted ones.
    result = compare(CUPED_CONTROL, CUPED_TREATMENT)
    assert result.cuped_applied
    assert round(result.control_mean, 9) == 0.099966678 and result.treatment_mean == 0.074
    assert round(result.effect, 9) == -0.281707154
    assert round(result.p_value, 9) == 0.003732549
    # Not the plain difference of means over the control mean.
    assert round(result.effect, 3) != round((0.074 - 0.099966678) / 0.099966678, 3)


def test_cuped_absolute_effect_is_the_regression_adjusted_difference():
    # By hand from per-unit values: θ from both arms pooled, each arm's mean of y − θ·x, and the
    # variance of y − θ·x per arm.
    rng = np.random.default_rng(11)
    x_a, x_b = rng.gamma(2.0, 3.0, 2000), rng.gamma(2.0, 3.0, 2100)
    y_a = 0.8 * x_a + rng.normal(0, 2, 2000)
    y_b = 0.8 * x_b + 0.3 + rng.normal(0, 2, 2100)
    x, y = np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    z_a, z_b = y_a - theta * x_a, y_b - theta * x_b
    se = math.sqrt(np.var(z_a, ddof=1) / len(z_a) + np.var(z_b, ddof=1) / len(z_b))

    result = compare(arm(y_a, covariates=x_a), arm(y_b, covariates=x_b), relative=False)
    plain = compare(arm(y_a), arm(y_b), relative=False)
    assert result.cuped_applied and not plain.cuped_applied
    assert result.effect == pytest.approx(z_b.mean() - z_a.mean(), rel=1e-9)
    assert result.standard_error == pytest.approx(se, rel=1e-9)
    assert result.standard_error < plain.standard_error / 2  # the covariate explains most variance
    assert (result.control_mean, result.treatment_mean) == (pytest.approx(y_a.mean()), pytest.approx(y_b.mean()))


def test_cuped_without_covariate_variance_is_not_applied():
    # As gbstats: θ = 0 (no pooled covariate variance) falls back to the unadjusted comparison.
    control = {**CONTROL, "covariate_sum": 0, "covariate_sum_squares": 0, "covariate_sum_products": 0}
    treatment = {**TREATMENT, "covariate_sum": 0, "covariate_sum_squares": 0, "covariate_sum_products": 0}
    result = compare(control, treatment, relative=False)
    assert not result.cuped_applied
    assert round(result.p_value, 5) == 0.02016


# --- sequential testing --------------------------------------------------------------------------

def test_sequential_confidence_sequence():
    # GrowthBook, TestSequentialTTest.test_sequential_test_runs (N* = 1000).
    result = compare(CONTROL_3000, TREATMENT, sequential_n_star=1000)
    assert result.sequential and result.degrees_of_freedom is None
    assert round(result.effect, 5) == 0.50336
    assert (round(result.ci_lower, 5), round(result.ci_upper, 5)) == (-0.55844, 1.56516)
    assert round(result.standard_error, 5) == 0.33341
    assert result.p_value == 1


def test_sequential_with_cuped():
    # GrowthBook, TestSequentialTTest.test_sequential_test_runs_ra (N* = 5000, the default).
    control = {**CONTROL_3000, "covariate_sum": 16.87, "covariate_sum_squares": 527.9767, "covariate_sum_products": 1}
    treatment = {**TREATMENT, "covariate_sum": 22.7, "covariate_sum_squares": 1348.29, "covariate_sum_products": 1}
    result = compare(control, treatment, sequential_n_star=5000)
    assert result.cuped_applied and result.sequential
    assert round(result.effect, 5) == 0.50338
    assert (round(result.ci_lower, 5), round(result.ci_upper, 5)) == (-0.50969, 1.51646)
    assert result.p_value == 1


def test_sequential_p_value_count_metric():
    # GrowthBook, tests/test_gbstats.py, TestAnalyzeMetricDfSequential (N* = 600; 9 decimals).
    result = compare({"n": 100, "sum": 270, "sum_squares": 848.79}, {"n": 120, "sum": 300, "sum_squares": 869},
                     sequential_n_star=600)
    assert round(result.effect, 9) == -0.074074074
    assert round(result.p_value, 9) == 0.892332229
    assert round(result.ci_lower, 9) == -0.233322085


def test_sequential_p_value_agrees_with_the_sequence():
    # p < alpha exactly when the confidence sequence excludes zero: find by bisection the treatment
    # mean at which the sequence's lower end touches zero; there the p-value is alpha.
    variance, n = 16.0, 3461

    def treatment(mean: float) -> dict[str, float]:
        return {"n": n, "sum": mean * n, "sum_squares": variance * (n - 1) + mean * mean * n}

    def result(mean: float):
        return compare(CONTROL, treatment(mean), relative=False, sequential_n_star=5000)

    low, high = 0.41, 2.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if result(middle).ci_lower < 0 else (low, middle)
    assert result(low).ci_lower == pytest.approx(0, abs=1e-9)
    assert result(low).p_value == pytest.approx(0.05, rel=1e-6)
    assert result(low - 0.01).p_value > 0.05 > result(low + 0.01).p_value
    sequential, fixed = result(0.7), compare(CONTROL, treatment(0.7), relative=False)
    assert sequential.ci_lower < fixed.ci_lower and sequential.ci_upper > fixed.ci_upper  # the price of peeking
    assert sequential.p_value > fixed.p_value


def test_sequential_tuning_is_tightest_near_the_sample_size():
    # GrowthBook, TestSequentialTTest.test_sequential_test_tuning_as_expected (6461 units in all).
    def width(n_star: float) -> float:
        result = compare(CONTROL_3000, TREATMENT, sequential_n_star=n_star)
        return result.ci_upper - result.ci_lower

    assert width(6461) < width(10000) < width(10)


# --- edge cases ----------------------------------------------------------------------------------

def test_zero_control_mean_has_no_relative_effect():
    control = {"n": 4, "sum": 0, "sum_squares": 8}  # values −2, −1, 1, 2 (say)
    treatment = {"n": 4, "sum": 4, "sum_squares": 10}
    relative = compare(control, treatment)
    assert relative.control_mean == 0 and relative.treatment_mean == 1
    assert (relative.effect, relative.ci_lower, relative.ci_upper, relative.p_value) == (None, None, None, None)
    absolute = compare(control, treatment, relative=False)
    assert absolute.effect == 1 and absolute.p_value is not None


@pytest.mark.parametrize(("treatment_mean", "expected"), [(-5, 0.5), (-15, -0.5), (3, 1.3)])
def test_negative_baseline_divides_by_its_absolute_value(treatment_mean: float, expected: float):
    # GrowthBook, tests/test_shared_models.py, TestEffectMomentsNegativeBaseline (and
    # tests/test_utils.py, test_relative_negative_baseline_keeps_direction): the relative effect keeps
    # the sign of the absolute one.
    def sample(mean: float, n: int = 1000) -> dict[str, float]:
        return {"n": n, "sum": mean * n, "sum_squares": (mean**2 + 4) * n}

    relative = compare(sample(-10), sample(treatment_mean))
    absolute = compare(sample(-10), sample(treatment_mean), relative=False)
    assert relative.effect == pytest.approx(expected)
    assert math.copysign(1, relative.effect) == math.copysign(1, absolute.effect)
    assert relative.standard_error > 0
    # The mirrored metric (every value negated) has the opposite effect and the same uncertainty.
    mirrored = compare(sample(10), sample(-treatment_mean))
    assert mirrored.effect == pytest.approx(-relative.effect)
    assert mirrored.standard_error == pytest.approx(relative.standard_error)
    assert mirrored.p_value == pytest.approx(relative.p_value)


def test_an_arm_without_variance_gives_no_interval():
    # GrowthBook returns an empty result for a zero-variance arm (ZERO_NEGATIVE_VARIANCE); here the
    # means and effect stay, the inference is None.
    constant = {"n": 50, "sum": 150, "sum_squares": 450}  # fifty 3s
    result = compare(constant, TREATMENT, relative=False)
    assert result.control_mean == 3 and result.effect == pytest.approx(0.7 - 3)
    assert (result.ci_lower, result.ci_upper, result.p_value, result.standard_error) == (None, None, None, None)
    all_zero = {"n": 21, "sum": 0, "sum_squares": 0}  # GrowthBook, test_post_strat.py, test_zero_negative_variance
    assert compare(all_zero, {"n": 42, "sum": 0, "sum_squares": 0}, relative=False).p_value is None
    assert compare(all_zero, {"n": 42, "sum": 0, "sum_squares": 0}).effect is None


def test_rounding_below_zero_is_not_a_negative_variance():
    n = 1000
    value = 0.7
    rounded = {"n": n, "sum": sum([value] * n), "sum_squares": sum([value * value] * n)}
    assert rounded["sum_squares"] - rounded["sum"] ** 2 / n < 0  # float noise
    assert compare(rounded, TREATMENT, relative=False).p_value is None


def test_warehouse_rows_with_nulls_and_statistics_columns():
    row = {"units": 3407, "value_sum": 1396.87, "value_sum_squares": 52377.9767, "denominator_sum": None,
           "denominator_sum_squares": None, "value_denominator_sum": None, "covariate_sum": float("nan"),
           "covariate_sum_squares": float("nan"), "value_covariate_sum": float("nan")}
    control = ArmStatistics.from_statistics_row(row)
    result = compare(control, ArmStatistics(**TREATMENT), relative=False)
    assert round(result.p_value, 5) == 0.02016 and not result.cuped_applied
    numpy_values = {"n": np.int64(3461), "sum": np.float64(2422.7), "sum_squares": np.float64(134698.29)}
    assert compare(CONTROL, numpy_values, relative=False).p_value == result.p_value


@pytest.mark.parametrize(("control", "treatment", "message"), [
    # GrowthBook's ONE_USER_DF has 1 unit in an arm: gbstats returns an empty result; here it is an error.
    ({"n": 1, "sum": 1, "sum_squares": 1}, TREATMENT, r"control\.n is 1; each arm needs"),
    ({"n": 10.5, "sum": 1, "sum_squares": 1}, TREATMENT, r"control\.n is 10\.5"),
    ({"n": 10, "sum": 10, "sum_squares": 5}, TREATMENT, "control: .*negative variance"),
    (CONTROL, {"n": 10, "sum": None, "sum_squares": 5}, r"treatment\.sum is missing"),
    (CONTROL, {**TREATMENT, "sums": 3}, "treatment has unknown field"),
    (RATIO_CONTROL, TREATMENT, "different fields"),
    ({**CONTROL, "covariate_sum": 1.0}, TREATMENT, "covariate_sum without covariate_sum_squares"),
    ({**RATIO_CONTROL, "covariate_sum": 1, "covariate_sum_squares": 2, "covariate_sum_products": 1},
     {**RATIO_TREATMENT, "covariate_sum": 1, "covariate_sum_squares": 2, "covariate_sum_products": 1},
     "both ratio and CUPED"),
    ({**CUPED_CONTROL, "covariate_sum_products": 5000}, CUPED_TREATMENT, "correlation beyond"),
    ({**CONTROL, "sum": "12"}, TREATMENT, r"control\.sum is '12'; give a number"),
    ({**CONTROL, "sum": float("inf")}, TREATMENT, "finite"),
])
def test_bad_input_is_one_clear_line(control, treatment, message):
    with pytest.raises(ValueError, match=message) as raised:
        compare(control, treatment)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"alpha": 0}, "alpha is 0"), ({"alpha": 1.5}, "alpha is 1.5"),
    ({"sequential_n_star": 0}, "sequential_n_star is 0"), ({"sequential_n_star": -5}, "positive number"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        compare(CONTROL, TREATMENT, **options)


# --- sample ratio mismatch -----------------------------------------------------------------------

def test_sample_ratio_mismatch_two_arms():
    # The case by hand: expected 550 each, χ² = (50² + 50²)/550 = 9.0909.
    result = sample_ratio_mismatch([500, 600], [0.5, 0.5])
    assert round(result.chi_square, 4) == 9.0909
    assert round(result.p_value, 5) == 0.00257


def test_sample_ratio_mismatch_growthbook_case():
    # GrowthBook, tests/test_gbstats.py (before the sums refactor), TestHelpers.test_srm (9 decimals).
    assert round(sample_ratio_mismatch([1000, 1200], [0.5, 0.5]).p_value, 9) == 0.000020079


def test_sample_ratio_mismatch_three_arms_and_unnormalised_weights():
    # By hand: expected 100 each, χ² = (400 + 100 + 100)/100 = 6 on 2 df, p = e^(−6/2).
    result = sample_ratio_mismatch([120, 90, 90], [1, 1, 1])
    assert result.chi_square == pytest.approx(6)
    assert result.p_value == pytest.approx(math.exp(-3))
    assert sample_ratio_mismatch([500, 250, 250], [2, 1, 1]) == sample_ratio_mismatch([500, 250, 250], [0.5, 0.25, 0.25])
    assert sample_ratio_mismatch([500, 250, 250], [2, 1, 1]).p_value == 1
    assert sample_ratio_mismatch([0, 0], [0.5, 0.5]).p_value == 1


@pytest.mark.parametrize(("counts", "weights", "message"), [
    ([1, 2], [1], "one weight per arm"), ([1, 2], [0.5, 0], "positive weight"), ([-1, 2], [0.5, 0.5], "units per arm"),
])
def test_sample_ratio_mismatch_bad_input(counts, weights, message):
    with pytest.raises(ValueError, match=message):
        sample_ratio_mismatch(counts, weights)


# --- multiple testing ----------------------------------------------------------------------------

def test_holm():
    # GrowthBook, packages/shared/test/experiments.test.ts, "does HB procedure correctly".
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.005, 0.55, 0.6], "holm")
    assert adjusted == pytest.approx([0.05, 0.12, 0.12, 0.03, 1, 1])


def test_benjamini_hochberg():
    # GrowthBook, packages/shared/test/experiments.test.ts, "does BH procedure correctly" (8 decimals).
    adjusted = adjust_p_values([0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138], "benjamini_hochberg")
    assert [round(p, 8) for p in adjusted] == [0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415]


def test_corrections_on_two_goal_metrics_and_missing_p_values():
    # GrowthBook, experiments.test.ts, "pvals and CIs adjusted in place": 0.025 and 0.03.
    assert adjust_p_values([0.025, None, 0.03]) == pytest.approx([0.05, None, 0.05])
    assert adjust_p_values([0.025, 0.03, None], "benjamini_hochberg") == pytest.approx([0.03, 0.03, None])
    assert adjust_p_values([]) == [] and adjust_p_values([None]) == [None]
    with pytest.raises(ValueError, match="use 'holm' or 'benjamini_hochberg'"):
        adjust_p_values([0.1], "bonferroni")  # type: ignore[arg-type]
