"""The formulas of change attribution, once: segments, mix and rate, the metric tree.

- `segment_drivers`: contribution analysis of a summable metric as BigQuery ML defines it for summable
  metrics (ML.GET_INSIGHTS): per segment the difference, the value expected had the segment moved like
  its complement (the rest of the population), the unexpected difference and the apriori support.
- `mix_rate_drivers`: a ratio metric's change split exactly into mix (the segment's share of the
  denominator moved) and rate (the segment's own ratio moved), midpoint weights.
- `sum_attribution`, `product_attribution`, `ratio_attribution`: a parent metric's change attributed to
  the metrics it is made of; sums add, products and ratios by log-mean Divisia (LMDI-I).

Every split is exact: the parts add up to the change, and no result is NaN or infinite.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

Segment = tuple[tuple[str, str], ...]

# The tree row that holds what the children leave unexplained (the parent is not their exact sum/product).
RESIDUAL = "(residual)"
# Relative size under which an unexplained remainder is float noise, not a residual row.
_RESIDUAL_TOLERANCE = 1e-9


class DecompositionError(ValueError):
    """The change cannot be decomposed (e.g. a ratio whose denominators are all zero)."""


@dataclass(frozen=True)
class Cell:
    """The finest segment: one combination of dimension values and its value in both periods."""

    segment: Mapping[str, str]  # dimension -> value
    before: float  # numerator in the from-period (0 when absent)
    after: float  # numerator in the to-period
    before_denominator: float | None = None  # ratio metrics only (0 when absent)
    after_denominator: float | None = None


# ---------------------------------------------------------------------------------------------------
# Summable metrics: contribution analysis
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentDriver:
    """One segment of a summable metric, as BigQuery ML's contribution analysis reports it.

    support is the apriori support: the larger of the segment's two shares of the population, each
    share taken on absolute cell values (sum of |value| over the segment's cells / the same over all
    cells) so that negative values (refunds) cannot net a large segment down to a small one.
    expected_basis says which growth ratio gave expected_after: 'complement' (the rest of the
    population's after/before), 'population' (the whole population's, when the complement's is
    undefined or negative) or 'none' (no ratio is meaningful: no change is expected).
    """

    segment: Segment  # ((dimension, value), ...) in the order of `dimensions`
    before: float
    after: float
    difference: float  # after - before
    relative_difference: float | None  # difference / abs(before); None when before is 0
    expected_after: float  # before * complement ratio (fallback: population ratio, then before)
    unexpected_difference: float  # after - expected_after
    relative_unexpected_difference: float | None  # unexpected / abs(expected_after); None when 0
    support: float
    rank: int  # 1 = largest abs(unexpected_difference) after pruning
    expected_basis: str = "complement"


@dataclass
class _Totals:
    before: float = 0.0
    after: float = 0.0
    abs_before: float = 0.0
    abs_after: float = 0.0
    cells: int = 0

    def add(self, cell: Cell) -> None:
        self.before += cell.before
        self.after += cell.after
        self.abs_before += abs(cell.before)
        self.abs_after += abs(cell.after)
        self.cells += 1


def segment_drivers(
    cells: Iterable[Cell],
    dimensions: Sequence[str],
    *,
    max_depth: int = 2,
    min_support: float = 0.0,
    prune: bool = True,
    explained_share: float = 0.9,
) -> list[SegmentDriver]:
    """Every segment of 1..max_depth of `dimensions` (values present in either period), ranked.

    Segments whose support is below `min_support` are left out. With `prune`, redundant segments are
    dropped (see `_prune`; `explained_share` is the share of a segment's unexpected difference one of
    its children must carry to explain it). Ranked by abs(unexpected_difference) descending; ties go
    to the more descriptive segment, then to the segment's dimensions and values in order.
    """
    if max_depth < 1:
        raise DecompositionError(f"max_depth must be 1 or more, not {max_depth}.")
    cell_list = list(cells)
    population = _Totals()
    segments: dict[Segment, _Totals] = {}
    for cell in cell_list:
        population.add(cell)
        for segment in _segments_of(cell, dimensions, max_depth):
            segments.setdefault(segment, _Totals()).add(cell)
    universal = _universal_pairs(segments, population.cells)
    drivers = {
        segment: _segment_driver(segment, totals, population)
        for segment, totals in segments.items()
        if not universal.intersection(segment)
    }
    drivers = {segment: d for segment, d in drivers.items() if d.support >= min_support}
    kept = _prune(drivers, explained_share) if prune else set(drivers)
    order = {dimension: index for index, dimension in enumerate(dimensions)}
    ranked = sorted(
        (drivers[segment] for segment in kept),
        key=lambda d: (
            -abs(d.unexpected_difference),
            -len(d.segment),
            [(order[dimension], value) for dimension, value in d.segment],
        ),
    )
    return [_with_rank(driver, rank) for rank, driver in enumerate(ranked, start=1)]


def _segments_of(cell: Cell, dimensions: Sequence[str], max_depth: int) -> Iterable[Segment]:
    missing = [dimension for dimension in dimensions if dimension not in cell.segment]
    if missing:
        raise DecompositionError(
            f"A cell has no value for {', '.join(missing)}; give every cell all of {', '.join(dimensions)}."
        )
    pairs = [(dimension, str(cell.segment[dimension])) for dimension in dimensions]
    for depth in range(1, min(max_depth, len(pairs)) + 1):
        yield from itertools.combinations(pairs, depth)


def _universal_pairs(segments: Mapping[Segment, _Totals], cell_count: int) -> set[tuple[str, str]]:
    """(dimension, value) pairs every cell has (e.g. country='all'): they cut nothing out."""
    return {
        segment[0] for segment, totals in segments.items() if len(segment) == 1 and totals.cells == cell_count
    }


def _segment_driver(segment: Segment, totals: _Totals, population: _Totals) -> SegmentDriver:
    ratio, basis = _expected_ratio(totals, population)
    expected = totals.before * ratio
    unexpected = totals.after - expected
    difference = totals.after - totals.before
    return SegmentDriver(
        segment=segment,
        before=totals.before,
        after=totals.after,
        difference=difference,
        relative_difference=_relative(difference, totals.before),
        expected_after=expected,
        unexpected_difference=unexpected,
        relative_unexpected_difference=_relative(unexpected, expected),
        support=max(
            _share(totals.abs_before, population.abs_before), _share(totals.abs_after, population.abs_after)
        ),
        rank=0,
        expected_basis=basis,
    )


def _expected_ratio(totals: _Totals, population: _Totals) -> tuple[float, str]:
    """The growth the segment is expected to follow: its complement's, else the population's, else none.

    A ratio is meaningful when its before is positive and its after is not negative: a complement that
    was empty or net negative before (refunds) says nothing about how the segment should have moved.
    """
    complement_before = population.before - totals.before
    complement_after = population.after - totals.after
    if complement_before > 0 and complement_after >= 0:
        return complement_after / complement_before, "complement"
    if population.before > 0 and population.after >= 0:
        return population.after / population.before, "population"
    return 1.0, "none"


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _relative(change: float, base: float) -> float | None:
    """change / abs(base); None when the base is 0 (or so small that the quotient is not finite)."""
    if base == 0:
        return None
    relative = change / abs(base)
    return relative if math.isfinite(relative) else None


def _prune(drivers: Mapping[Segment, SegmentDriver], explained_share: float) -> set[Segment]:
    """The segments that are not redundant.

    1. BigQuery ML's PRUNE_REDUNDANT_INSIGHTS: a segment whose before and after equal those of a more
       descriptive segment (its dimension values a subset of the other's) is dropped; the more
       descriptive one is kept (the parent holds nothing but that child).
    2. A segment is dropped when one of its children (one dimension more) explains it: the child's
       unexpected difference has the same sign and at least `explained_share` of the parent's size.
       A planted drop in country=BR × platform=android then shows once, not also as country=BR and
       platform=android, while a drop spread over a country's platforms keeps the country.
    """
    children: dict[Segment, list[SegmentDriver]] = {}
    for segment, driver in drivers.items():
        for parent in itertools.combinations(segment, len(segment) - 1):
            if parent in drivers:
                children.setdefault(parent, []).append(driver)
    return {
        segment
        for segment, driver in drivers.items()
        if not any(_explains(child, driver, explained_share) for child in children.get(segment, []))
    }


def _explains(child: SegmentDriver, parent: SegmentDriver, explained_share: float) -> bool:
    if _same_values(child, parent):
        return True
    parent_size = abs(parent.unexpected_difference)
    same_sign = child.unexpected_difference * parent.unexpected_difference > 0
    return same_sign and abs(child.unexpected_difference) >= explained_share * parent_size


def _same_values(a: SegmentDriver, b: SegmentDriver) -> bool:
    return _close(a.before, b.before) and _close(a.after, b.after)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def _with_rank(driver: SegmentDriver, rank: int) -> SegmentDriver:
    return replace(driver, rank=rank)


# ---------------------------------------------------------------------------------------------------
# Ratio metrics: mix and rate
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixRateDriver:
    """One segment's part of a ratio metric's change: sum of total_effect over a dimension = the change.

    Shares are of the denominator; rates are None in a period where the segment's denominator is 0.
    """

    segment: Segment
    before_share: float
    after_share: float  # denominator shares
    before_rate: float | None
    after_rate: float | None
    mix_effect: float
    rate_effect: float
    total_effect: float  # total = mix + rate
    rank: int


@dataclass
class _RatioTotals:
    before: float = 0.0
    after: float = 0.0
    before_denominator: float = 0.0
    after_denominator: float = 0.0

    def add(self, cell: Cell) -> None:
        if cell.before_denominator is None or cell.after_denominator is None:
            raise DecompositionError(
                "A cell of a ratio metric has no denominator; give before_denominator and "
                "after_denominator (0 when the segment is absent)."
            )
        self.before += cell.before
        self.after += cell.after
        self.before_denominator += cell.before_denominator
        self.after_denominator += cell.after_denominator


def mix_rate_drivers(cells: Iterable[Cell], dimension: str) -> list[MixRateDriver]:
    """The exact midpoint mix/rate split of a ratio metric's change over the values of one dimension.

    With shares s = d_i / D and rates r = n_i / d_i of the two periods (0 before, 1 after):
        mix_i  = (s1_i - s0_i) (r0_i + r1_i) / 2
        rate_i = (s0_i + s1_i) / 2 (r1_i - r0_i)
    so that mix_i + rate_i = n1_i / D1 - n0_i / D0, and the sum over i is the ratio's change.
    A segment with a zero denominator in one period takes the other period's rate there (absent in
    one period: all of its effect is mix). A numerator over a zero denominator (n_i > 0 = d_i) has no
    share to move; its term n_i / D counts as rate effect, which keeps the sum exact.
    Ranked by abs(total_effect) descending, then by value.
    """
    groups: dict[str, _RatioTotals] = {}
    population = _RatioTotals()
    for cell in cells:
        if dimension not in cell.segment:
            raise DecompositionError(f"A cell has no value for {dimension}; give every cell that dimension.")
        population.add(cell)
        groups.setdefault(str(cell.segment[dimension]), _RatioTotals()).add(cell)
    if population.before_denominator == 0 or population.after_denominator == 0:
        raise DecompositionError(
            "The ratio's denominator is 0 in one of the periods, so its change has no mix/rate split."
        )
    drivers = [
        _mix_rate_driver(((dimension, value),), totals, population) for value, totals in groups.items()
    ]
    drivers.sort(key=lambda d: (-abs(d.total_effect), d.segment))
    return [replace(driver, rank=rank) for rank, driver in enumerate(drivers, start=1)]


def _mix_rate_driver(segment: Segment, totals: _RatioTotals, population: _RatioTotals) -> MixRateDriver:
    before_rate = _rate(totals.before, totals.before_denominator)
    after_rate = _rate(totals.after, totals.after_denominator)
    # A period without denominator borrows the other period's rate (0 when neither has one).
    r0 = before_rate if before_rate is not None else (after_rate or 0.0)
    r1 = after_rate if after_rate is not None else (before_rate or 0.0)
    s0 = totals.before_denominator / population.before_denominator
    s1 = totals.after_denominator / population.after_denominator
    # The numerator that sits over a zero denominator: no share, only its term n / D.
    orphan0 = totals.before / population.before_denominator if before_rate is None else 0.0
    orphan1 = totals.after / population.after_denominator if after_rate is None else 0.0
    mix = (s1 - s0) * (r0 + r1) / 2
    rate = (s0 + s1) / 2 * (r1 - r0) + (orphan1 - orphan0)
    return MixRateDriver(
        segment=segment,
        before_share=s0,
        after_share=s1,
        before_rate=before_rate,
        after_rate=after_rate,
        mix_effect=mix,
        rate_effect=rate,
        total_effect=mix + rate,
        rank=0,
    )


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator != 0 else None


# ---------------------------------------------------------------------------------------------------
# The metric tree
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeDriver:
    """A child metric's part of its parent's change; the contributions of a list sum to that change.

    contribution_share is contribution / abs(parent before): the child's points of the parent's
    relative change (0 when the parent's before is 0 and no relative change exists). method says how
    it was split: 'sum', 'lmdi', 'shapley' (the fallback for values that are not all positive) or
    'residual' (the row named RESIDUAL: what the children do not account for).
    """

    metric: str
    before: float
    after: float
    contribution: float  # in the parent's units; sum over children = parent's change
    contribution_share: float  # contribution / abs(parent before)
    rank: int
    method: str = "sum"


def sum_attribution(
    parent_before: float, parent_after: float, children: Mapping[str, tuple[float, float]]
) -> list[TreeDriver]:
    """A sum's change: each child contributes its own change (plus a RESIDUAL row if they do not add up)."""
    parts = [(name, before, after, after - before) for name, (before, after) in children.items()]
    return _tree_drivers(parent_before, parent_after, parts, "sum")


def product_attribution(
    parent_before: float, parent_after: float, factors: Mapping[str, tuple[float, float]]
) -> list[TreeDriver]:
    """A product's change by LMDI: contribution_k = L(P1, P0) ln(x1_k / x0_k), L the logarithmic mean.

    Exact (the logs add up to ln(P1 / P0)). When a factor or the product is not positive the logs do
    not exist; the split is then the Shapley one (each factor's change averaged over the orders in
    which the factors can change; for two factors the midpoint (x1 - x0)(y0 + y1) / 2), also exact.
    P is taken as the product of the factors; a parent that differs gets a RESIDUAL row.
    """
    names = list(factors)
    before = [factors[name][0] for name in names]
    after = [factors[name][1] for name in names]
    contributions, method = _product_split(before, after)
    parts = [(name, b, a, c) for name, b, a, c in zip(names, before, after, contributions)]
    return _tree_drivers(parent_before, parent_after, parts, method)


def ratio_attribution(
    numerator: tuple[str, float, float], denominator: tuple[str, float, float]
) -> list[TreeDriver]:
    """A ratio's change N/D as the product N × (1/D): LMDI, the denominator's log change with its sign flipped.

    The parent is N/D of the two periods; a denominator of 0 in either period leaves no ratio.
    """
    numerator_name, n0, n1 = numerator
    denominator_name, d0, d1 = denominator
    if d0 == 0 or d1 == 0:
        raise DecompositionError(
            f"{denominator_name} is 0 in one of the periods, so {numerator_name} / {denominator_name} "
            "has no value to attribute."
        )
    contributions, method = _product_split([n0, 1 / d0], [n1, 1 / d1])
    parts = [
        (numerator_name, n0, n1, contributions[0]),
        (denominator_name, d0, d1, contributions[1]),
    ]
    return _tree_drivers(n0 / d0, n1 / d1, parts, method)


def logarithmic_mean(a: float, b: float) -> float:
    """L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a; a and b positive."""
    if a == b:
        return a
    # log1p keeps the denominator accurate when a and b are close.
    return (a - b) / math.log1p((a - b) / b)


def _product_split(before: Sequence[float], after: Sequence[float]) -> tuple[list[float], str]:
    product_before = math.prod(before)
    product_after = math.prod(after)
    if all(value > 0 for value in [*before, *after]):
        weight = logarithmic_mean(product_after, product_before)
        return [weight * math.log(a / b) for b, a in zip(before, after)], "lmdi"
    return _shapley_split(before, after), "shapley"


def _shapley_split(before: Sequence[float], after: Sequence[float]) -> list[float]:
    """Each factor's marginal change of the product, averaged over every order of the factors' changes."""
    n = len(before)
    contributions = []
    for k in range(n):
        others = [i for i in range(n) if i != k]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for changed in itertools.combinations(others, size):
                rest = math.prod(after[i] if i in changed else before[i] for i in others)
                total += weight * (after[k] - before[k]) * rest
        contributions.append(total)
    return contributions


def _tree_drivers(
    parent_before: float,
    parent_after: float,
    parts: Sequence[tuple[str, float, float, float]],
    method: str,
) -> list[TreeDriver]:
    change = parent_after - parent_before
    residual = change - math.fsum(part[3] for part in parts)
    scale = max(1.0, abs(parent_before), abs(parent_after))
    rows = [(name, before, after, contribution, method) for name, before, after, contribution in parts]
    if abs(residual) > _RESIDUAL_TOLERANCE * scale:
        rows.append((RESIDUAL, 0.0, 0.0, residual, "residual"))
    rows.sort(key=lambda row: (-abs(row[3]), row[0]))
    return [
        TreeDriver(
            metric=name,
            before=before,
            after=after,
            contribution=contribution,
            contribution_share=contribution / abs(parent_before) if parent_before != 0 else 0.0,
            rank=rank,
            method=row_method,
        )
        for rank, (name, before, after, contribution, row_method) in enumerate(rows, start=1)
    ]
