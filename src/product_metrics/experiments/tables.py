"""The experiment tables in the warehouse: the three dbt marts the readout reads (fct_experiments,
fct_experiment_variations, fct_experiment_statistics, where the manifest says dbt built them) and the
three tables it writes next to them (fct_experiment_results, fct_experiment_daily,
fct_experiment_decisions), replaced together in one transaction. Works on the DuckDB file and a server warehouse alike (product_metrics.warehouse)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from product_metrics.errors import UserError

EXPERIMENTS_MART = "fct_experiments"
VARIATIONS_MART = "fct_experiment_variations"
STATISTICS_MART = "fct_experiment_statistics"
RESULTS_TABLE = "fct_experiment_results"
DAILY_TABLE = "fct_experiment_daily"
DECISIONS_TABLE = "fct_experiment_decisions"

RESULTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("experiment_id", "text"), ("variation", "text"), ("metric_name", "text"), ("metric_role", "text"),
    ("metric_kind", "text"), ("unit", "text"), ("direction", "text"),
    ("control_units", "bigint"), ("variation_units", "bigint"),
    ("control_mean", "double precision"), ("variation_mean", "double precision"),
    ("absolute_effect", "double precision"), ("absolute_ci_lower", "double precision"),
    ("absolute_ci_upper", "double precision"),
    ("relative_effect", "double precision"), ("relative_ci_lower", "double precision"),
    ("relative_ci_upper", "double precision"),
    ("p_value", "double precision"), ("adjusted_p_value", "double precision"), ("srm_p_value", "double precision"),
    ("is_significant", "boolean"), ("is_harmful", "boolean"),
    ("variation_decision", "text"), ("decision", "text"), ("decision_reason", "text"),
    ("cuped_applied", "boolean"), ("sequential", "boolean"),
)
DAILY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("experiment_id", "text"), ("variation", "text"), ("metric_name", "text"), ("exposure_date", "date"),
    ("control_units", "bigint"), ("variation_units", "bigint"),
    ("absolute_effect", "double precision"), ("absolute_ci_lower", "double precision"),
    ("absolute_ci_upper", "double precision"),
    ("relative_effect", "double precision"), ("relative_ci_lower", "double precision"),
    ("relative_ci_upper", "double precision"),
    ("p_value", "double precision"),
)
# One row per experiment, also for one without result rows yet (no unit has a complete window).
DECISIONS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("experiment_id", "text"), ("decision", "text"), ("decision_reason", "text"),
    ("srm_p_value", "double precision"), ("runtime_days", "bigint"), ("units", "bigint"),
)


class ExperimentMartsMissing(UserError):
    """The manifest has no experiment marts (an older package, or the models are disabled)."""


@dataclass(frozen=True)
class Experiment:
    """A row of fct_experiments."""

    experiment_id: str
    hypothesis: str | None
    owner_name: str | None
    owner_email: str | None
    start_date: dt.date
    end_date: dt.date
    minimum_runtime_days: int
    runtime_days: int
    is_ended: bool
    first_exposure_date: dt.date | None
    last_exposure_date: dt.date | None
    exposed_users: int
    excluded_multiple_variations: int
    excluded_outside_dates: int
    alpha: float
    correction: str
    sequential_n_star: float | None
    cuped_lookback_days: int
    unmeasured_guardrails: str | None = None  # 'metric (reason), ...': guardrails the readout cannot judge
    first_window_end_date: dt.date | None = None


@dataclass(frozen=True)
class Variation:
    """A row of fct_experiment_variations."""

    experiment_id: str
    variation: str
    variation_index: int
    weight: float
    units: int


@dataclass(frozen=True)
class Statistics:
    """A row of fct_experiment_statistics: one arm's sums for one metric over the units first exposed
    on one date (denominator_* only for ratio metrics, covariate_* only with CUPED)."""

    experiment_id: str
    variation: str
    metric_name: str
    exposure_date: dt.date
    variation_index: int
    metric_role: str
    metric_kind: str
    direction: str
    unit: str | None
    units: int
    value_sum: float
    value_sum_squares: float
    denominator_sum: float | None
    denominator_sum_squares: float | None
    value_denominator_sum: float | None
    covariate_sum: float | None
    covariate_sum_squares: float | None
    value_covariate_sum: float | None


@dataclass(frozen=True)
class Marts:
    experiments: list[Experiment]
    variations: list[Variation]
    statistics: list[Statistics]


def _relation(relations, name: str):
    from product_metrics.relations import RelationsError

    try:
        return relations.model(name)
    except RelationsError:
        raise ExperimentMartsMissing(f"The manifest has no {name} model: install a product_metrics version with "
                                     "experiments (`dbt deps`) and build it (`product-metrics build`).") from None


def results_schema(relations) -> str:
    """Where the readout writes: the schema dbt built the experiment marts in (the metrics schema)."""
    return _relation(relations, EXPERIMENTS_MART).schema


def read_marts(warehouse, relations) -> Marts:
    """The three marts, each in its grain's order; `warehouse` is a product_metrics.warehouse.Warehouse."""

    import sqlalchemy

    from product_metrics.errors import first_line
    from product_metrics.warehouse import WarehouseError

    def rows(cls, name: str, order: str) -> list:
        columns = [f.name for f in fields(cls)]
        relation = _relation(relations, name)
        try:
            found = warehouse.query(f"select {', '.join(columns)} from {relation.sql} order by {order}")
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise WarehouseError(f"Cannot read {relation} in {warehouse.label} ({first_line(error)}): build the "
                                 "experiment marts first (`product-metrics build`, or `dbt build`).") from error
        return [cls(**{c: _plain(v) for c, v in zip(columns, row, strict=True)}) for row in found]

    return Marts(
        experiments=rows(Experiment, EXPERIMENTS_MART, "experiment_id"),
        variations=rows(Variation, VARIATIONS_MART, "experiment_id, variation_index"),
        statistics=rows(Statistics, STATISTICS_MART, "experiment_id, metric_name, variation_index, exposure_date"),
    )


def _plain(value: Any) -> Any:
    """Warehouse values as Python's: PostgreSQL's numeric sums arrive as Decimal, DuckDB's dates may
    be datetimes."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def write_results(warehouse, schema: str, results: Iterable[Mapping[str, Any]], daily: Iterable[Mapping[str, Any]],
                  decisions: Iterable[Mapping[str, Any]] = ()) -> tuple[int, int, int]:
    """Replace fct_experiment_results, fct_experiment_daily and fct_experiment_decisions in `schema`,
    all in one transaction (empty tables when there is nothing to write). Returns the rows written to each."""
    written = warehouse.replace_tables(schema, [(RESULTS_TABLE, RESULTS_COLUMNS, map(_finite, results)),
                                                (DAILY_TABLE, DAILY_COLUMNS, map(_finite, daily)),
                                                (DECISIONS_TABLE, DECISIONS_COLUMNS, map(_finite, decisions))])
    return written[0], written[1], written[2]


def _finite(row: Mapping[str, Any]) -> dict[str, Any]:
    """NaN and infinities are stored as null: PostgreSQL and BI tools treat them as numbers."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def column_names(columns: Sequence[tuple[str, str]]) -> list[str]:
    return [name for name, _ in columns]
