"""The data-quality gate: Great Expectations suites generated from the metric rules (`rules.py`),
run as SQL inside the warehouse after `dbt build`. Nothing here imports GX at import time."""
