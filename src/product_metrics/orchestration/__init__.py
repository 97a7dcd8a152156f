"""Orchestration: Dagster definitions for the daily refresh (product_metrics.orchestration.definitions).

Kept in its own package and never imported by the CLI: Dagster is an optional extra
(`pip install 'product_metrics[orchestration]'`) and heavy to import. Start the local UI with

    dagster dev -m product_metrics.orchestration.definitions
"""
