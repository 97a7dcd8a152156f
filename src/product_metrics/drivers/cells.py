"""What the explanations read: the cells of metrics.fct_metric_segment_cells (one metric's numerator
and denominator per period and user segment, built by dbt) and, for the metric tree, a metric's
value in one period read through its governance `lives_in`. Where the tables are comes from the
registry's manifest (the run's own in build and refresh)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from product_metrics.drivers.periods import Period
from product_metrics.errors import UserError, first_line
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse, WarehouseError, quote

CELLS_TABLE = "fct_metric_segment_cells"
DIMENSIONS = ("country", "platform", "acquisition_channel", "signup_cohort_month")
DIMENSION_ALIASES = {"signup_cohort": "signup_cohort_month"}
# The value of a dimension a metric cannot be cut by (spend has only the channel).
NOT_CUT = "all"


class CellsMissing(UserError):
    """The manifest has no fct_metric_segment_cells model (an older package, or the model is disabled)."""


@dataclass(frozen=True)
class CellRow:
    """A row of fct_metric_segment_cells."""

    period: Period
    segment: Mapping[str, str]  # every dimension of DIMENSIONS -> its value
    numerator: float
    denominator: float | None
    is_complete: bool


def relation(registry: Registry, table: str) -> str:
    """`"schema"."alias"` of model `table`, as the registry's manifest says dbt built it."""
    model = registry.model_named(table)
    if model is None:
        if table == CELLS_TABLE:
            raise CellsMissing(f"The manifest has no {CELLS_TABLE} model: install a product_metrics version with "
                               "drivers (`dbt deps`) and build it (`product-metrics build`).")
        raise UserError(f"{table} is not a dbt model of this project.")
    return f"{quote(model.schema)}.{quote(model.alias)}" if model.schema else quote(model.alias)


def _query(warehouse: Warehouse, sql: str, params: Mapping[str, object] | None, what: str) -> list[tuple]:
    import sqlalchemy

    try:
        return warehouse.query(sql, params)
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise WarehouseError(f"Cannot read {what} in {warehouse.label} ({first_line(error)}): build it first "
                             "(`product-metrics build`, or `dbt build`).") from error


def _float(value: object) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, decimal.Decimal | int | float) else float(str(value))


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def cell_metrics(warehouse: Warehouse, registry: Registry) -> dict[str, tuple[str, ...]]:
    """Every metric the cells hold, with its grains (week before month)."""
    rows = _query(warehouse, f"select distinct metric_name, period_grain from {relation(registry, CELLS_TABLE)}",
                  None, CELLS_TABLE)
    grains: dict[str, list[str]] = defaultdict(list)
    for metric, grain in rows:
        grains[metric].append(grain)
    return {m: tuple(sorted(g, key=lambda x: (x != "week", x))) for m, g in sorted(grains.items())}


def available_periods(warehouse: Warehouse, registry: Registry, metric: str, grain: str) -> list[tuple[Period, bool]]:
    """The periods of `metric` at `grain` that have cells, oldest first, each with whether every one of
    its cells is complete."""
    rows = _query(warehouse, f"select period_start, min(case when is_complete then 1 else 0 end) "
                             f"from {relation(registry, CELLS_TABLE)} "
                             "where metric_name = :metric and period_grain = :grain group by period_start "
                             "order by period_start", {"metric": metric, "grain": grain}, CELLS_TABLE)
    return [(Period(grain, _date(start)), bool(complete)) for start, complete in rows]


def read_cells(warehouse: Warehouse, registry: Registry, metric: str, periods: Sequence[Period]) -> list[CellRow]:
    """The cells of `metric` in `periods` (all of one grain)."""
    if not periods:
        return []
    grain = periods[0].grain
    starts = {f"start{i}": period.start for i, period in enumerate(periods)}
    rows = _query(warehouse, f"select period_start, {', '.join(DIMENSIONS)}, numerator, denominator, is_complete "
                             f"from {relation(registry, CELLS_TABLE)} "
                             "where metric_name = :metric and period_grain = :grain "
                             f"and period_start in ({', '.join(':' + key for key in starts)})",
                  {"metric": metric, "grain": grain, **starts}, CELLS_TABLE)
    width = len(DIMENSIONS)
    return [CellRow(Period(grain, _date(row[0])), dict(zip(DIMENSIONS, (str(v) for v in row[1:1 + width]), strict=True)),
                    _float(row[1 + width]) or 0.0, _float(row[2 + width]), bool(row[3 + width]))
            for row in rows]


def is_ratio(rows: Iterable[CellRow]) -> bool:
    """A ratio metric's cells carry a denominator; a summable metric's never do."""
    return any(row.denominator is not None for row in rows)


def cut_dimensions(rows: Iterable[CellRow]) -> tuple[str, ...]:
    """The dimensions that split the cells: two values or more ('all' for a dimension the metric is
    not cut by, or one value everywhere, splits nothing)."""
    rows = list(rows)
    return tuple(d for d in DIMENSIONS if len({row.segment[d] for row in rows} - {NOT_CUT}) > 1)


@dataclass
class _Sums:
    before: float = 0.0
    after: float = 0.0
    before_denominator: float = 0.0
    after_denominator: float = 0.0


def aggregate(rows: Iterable[CellRow], before: Period, after: Period,
              dimensions: Sequence[str]) -> dict[tuple[str, ...], _Sums]:
    """The cells summed to `dimensions` (the other dimensions added up), both periods side by side;
    a segment absent in a period has 0 there."""
    sums: dict[tuple[str, ...], _Sums] = defaultdict(_Sums)
    for row in rows:
        key = tuple(row.segment[d] for d in dimensions)
        target = sums[key]
        if row.period == before:
            target.before += row.numerator
            target.before_denominator += row.denominator or 0.0
        elif row.period == after:
            target.after += row.numerator
            target.after_denominator += row.denominator or 0.0
    return dict(sorted(sums.items()))


def totals(rows: Iterable[CellRow], period: Period) -> tuple[float, float | None]:
    """(sum of numerators, sum of denominators or None for a summable metric) of one period."""
    rows = [row for row in rows if row.period == period]
    numerator = sum(row.numerator for row in rows)
    denominators = [row.denominator for row in rows if row.denominator is not None]
    return numerator, (sum(denominators) if denominators else None)


def lives_in_value(warehouse: Warehouse, registry: Registry, metric: str, period: Period) -> float | None:
    """The metric's value in `period`, from its lives_in table (the row whose time column is the
    period's first day); None when there is no such row, or several (lives_in.where must pick one)."""
    found = registry.metrics.get(metric)
    lives_in = found.governance.lives_in if found and found.governance else None
    if lives_in is None:
        return None
    where = f" and ({lives_in.where})" if lives_in.where else ""
    rows = _query(warehouse, f"select cast({quote(lives_in.column)} as double precision) "
                             f"from {relation(registry, lives_in.table)} "
                             f"where {quote(lives_in.time_column)} = :start{where}",
                  {"start": period.start}, lives_in.table)
    return _float(rows[0][0]) if len(rows) == 1 else None
