"""Why a metric moved between two periods, from the cells of fct_metric_segment_cells and the
formulas of product_metrics.drivers.decompose:

- a summable metric: every segment up to `depth` dimensions deep with its difference, the value
  expected had it moved like the rest, the unexpected difference and its support (segment_drivers);
- a ratio metric: the change split exactly into mix and rate, one dimension at a time (mix_rate_drivers);
- a metric with a governance `decomposition`: its change attributed to its inputs along the metric
  tree (sum, product or ratio), one level further into an input that has its own decomposition.
  Those values are read through each metric's lives_in.

`Explanation.rows()` is the shape of metrics.fct_metric_change_drivers; `summary()` one line;
`top_drivers_text` the line an alert carries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from product_metrics.drivers import decompose
from product_metrics.drivers.cells import (
    DIMENSION_ALIASES,
    DIMENSIONS,
    CellRow,
    aggregate,
    available_periods,
    cell_metrics,
    cut_dimensions,
    is_ratio,
    lives_in_value,
    read_cells,
    totals,
)
from product_metrics.drivers.periods import Period
from product_metrics.errors import UserError
from product_metrics.formatting import format_change, format_points, format_relative, format_value, noun_of
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse

if TYPE_CHECKING:  # pragma: no cover
    from product_metrics.governance.alerts import Evaluation

PREFIX = "pm_"


class ExplainError(UserError):
    """A metric, dimension or period the explanation cannot use; the message lists what it can."""


@dataclass(frozen=True)
class TreeRow:
    """One input of the metric tree: its contribution to the explained metric's change, in the
    explained metric's units (`contribution_share`: of its `from` value). Depth 2 rows split a depth 1
    row (their `parent`) in proportion to that input's own attribution, so they sum to it."""

    metric: str
    parent: str
    depth: int
    before: float
    after: float
    contribution: float
    contribution_share: float


