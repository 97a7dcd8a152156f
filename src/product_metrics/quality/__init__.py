"""The data-quality gate: Great Expectations suites generated from `rules.py` (freshness, volume, reject
share, anomalies), run as SQL inside the warehouse after `dbt build`, whose data tests check the rest.
Nothing here imports GX at import time."""
