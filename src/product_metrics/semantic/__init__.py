"""The dbt semantic layer (MetricFlow) from Python: query metrics and materialise saved queries
inside the DuckDB warehouse with MetricFlow's own SQL engine.

Nothing heavy is imported here: `product-metrics --help` must not load dbt or MetricFlow.
"""
