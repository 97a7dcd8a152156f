"""Experiments: per-arm sufficient statistics from the dbt marts, their inference (stats), the
readout and its decisions (readout, decisions), and the result tables (tables)."""
