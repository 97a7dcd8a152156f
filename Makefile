# Every target installs what it needs first: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-postgres demo-postgres test-spark demo-spark lint lock clean

# `product-metrics catalog` draws the metric tree with Graphviz's `dot` (Debian package graphviz).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
install: $(VENV)/.installed
	@command -v dot >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; }

# pyproject.toml pins the direct dependencies; requirements.lock pins the whole tree.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

demo: install
	$(BIN)/product-metrics demo
	$(BIN)/product-metrics catalog
	$(BIN)/product-metrics alerts
	$(BIN)/product-metrics report

# The PostgreSQL tests need a local server: scripts/start_postgres.sh installs (apt) and starts one.
# The HTML catalog and report tests open the pages in headless Chromium: scripts/install_test_browsers.sh installs it (apt).
test: install $(VENV)/.installed-spark
	-bash scripts/start_postgres.sh  # a failure here makes the PostgreSQL tests fail (under CI=true), not vanish
	-bash scripts/install_test_browsers.sh  # headless Chromium for the HTML catalog and report tests (fail under CI=true if missing)
	-bash scripts/start_spark.sh  # Java for the Spark suite (fails it under CI=true if missing)
	# Every test, the Spark suite too (17 minutes on a loaded 2-core machine, bench/RESULTS.md), in one
	# session so the DuckDB demo warehouses are built once. Plain `pytest` leaves the Spark suite out.
	$(BIN)/pytest -m "spark or not spark"

# Only the PostgreSQL suite: parity with DuckDB on the demo data, unit tests, BI access.
test-postgres: install
	bash scripts/start_postgres.sh
	$(BIN)/pytest tests/python/dbt_project/test_postgres_identifiers.py tests/python/dbt_project/test_postgres_parity.py

# The demo on PostgreSQL (local server, dbt role and database, demo data, dbt build); ARGS go to the loader.
demo-postgres: install
	BIN=$(BIN) bash scripts/postgres_demo.sh $(ARGS)

# Apache Spark: the `spark` extra (pyspark, dbt-spark) and Java 17 (scripts/start_spark.sh).
$(VENV)/.installed-spark: $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,spark]'
	touch $@

# Only the Spark suite (make test runs it too): clean and dirty demo data built on a local Spark session,
# every model, data test and unit test, metric tables and rejects compared with DuckDB (bench/RESULTS.md).
test-spark: install $(VENV)/.installed-spark
	bash scripts/start_spark.sh
	$(BIN)/pytest -m spark tests/python/dbt_project/test_spark_parity.py

# The demo on Spark (demo data in Spark schema raw, dbt build; warehouse/spark); ARGS go to the loader.
demo-spark: install $(VENV)/.installed-spark
	BIN=$(BIN) bash scripts/spark_demo.sh $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy  # src/product_metrics, as pyproject.toml [tool.mypy] says
	# The dbt templater compiles the package with the demo project's profile, on a scratch warehouse.
	PRODUCT_METRICS_DUCKDB_PATH=$(CURDIR)/integration_tests/warehouse/lint.duckdb $(BIN)/sqlfluff lint models analyses
	# Second pass: the SQL the macros generate, where the models use it (.sqlfluff-macros says why).
	PRODUCT_METRICS_DUCKDB_PATH=$(CURDIR)/integration_tests/warehouse/lint.duckdb $(BIN)/sqlfluff lint models analyses --config .sqlfluff-macros
	# dbt-score on every model of the package: the project score must stay at 9 or more (pyproject.toml).
	BIN=$(BIN) bash scripts/dbt_score.sh

# Regenerate the lock after changing a pin in pyproject.toml.
lock: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) .venv-dbt-* target logs warehouse
