"""product_metrics: canonical product growth metrics as governed, tested dbt tables."""

__version__ = "0.1.0"
