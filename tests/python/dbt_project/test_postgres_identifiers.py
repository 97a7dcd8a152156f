"""Names that PostgreSQL cannot hold fail here, in a second, rather than in a PostgreSQL build.

dbt-postgres materialises each dbt unit test as a relation named after the test, and PostgreSQL
identifiers hold at most 63 characters: a longer unit test name is an error on the postgres target
(it works on DuckDB). A unit test of a versioned model gets the version's suffix (`_v1`) in its
relation name, so its name must leave room for it. Models get a `__dbt_tmp` suffix while they build, which dbt-postgres shortens.
"""

from __future__ import annotations

import yaml

from ..conftest import REPO_ROOT

MAX_IDENTIFIER = 63


def _named(section: str):
    for path in sorted((REPO_ROOT / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for entry in document.get(section) or []:
            yield path.relative_to(REPO_ROOT), entry.get("name", "")


def _version_suffixes() -> dict[str, int]:
    """Model name -> length of the longest `_v<N>` suffix dbt adds to its unit tests' relations."""
    suffixes = {}
    for path in sorted((REPO_ROOT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            versions = [str(version["v"]) for version in model.get("versions") or []]
            if versions:
                suffixes[model["name"]] = max(len(f"_v{v}") for v in versions)
    return suffixes


def _unit_tests():
    for path in sorted((REPO_ROOT / "models").rglob("*.yml")):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            yield path.relative_to(REPO_ROOT), entry["name"], entry.get("model", "")


def test_unit_test_names_fit_a_postgres_identifier():
    suffixes = _version_suffixes()
    too_long = [f"{path}: {name} ({len(name)} characters + {suffixes.get(model, 0)} of the version suffix)"
                for path, name, model in _unit_tests() if len(name) + suffixes.get(model, 0) > MAX_IDENTIFIER]
    assert not too_long, (
        f"dbt unit test names longer than {MAX_IDENTIFIER} characters fail on PostgreSQL; shorten:\n"
        + "\n".join(too_long))


def test_model_names_fit_a_postgres_identifier():
    too_long = [f"{path}: {name}" for path, name in _named("models") if len(name) > MAX_IDENTIFIER]
    assert not too_long, "\n".join(too_long)
