# Every target installs what it needs first: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: install demo test lint lock clean

install: $(VENV)/.installed

# pyproject.toml pins the direct dependencies; requirements.lock pins the whole tree.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

demo: install
	$(BIN)/product-metrics demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/sqlfluff lint models analyses

# Regenerate the lock after changing a pin in pyproject.toml.
lock: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) target logs warehouse
