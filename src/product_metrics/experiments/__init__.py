"""Experiments: A/B readouts from per-arm sufficient statistics the warehouse computes.

`compare` is the public entry point: it checks an effect without a warehouse. The readout of the
dbt marts (readout), its decisions (decisions), the result tables (tables) and the command
(commands, cli) build on it.
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
