"""The statistics engine against hand-checked values and GrowthBook's published gbstats cases.

Cases marked "GrowthBook" are from github.com/growthbook/growthbook, packages/stats/tests (and
packages/shared/test for the p-value corrections); the numbers are theirs, rounded as they round.
"""

from __future__ import annotations

import pytest

from product_metrics.experiments import ArmStatistics, compare, sample_ratio_mismatch

# GrowthBook, tests/frequentist/test_tests.py, TestTwoSidedTTest.setUp: stat_a, stat_b.
CONTROL = {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9767}
TREATMENT = {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29}


def test_absolute_effect_welch_interval_and_p_value():
    # GrowthBook, TestTwoSidedTTest.test_two_sided_ttest_absolute (the case).
    result = compare(CONTROL, TREATMENT, relative=False)
    assert round(result.effect, 5) == 0.29
    assert (round(result.ci_lower, 5), round(result.ci_upper, 5)) == (0.04538, 0.53462)
    assert round(result.p_value, 5) == 0.02016
    assert round(result.standard_error, 5) == 0.12478
    assert (result.control_mean, result.treatment_mean) == (pytest.approx(0.41), pytest.approx(0.7))
    assert not result.relative and not result.sequential and not result.cuped_applied


def test_sample_ratio_mismatch_two_arms():
    # The case by hand: expected 550 each, χ² = (50² + 50²)/550 = 9.0909.
    result = sample_ratio_mismatch([500, 600], [0.5, 0.5])
    assert round(result.chi_square, 4) == 9.0909
    assert round(result.p_value, 5) == 0.00257


def test_arm_statistics_dataclass_is_accepted():
    result = compare(ArmStatistics(**CONTROL), ArmStatistics(**TREATMENT), relative=False)
    assert round(result.p_value, 5) == 0.02016
