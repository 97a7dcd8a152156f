"""Hand-made experiment marts: rows of fct_experiments, fct_experiment_variations and
fct_experiment_statistics with the contract's columns (EXPERIMENTS.md section 3), as dataclasses and
as tables in a warehouse, and a manifest that says where dbt built them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from product_metrics.experiments.tables import (
    EXPERIMENTS_MART,
    STATISTICS_MART,
    VARIATIONS_MART,
    Experiment,
    Marts,
    Statistics,
    Variation,
)

START = dt.date(2026, 4, 6)

# The marts' column types, as dbt's contracts declare them (portable names).
_TYPES = {str: "text", int: "bigint", float: "double precision", bool: "boolean", dt.date: "date"}
_FIELD_TYPES = {"str": str, "str | None": str, "int": int, "float": float, "float | None": float, "bool": bool,
                "dt.date": dt.date, "dt.date | None": dt.date}


def experiment(experiment_id: str, **overrides) -> Experiment:
    """An experiment that ran its four weeks and ended (override to make it short or running)."""
    values = {"experiment_id": experiment_id, "hypothesis": f"{experiment_id} lifts the goal",
              "owner_name": "Ana Ruiz", "owner_email": "ana@example.com", "start_date": START,
              "end_date": START + dt.timedelta(days=27), "minimum_runtime_days": 14, "runtime_days": 28,
              "is_ended": True, "first_exposure_date": START, "last_exposure_date": START + dt.timedelta(days=27),
              "exposed_users": 0, "excluded_multiple_variations": 2, "excluded_outside_dates": 1, "alpha": 0.05,
              "correction": "holm", "sequential_n_star": None, "cuped_lookback_days": 0}
    return Experiment(**(values | overrides))


def variations(experiment_id: str, *arms: tuple[str, float, int]) -> list[Variation]:
    """(name, weight, units) per arm, control first."""
    return [Variation(experiment_id, name, index, weight, units) for index, (name, weight, units) in enumerate(arms)]


def statistics(experiment_id: str, variation: str, index: int, metric: str, n: int, total: float,
               squares: float, *, role: str = "goal", kind: str = "sum", direction: str = "higher_is_better",
               unit: str | None = "usd", date: dt.date = START, **extra: float) -> Statistics:
    """One arm's sums for one metric and exposure date; `extra`: denominator_* / covariate_* sums."""
    fields = dict.fromkeys(("denominator_sum", "denominator_sum_squares", "value_denominator_sum", "covariate_sum",
                            "covariate_sum_squares", "value_covariate_sum")) | extra
    return Statistics(experiment_id, variation, metric, date, index, role, kind, direction, unit, n, total, squares,
                      **fields)


def of_values(experiment_id: str, variation: str, index: int, metric: str, values: list[float], **options) -> Statistics:
    """The sums of the per-unit `values` (n, sum, sum of squares)."""
    return statistics(experiment_id, variation, index, metric, len(values), sum(values),
                      sum(v * v for v in values), **options)


def columns(cls) -> list[tuple[str, str]]:
    return [(f.name, _TYPES[_FIELD_TYPES[str(f.type)]]) for f in dataclasses.fields(cls)]


def create_marts(connection, marts: Marts, schema: str = "metrics") -> None:
    """The three marts in `schema` of a DB-API connection (DuckDB or psycopg2), holding `marts`."""
    cursor = connection.cursor()
    cursor.execute(f'create schema if not exists "{schema}"')
    for table, cls, rows in ((EXPERIMENTS_MART, Experiment, marts.experiments),
                             (VARIATIONS_MART, Variation, marts.variations),
                             (STATISTICS_MART, Statistics, marts.statistics)):
        typed = columns(cls)
        cursor.execute(f'drop table if exists "{schema}"."{table}"')
        cursor.execute(f'create table "{schema}"."{table}" ({", ".join(f"{n} {t}" for n, t in typed)})')
        for row in rows:
            cursor.execute(f'insert into "{schema}"."{table}" values ({", ".join(["%s"] * len(typed))})'
                           .replace("%s", "?" if _is_duckdb(connection) else "%s"),
                           list(dataclasses.astuple(row)))
    connection.commit()


def _is_duckdb(connection) -> bool:
    return "duckdb" in type(connection).__module__


def write_manifest(directory: Path, schema: str = "metrics", *, with_marts: bool = True) -> Path:
    """A manifest.json that places the experiment marts (and nothing else) in `schema`."""
    nodes = {}
    for name in (EXPERIMENTS_MART, VARIATIONS_MART, STATISTICS_MART) if with_marts else ():
        nodes[f"model.product_metrics.{name}"] = {
            "unique_id": f"model.product_metrics.{name}", "name": name, "resource_type": "model",
            "package_name": "product_metrics", "schema": schema, "database": None, "alias": name,
            "original_file_path": f"models/marts/experiments/{name}.sql", "config": {"materialized": "table"}}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"nodes": nodes, "sources": {}}))
    return directory
