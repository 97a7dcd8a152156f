"""Experiments: A/B readouts from per-arm sufficient statistics the warehouse computes.

`compare` is the public entry point: it checks an effect without a warehouse.
"""

from product_metrics.experiments.stats import (
    DEFAULT_SEQUENTIAL_N_STAR,
    ArmStatistics,
    Comparison,
    SrmResult,
    adjust_p_values,
    compare,
    sample_ratio_mismatch,
)

__all__ = [
    "DEFAULT_SEQUENTIAL_N_STAR",
    "ArmStatistics",
    "Comparison",
    "SrmResult",
    "adjust_p_values",
    "compare",
    "sample_ratio_mismatch",
]
