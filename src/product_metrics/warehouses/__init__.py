"""Warehouses other than the embedded DuckDB file: how to reach them and load the demo data into them."""
