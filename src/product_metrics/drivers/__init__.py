"""Drivers: what moved a metric and why.

`decompose` holds the formulas (segment contribution analysis, the exact mix/rate split of ratio metrics,
attribution along the metric tree), pure Python without a warehouse.
"""