@dataclass(frozen=True)
class Explanation:
    metric: str
    unit: str | None
    before: Period
    after: Period
    before_value: float | None
    after_value: float | None
    ratio: bool
    dimensions: tuple[str, ...]
    segments: tuple[decompose.SegmentDriver, ...] = ()
    mix_rate: Mapping[str, tuple[decompose.MixRateDriver, ...]] = field(default_factory=dict)
    tree: tuple[TreeRow, ...] = ()
    tree_operation: str | None = None
    notes: tuple[str, ...] = ()
    noun: str | None = None  # what a count counts ('core actions'), from the metric's label

    @property
    def change(self) -> float | None:
        if self.before_value is None or self.after_value is None:
            return None
        return self.after_value - self.before_value

    @property
    def relative_change(self) -> float | None:
        change = self.change
        if change is None or not self.before_value:
            return None
        return change / abs(self.before_value)

    def value_text(self, value: float | None) -> str:
        return format_value(value, self.unit, self.metric, noun=self.noun)

    def change_text(self, change: float | None) -> str:
        return format_change(change, self.unit, self.metric, noun=self.noun)

    def headline(self) -> str:
        """`pm_average_dau 1,234 users → 1,050 users (−14.9%), week 2026-06-22 vs 2026-06-15`."""
        values = f"{self.value_text(self.before_value)} → {self.value_text(self.after_value)}"
        change = (f" ({format_relative(self.relative_change)})" if self.relative_change is not None
                  else f" ({self.change_text(self.change)})" if self.change is not None else "")
        return f"{self.metric} {values}{change}, {self.after.grain} {self.after.start} vs {self.before.start}"

    def summary(self, top: int = 3) -> str:
        """One line: the change and its top drivers, e.g. `pm_north_star_users −6.0% (2026-W25 vs
        2026-W24): country=BR × platform=android −310 users unexpected; …`."""
        change = (format_relative(self.relative_change) if self.relative_change is not None
                  else self.change_text(self.change))
        head = f"{self.metric} {change} ({self.after.label} vs {self.before.label})"
        parts = [f"{segment_text(d.segment, ' × ')} {self.change_text(d.unexpected_difference)} unexpected"
                 for d in self.segments[:top]]
        if self.ratio:  # the largest mix or rate effects over every dimension
            effects = [(kind, effect, d) for drivers in self.mix_rate.values() for d in drivers
                       for kind, effect in (("mix", d.mix_effect), ("rate", d.rate_effect))]
            effects.sort(key=lambda e: (-round(abs(e[1]), 12), segment_text(e[2].segment), e[0]))
            parts += [f"{segment_text(d.segment)} {kind} {self.change_text(effect)}"
                      for kind, effect, d in effects[:top]]
        tree = [row for row in self.tree if row.depth == 1]
        if tree:
            parts.append("drivers: " + ", ".join(f"{row.metric} {format_points(row.contribution_share)}"
                                                 for row in sorted(tree, key=_tree_order)))
        return head + (": " + "; ".join(parts) if parts else "")

    def tree_text(self) -> str | None:
        """`pm_north_star_users −6.0%: pm_weekly_active_users −4.0 points (pm_resurrecting_users −3.0
        points, …), pm_north_star_share_of_active −2.0 points`."""
        if not self.tree:
            return None
        change = format_relative(self.relative_change)
        parts = []
        for row in sorted((r for r in self.tree if r.depth == 1), key=_tree_order):
            children = sorted((r for r in self.tree if r.parent == row.metric and r.depth == 2), key=_tree_order)
            inner = (" (" + ", ".join(f"{c.metric} {format_points(c.contribution_share)}" for c in children) + ")"
                     if children else "")
            parts.append(f"{row.metric} {format_points(row.contribution_share)}{inner}")
        return f"{self.metric} {change}: " + ", ".join(parts)

    def rows(self) -> list[dict[str, Any]]:
        """The rows of metrics.fct_metric_change_drivers (product_metrics.drivers.tables.DRIVERS_COLUMNS)."""
        base = {"metric_name": self.metric, "period_grain": self.after.grain,
                "from_period_start": self.before.start, "to_period_start": self.after.start}
        empty = dict.fromkeys(("expected_value", "unexpected_difference", "relative_unexpected_difference",
                               "support", "mix_effect", "rate_effect", "contribution", "contribution_share"))
        rows: list[dict[str, Any]] = []
        for rank, d in enumerate(self.segments, start=1):
            rows.append({**base, **empty, "analysis": "segment", "dimensions": ", ".join(k for k, _ in d.segment),
                         "segment": segment_text(d.segment), "depth": len(d.segment), "from_value": d.before,
                         "to_value": d.after, "difference": d.difference, "expected_value": d.expected_after,
                         "unexpected_difference": d.unexpected_difference,
                         "relative_unexpected_difference": d.relative_unexpected_difference,
                         "support": d.support, "driver_rank": rank})
        mix = sorted((d for drivers in self.mix_rate.values() for d in drivers),
                     key=lambda d: (-abs(d.total_effect), segment_text(d.segment)))
        for rank, m in enumerate(mix, start=1):
            rows.append({**base, **empty, "analysis": "mix_rate", "dimensions": ", ".join(k for k, _ in m.segment),
                         "segment": segment_text(m.segment), "depth": len(m.segment), "from_value": m.before_rate,
                         "to_value": m.after_rate, "difference": m.total_effect,
                         "support": max(m.before_share, m.after_share), "mix_effect": m.mix_effect,
                         "rate_effect": m.rate_effect, "driver_rank": rank})
        tree = sorted(self.tree, key=_tree_order)
        for rank, r in enumerate(tree, start=1):
            rows.append({**base, **empty, "analysis": "tree", "dimensions": None, "segment": r.metric,
                         "depth": r.depth, "from_value": r.before, "to_value": r.after,
                         "difference": r.after - r.before, "contribution": r.contribution,
                         "contribution_share": r.contribution_share, "driver_rank": rank})
        return rows


def _tree_order(row: TreeRow) -> tuple[float, int, str]:
    # Rounded: equal contributions computed along different paths rank by depth, then name.
    return (-round(abs(row.contribution), 9), row.depth, row.metric)


# --- text -----------------------------------------------------------------------------------------

def segment_text(segment: Sequence[tuple[str, str]], joiner: str = ", ") -> str:
    return joiner.join(f"{k}={v}" for k, v in segment)


# --- resolving what the user asked for -------------------------------------------------------------

def resolve_metric(name: str, known: Sequence[str]) -> str:
    """`name` as a known metric, with or without the package prefix; an ExplainError lists the known."""
    if name in known:
        return name
    if PREFIX + name in known:
        return PREFIX + name
    listing = ", ".join(known) if known else "none (build fct_metric_segment_cells: `product-metrics build`)"
    raise ExplainError(f"No cells to explain {name!r}: the metrics explain can explain are {listing}.")


def resolve_dimensions(by: Sequence[str]) -> tuple[str, ...]:
    names = []
    for item in by:
        name = DIMENSION_ALIASES.get(item.strip(), item.strip())
        if name not in DIMENSIONS:
            raise ExplainError(f"Unknown dimension {item!r} in --by: use {', '.join(DIMENSIONS)} (or signup_cohort).")
        if name not in names:
            names.append(name)
    return tuple(names)


