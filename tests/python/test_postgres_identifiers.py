"""Names that PostgreSQL cannot hold fail here, in a second, rather than in a PostgreSQL build.

dbt-postgres materialises each dbt unit test as a relation named after the test, and PostgreSQL
identifiers hold at most 63 characters: a longer unit test name is an error on the postgres target
(it works on DuckDB). Models get a `__dbt_tmp` suffix while they build, which dbt-postgres shortens.
"""

from __future__ import annotations

import yaml

from .conftest import REPO_ROOT

MAX_IDENTIFIER = 63


def _named(section: str):
    for path in sorted((REPO_ROOT / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for entry in document.get(section) or []:
            yield path.relative_to(REPO_ROOT), entry.get("name", "")


def test_unit_test_names_fit_a_postgres_identifier():
    too_long = [f"{path}: {name} ({len(name)} characters)"
                for path, name in _named("unit_tests") if len(name) > MAX_IDENTIFIER]
    assert not too_long, (
        f"dbt unit test names longer than {MAX_IDENTIFIER} characters fail on PostgreSQL; shorten:\n"
        + "\n".join(too_long))


def test_model_names_fit_a_postgres_identifier():
    too_long = [f"{path}: {name}" for path, name in _named("models") if len(name) > MAX_IDENTIFIER]
    assert not too_long, "\n".join(too_long)