def _period_listing(periods: Sequence[tuple[Period, bool]]) -> str:
    if not periods:
        return "none"
    complete = [p for p, done in periods if done]
    latest = f" (latest complete {complete[-1].label})" if complete else " (none complete)"
    if len(periods) <= 6:
        return ", ".join(p.label for p, _ in periods) + latest
    return f"{periods[0][0].label} … {periods[-1][0].label}, {len(periods)} {periods[0][0].grain}s{latest}"


# --- the explanation -------------------------------------------------------------------------------

def explain(warehouse: Warehouse, registry: Registry, metric: str, before: Period, after: Period,
            by: Sequence[str] = DIMENSIONS, *, depth: int = 2) -> Explanation:
    """Why `metric` moved from `before` to `after` (periods of one grain), cut by the dimensions `by`."""
    if before.grain != after.grain:
        raise ExplainError(f"--from {before.label} is a {before.grain} and --to {after.label} a {after.grain}: "
                           "compare two weeks or two months.")
    metrics = cell_metrics(warehouse, registry)
    metric = resolve_metric(metric, list(metrics))
    if after.grain not in metrics[metric]:
        raise ExplainError(f"{metric} has cells by {' and '.join(metrics[metric])} only, not by {after.grain}: "
                           f"pass {'2026-06' if after.grain == 'week' else '2026-W25'}-style periods.")
    periods = available_periods(warehouse, registry, metric, after.grain)
    starts = {p for p, _ in periods}
    for period in (before, after):
        if period not in starts:
            raise ExplainError(f"{metric} has no cells for {period.grain} {period.label}: the {period.grain}s "
                               f"available are {_period_listing(periods)}.")
    wanted = resolve_dimensions(by)
    rows = read_cells(warehouse, registry, metric, [before, after])
    cut = cut_dimensions(rows)
    dimensions = tuple(d for d in wanted if d in cut)
    notes = []
    if not dimensions:
        raise ExplainError(f"{metric} has one value of {', '.join(wanted)} in these periods: cut it by "
                           f"{', '.join(cut) or 'nothing (its cells have one segment)'}.")
    if len(dimensions) < len(wanted):
        notes.append(f"{', '.join(d for d in wanted if d not in cut)}: one value in these periods, nothing to "
                     "split")
    incomplete = sorted({row.period.label for row in rows if not row.is_complete})
    if incomplete:
        notes.append(f"{', '.join(incomplete)} not complete yet: the data's cutoff lies inside it")
    governance = registry.metrics[metric].governance if metric in registry.metrics else None
    unit = governance.unit if governance else None
    noun = noun_of(registry.metrics[metric].label) if metric in registry.metrics else None
    ratio = is_ratio(rows)
    values = [_value(*totals(rows, p), ratio=ratio) for p in (before, after)]
    explanation = Explanation(metric, unit, before, after, values[0], values[1], ratio, dimensions, noun=noun)
    try:
        if ratio:
            mix_rate = {d: tuple(decompose.mix_rate_drivers(_cells(rows, before, after, (d,)), d)) for d in dimensions}
            explanation = _replace(explanation, mix_rate=mix_rate)
        else:
            segments = decompose.segment_drivers(_cells(rows, before, after, dimensions), list(dimensions),
                                                 max_depth=depth)
            explanation = _replace(explanation, segments=tuple(sorted(segments, key=lambda d: d.rank)))
    except decompose.DecompositionError as error:
        notes.append(f"no segment decomposition: {error}")
    tree, operation, tree_notes = tree_attribution(warehouse, registry, metric, before, after)
    return _replace(explanation, tree=tree, tree_operation=operation, notes=tuple(notes + tree_notes))


def _replace(explanation: Explanation, **changes: Any) -> Explanation:
    from dataclasses import replace

    return replace(explanation, **changes)


def _value(numerator: float, denominator: float | None, *, ratio: bool) -> float | None:
    if not ratio:
        return numerator
    return numerator / denominator if denominator else None


def _cells(rows: Sequence[CellRow], before: Period, after: Period,
           dimensions: Sequence[str]) -> list[decompose.Cell]:
    ratio = is_ratio(rows)
    return [decompose.Cell(segment=dict(zip(dimensions, key, strict=True)), before=s.before, after=s.after,
                           before_denominator=s.before_denominator if ratio else None,
                           after_denominator=s.after_denominator if ratio else None)
            for key, s in aggregate(rows, before, after, dimensions).items()]


# --- the metric tree -------------------------------------------------------------------------------

def _attribution(operation: str, parent: tuple[float, float], inputs: Sequence[tuple[str, float, float]]):
    if operation == "sum":
        return decompose.sum_attribution(*parent, {name: (b, a) for name, b, a in inputs})
    if operation == "product":
        return decompose.product_attribution(*parent, {name: (b, a) for name, b, a in inputs})
    return decompose.ratio_attribution(inputs[0], inputs[1])


def _tree_values(warehouse: Warehouse, registry: Registry, metric: str, before: Period,
                 after: Period) -> tuple[str, tuple[float, float], list[tuple[str, float, float]]] | str:
    """(operation, the metric's values, its inputs' values) or why there is no attribution."""
    found = registry.metrics.get(metric)
    decomposition = found.governance.decomposition if found and found.governance else None
    if decomposition is None:
        return ""
    grain = found.governance.grain if found and found.governance else None
    if grain not in (after.grain, f"cohort_{after.grain}"):
        return f"the metric tree of {metric} is by {grain}, not by {after.grain}"
    values = {}
    for name in (metric, *decomposition.metrics):
        pair = (lives_in_value(warehouse, registry, name, before), lives_in_value(warehouse, registry, name, after))
        if pair[0] is None or pair[1] is None:
            return f"no metric tree: {name} has no single value for both {before.label} and {after.label}"
        values[name] = (float(pair[0]), float(pair[1]))
    return (decomposition.operation, values[metric],
            [(name, *values[name]) for name in decomposition.metrics])


def tree_attribution(warehouse: Warehouse, registry: Registry, metric: str, before: Period,
                     after: Period) -> tuple[tuple[TreeRow, ...], str | None, list[str]]:
    """The metric's change attributed along its governance decomposition, one level further into an
    input with its own decomposition; values read through lives_in. (rows, operation, notes)."""
    found = _tree_values(warehouse, registry, metric, before, after)
    if isinstance(found, str):
        return (), None, [found] if found else []
    operation, (root_before, root_after), inputs = found
    scale = abs(root_before) or 1.0
    rows: list[TreeRow] = []
    notes: list[str] = []
    try:
        drivers = _attribution(operation, (root_before, root_after), inputs)
    except decompose.DecompositionError as error:
        return (), None, [f"no metric tree: {error}"]
    for driver in drivers:
        rows.append(TreeRow(driver.metric, metric, 1, driver.before, driver.after, driver.contribution,
                            driver.contribution / scale))
        nested = _tree_values(warehouse, registry, driver.metric, before, after)
        if isinstance(nested, str):
            if nested:
                notes.append(nested)
            continue
        child_operation, (child_before, child_after), child_inputs = nested
        change = child_after - child_before
        try:
            children = _attribution(child_operation, (child_before, child_after), child_inputs)
        except decompose.DecompositionError as error:
            notes.append(f"{driver.metric} not split further: {error}")
            continue
        for child in children:
            # The input's share of its own change, applied to its contribution to the root.
            part = driver.contribution * child.contribution / change if change else 0.0
            rows.append(TreeRow(child.metric, driver.metric, 2, child.before, child.after, part, part / scale))
    return tuple(rows), operation, notes


# --- for alerts ------------------------------------------------------------------------------------

_ALERT_GRAINS = {"day": "week", "week": "week", "cohort_week": "week", "month": "month", "cohort_month": "month"}


def top_drivers_text(warehouse: Warehouse, registry: Registry, metric: str, period: dt.date, grain: str,
                     top: int = 3) -> str | None:
    """The line an alert carries: the period holding `period` (a day's: its week; when that period is
    not complete yet, the complete one before it, so a part-week never reads as a fall) against the
    one before, e.g. `pm_north_star_users −6.0% (2026-W25 vs 2026-W24): country=BR × platform=android
    −310 users unexpected; …`. None when the metric has no cells for both periods; never raises for a
    metric it cannot explain (an alert is recorded with or without its drivers)."""
    cells_grain = _ALERT_GRAINS.get(grain)
    if cells_grain is None:
        return None
    after = Period.containing(cells_grain, period)
    try:
        complete = dict(available_periods(warehouse, registry, metric, cells_grain))
        if not complete.get(after, True):
            after = after.previous()
        return explain(warehouse, registry, metric, after.previous(), after).summary(top)
    except (UserError, decompose.DecompositionError):
        return None


def alert_explainer(warehouse: Warehouse, registry: Registry) -> Callable[[Evaluation], str | None]:
    """The `explain` callable of governance.alerts.record_breaches: an evaluation's top drivers, or None."""

    def explain_evaluation(evaluation: Evaluation) -> str | None:
        period = evaluation.latest.period
        found = registry.metrics.get(evaluation.metric)
        grain = found.governance.grain if found and found.governance else None
        if period is None or grain is None:
            return None
        return top_drivers_text(warehouse, registry, evaluation.metric, period, grain)

    return explain_evaluation
