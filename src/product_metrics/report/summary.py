"""The top of the report: the certified north star (its chart, value, change, target and pace, top
drivers), then the KPIs and guardrails as tiles in the metric tree's order. Values come from each
metric's lives_in table (as the catalog reads them), the period-over-period columns of
fct_metric_values when that table has them, the drivers from fct_metric_change_drivers when it
exists and the targets from the statuses the caller passes (product_metrics.governance.targets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Protocol

from product_metrics.formatting import (
    format_change,
    format_points,
    format_relative,
    format_share,
    format_value,
    kind,
    noun_of,
)
from product_metrics.governance.tree import tree_of
from product_metrics.report.charts import INCOMPLETE_GREY, PALETTE, _layout
from product_metrics.report.data import (
    Definition,
    ReportTables,
    read_change_drivers,
    read_period_over_period,
    read_series,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

SECTION_ID = "panel-north-star"
TILES_ID = "panel-kpis"


class TargetLike(Protocol):
    """What the report reads of a target's status (product_metrics.governance.targets.TargetStatus)."""

    metric: str
    target_value: float
    by: Any
    status: str
    progress: float | None
    required_pace: float | None
    projected_value: float | None
    summary: str


@dataclass(frozen=True)
class Snapshot:
    """A metric's latest complete value and how it moved from the period before."""

    definition: Definition
    series: pd.DataFrame | None
    value: float | None
    period: dt.date | None
    previous: float | None
    previous_period: dt.date | None
    change: float | None
    relative_change: float | None
    year_over_year: float | None

    @property
    def name(self) -> str:
        return self.definition.metric_name

    def text(self, value: float | None, *, change: bool = False) -> str:
        d = self.definition
        noun = noun_of(d.label)
        return (format_change(value, d.unit, d.metric_name, noun=noun) if change
                else format_value(value, d.unit, d.metric_name, noun=noun))


def label(definition: Definition) -> str:
    return _strip(definition.label) or definition.metric_name


def _strip(text: str | None) -> str:
    import re

    return re.sub(r"\s*\(product metrics\)", "", text or "").strip()


def _date(value: Any) -> dt.date | None:
    import pandas as pd

    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def snapshot(warehouse: ReportTables, definition: Definition) -> Snapshot:
    series = read_series(warehouse, definition)
    value, period, previous, previous_period = definition.latest_value, _date(definition.latest_period), None, None
    if series is not None:
        complete = series[series["is_complete"].astype(bool) & series["value"].notna()]
        if not complete.empty:
            value, period = float(complete["value"].iloc[-1]), _date(complete["period"].iloc[-1])
        if len(complete) >= 2:
            previous, previous_period = float(complete["value"].iloc[-2]), _date(complete["period"].iloc[-2])
    change = None if value is None or previous is None else value - previous
    relative = change / abs(previous) if change is not None and previous else None
    year_over_year = None
    pop = read_period_over_period(warehouse, definition)
    if pop is not None:  # calendar-aligned: a gap in the data gives no change, not a change over two periods
        previous, change, relative = pop["previous_value"], pop["change"], pop["relative_change"]
        year_over_year = pop["year_over_year_relative_change"]
    return Snapshot(definition, series, value, period, previous, previous_period, change, relative, year_over_year)


def period_text(period: dt.date | None, grain: str | None) -> str:
    if period is None:
        return "no complete period yet"
    if grain in ("month", "cohort_month"):
        return ("signup month " if grain == "cohort_month" else "") + f"{period:%b %Y}"
    if grain in ("week", "cohort_week"):
        return ("signup week of " if grain == "cohort_week" else "week of ") + f"{period:%Y-%m-%d}"
    return f"{period:%Y-%m-%d}"


_PREVIOUS = {"week": "previous week", "cohort_week": "previous cohort", "month": "previous month",
             "cohort_month": "previous cohort", "day": "previous day"}


def _change_line(snap: Snapshot) -> str:
    if snap.change is None:
        return '<p class="change muted">no previous period to compare with</p>'
    d = snap.definition
    good = (snap.change > 0) == (d.direction == "higher_is_better") if snap.change else None
    css = "flat" if not snap.change or d.direction not in ("higher_is_better", "lower_is_better") \
        else ("good" if good else "bad")
    arrow = "▲" if snap.change > 0 else "▼" if snap.change < 0 else "■"
    versus = _PREVIOUS.get(d.grain or "", "previous period")
    relative = f" ({format_relative(snap.relative_change)})" if snap.relative_change is not None \
        and kind(d.unit, d.metric_name) != "percent" else ""
    yoy = (f' · <span class="yoy">{format_relative(snap.year_over_year)} year over year</span>'
           if snap.year_over_year is not None else "")
    return (f'<p class="change {css}"><span class="value-text">{arrow} {escape(snap.text(snap.change, change=True))}'
            f"{escape(relative)}</span> vs {versus}{yoy}</p>")


def _target_block(snap: Snapshot, target: TargetLike | None) -> str:
    if target is None:
        return ""
    d = snap.definition
    status = str(target.status)
    progress = target.progress
    bar = ""
    if progress is not None:
        width = max(0.0, min(1.0, float(progress))) * 100
        bar = (f'<div class="progress" title="{format_share(progress, decimals=0)} of the way from the baseline '
               f'to the target"><div style="width:{width:.0f}%"></div></div>')
    facts = [(f"target <span class=\"value-text\">{escape(format_value(target.target_value, d.unit, d.metric_name, noun=noun_of(d.label)))}"
             f"</span> by {escape(str(target.by))}")]
    if progress is not None:
        facts.append(f'<span class="value-text">{format_share(progress, decimals=0)}</span> of the way')
    if target.required_pace is not None:
        facts.append(f'pace needed <span class="value-text">{escape(snap.text(target.required_pace, change=True))}'
                     f"</span> per {escape(_per(d.grain))}")
    if target.projected_value is not None:
        facts.append(f'projected <span class="value-text">{escape(snap.text(target.projected_value))}</span>')
    return (f'<div class="target target-{escape(status)}"><span class="badge">{escape(status.replace("_", " "))}</span> '
            f'{" · ".join(facts)}{bar}<p class="note">{escape(target.summary)}</p></div>')


def _per(grain: str | None) -> str:
    return {"day": "day", "week": "week", "cohort_week": "week", "month": "month", "cohort_month": "month"}.get(
        grain or "", "period")


def _drivers_block(warehouse: ReportTables, snap: Snapshot) -> str:
    """The top drivers of the metric's latest change (fct_metric_change_drivers, the change ending at
    the snapshot's period when the table has it): the metric tree's inputs, then the segments."""
    frame = read_change_drivers(warehouse, snap.name, period=snap.period)
    if frame is None:
        return ""
    first = frame.iloc[0]
    items = []
    for row in frame.itertuples():
        if row.analysis == "tree":
            points = format_points(_number(row.contribution_share))
            share = f" ({points} of the change)" if points != "—" else ""
            items.append(f'<li><code>{escape(str(row.segment))}</code>: <span class="value-text">'
                         f"{escape(snap.text(row.contribution, change=True))}</span>{escape(share)}</li>")
        elif row.analysis == "mix_rate":
            items.append(f"<li>{escape(str(row.segment))}: mix <span class=\"value-text\">"
                         f"{escape(snap.text(row.mix_effect, change=True))}</span>, rate <span class=\"value-text\">"
                         f"{escape(snap.text(row.rate_effect, change=True))}</span></li>")
        else:
            items.append(f"<li>{escape(str(row.segment))}: <span class=\"value-text\">"
                         f"{escape(snap.text(row.unexpected_difference, change=True))}</span> unexpected "
                         f"(moved <span class=\"value-text\">{escape(snap.text(row.difference, change=True))}</span>)"
                         "</li>")
    when = f"{_date(first.from_period_start)} → {_date(first.to_period_start)}"
    return (f'<div class="drivers"><h3>What moved it ({escape(str(first.period_grain))}ly, {escape(when)})</h3>'
            f'<ol>{"".join(items)}</ol></div>')


def _number(value: Any) -> float | None:
    """A float of a frame's cell; None for SQL null (NaN in pandas)."""
    import math

    return None if value is None or math.isnan(float(value)) else float(value)


def current_target(targets: Iterable[TargetLike], metric: str) -> TargetLike | None:
    """The target a card shows for `metric`: the nearest one still ahead (on or off track), else the
    latest judged one (met, missed, no value)."""
    mine = sorted((t for t in targets if t.metric == metric), key=lambda t: str(t.by))
    ahead = [t for t in mine if t.status in ("on_track", "off_track")]
    return ahead[0] if ahead else (mine[-1] if mine else None)


def _other_targets(targets: Iterable[TargetLike], metric: str, shown: TargetLike | None) -> str:
    others = [t for t in targets if t.metric == metric and t is not shown]
    if not others:
        return ""
    items = "".join(f'<li class="target-{escape(str(t.status))}">{escape(t.summary)}</li>'
                    for t in sorted(others, key=lambda t: str(t.by)))
    return f'<div class="other-targets"><h3>Other targets</h3><ul>{items}</ul></div>'


def north_star_chart(snap: Snapshot, target: TargetLike | None) -> go.Figure | None:
    """The north star's periods: complete ones as a line, the one still running as a grey hollow
    marker (not a drop), the target as a dashed line when there is one."""
    import plotly.graph_objects as go

    series = snap.series
    if series is None or series["value"].notna().sum() == 0:
        return None
    d = snap.definition
    complete = series[series["is_complete"].astype(bool)]
    running = series[~series["is_complete"].astype(bool)]
    fmt = ".0%" if kind(d.unit, d.metric_name) == "percent" else ",.0f"
    unit = noun_of(d.label) if kind(d.unit, d.metric_name) in ("count",) else d.unit or ""
    fig = go.Figure(go.Scatter(x=complete["period"], y=complete["value"], mode="lines+markers", name=label(d),
                               line={"color": PALETTE[0], "width": 3},
                               hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y:{fmt}}} {unit}<extra></extra>"))
    if not running.empty:
        fig.add_trace(go.Scatter(x=running["period"], y=running["value"], mode="markers", name="period not over",
                                 marker={"color": "#ffffff", "size": 9, "line": {"color": INCOMPLETE_GREY, "width": 2}},
                                 hovertemplate=f"%{{x|%Y-%m-%d}} (not over yet): %{{y:{fmt}}}<extra></extra>"))
    if target is not None and target.target_value is not None:
        fig.add_hline(y=float(target.target_value), line_dash="dash", line_color=PALETTE[1],
                      annotation_text=f"target {format_value(target.target_value, d.unit, d.metric_name)} by {target.by}",
                      annotation_position="top left")
    title = {"usd": "$", "percent": "%", "count": unit}.get(kind(d.unit, d.metric_name), d.unit or "")
    return _layout(fig, height=340, hovermode="closest", showlegend=not running.empty,
                   yaxis={"title": {"text": title}, "rangemode": "tozero", "tickformat": fmt},
                   xaxis={"title": {"text": d.grain or "period"}})


def north_star(catalog: dict[str, Definition]) -> Definition | None:
    stars = [d for d in catalog.values() if d.role == "north_star" and d.status != "deprecated"]
    stars.sort(key=lambda d: (d.status != "certified", d.metric_name))
    return stars[0] if stars else None


def tree_order(catalog: dict[str, Definition]) -> list[Definition]:
    """The KPIs then the guardrails, as the catalog's metric tree draws them."""
    live = {n: (d.role, d.status, d.guardrail_names()) for n, d in catalog.items() if d.status != "deprecated"}
    tree = tree_of(live, set(catalog))
    return [catalog[n] for level in ("kpi", "guardrail") for n in tree.levels[level]]


def render_north_star(warehouse: ReportTables, catalog: dict[str, Definition],
                      targets: Iterable[TargetLike] = ()) -> tuple[str, str | None]:
    """The north star section's HTML ("" without a north star) and its figure's JSON (None: no chart)."""
    definition = north_star(catalog)
    if definition is None:
        return "", None
    snap = snapshot(warehouse, definition)
    targets = list(targets)
    target = current_target(targets, definition.metric_name)
    figure = north_star_chart(snap, target)
    chart = ""
    figure_json = None
    if figure is not None:
        figure_json = figure.to_json().replace("</", "<\\/")
        chart = (f'<div class="headline-chart" id="north-star-chart" data-metric="{escape(definition.metric_name)}">'
                 f'</div><script type="application/json" class="figure" data-target="north-star-chart">'
                 f"{figure_json}</script>")
    description = escape(definition.description or "")
    status = f' <span class="badge">{escape(definition.status)}</span>' if definition.status else ""
    card = (f'<div class="north-star-card"><p class="eyebrow">North star{status}</p>'
            f"<h2>{escape(label(definition))}</h2>"
            f'<p class="big value-text" data-metric="{escape(definition.metric_name)}">{escape(snap.text(snap.value))}</p>'
            f'<p class="muted">{escape(period_text(snap.period, definition.grain))}</p>{_change_line(snap)}'
            f"{_target_block(snap, target)}{_other_targets(targets, definition.metric_name, target)}"
            f"{_drivers_block(warehouse, snap)}"
            f'<p class="note">{description}</p></div>')
    html = (f'<section class="panel north-star" id="{SECTION_ID}">{card}'
            f'<div class="north-star-chart">{chart}</div></section>')
    return html, figure_json


def _tile(warehouse: ReportTables, definition: Definition, level: Sequence[str], guards: dict[str, list[str]],
          targets: dict[str, TargetLike]) -> str | None:
    snap = snapshot(warehouse, definition)
    if snap.value is None:
        return None
    role = definition.role if definition.metric_name in level else "guardrail"
    guarded = guards.get(definition.metric_name, [])
    guard_note = (f'<p class="note">guards {", ".join(escape(g) for g in guarded)}</p>' if guarded else "")
    level_badge = _threshold_badge(definition, snap.value)
    return (f'<article class="tile role-{escape(role or "diagnostic")}" data-metric="{escape(definition.metric_name)}">'
            f'<h3>{escape(label(definition))}</h3>'
            f'<p class="tile-value value-text">{escape(snap.text(snap.value))}</p>{level_badge}'
            f'<p class="muted">{escape(period_text(snap.period, definition.grain))}</p>{_change_line(snap)}'
            f"{_target_block(snap, targets.get(definition.metric_name))}{guard_note}</article>")


def _threshold_badge(definition: Definition, value: float) -> str:
    from product_metrics.governance.alerts import breach_level

    if definition.direction not in ("higher_is_better", "lower_is_better") or (
            definition.threshold_warn is None and definition.threshold_alert is None):
        return ""
    level, _ = breach_level(value, definition.direction, definition.threshold_warn, definition.threshold_alert)
    if level == "ok":
        return ""
    return f'<span class="badge level-{escape(level)}">{escape(level)}: beyond its threshold</span>'


def render_tiles(warehouse: ReportTables, catalog: dict[str, Definition], targets: Iterable[TargetLike] = ()) -> str:
    """The KPIs and guardrails in the tree's order, one tile each with its value, period and change;
    a metric without a value in the warehouse gets no tile (it is listed once, in a note)."""
    ordered = tree_order(catalog)
    if not ordered:
        return ""
    targets = list(targets)
    by_target = {name: found for name in {t.metric for t in targets}
                 if (found := current_target(targets, name)) is not None}
    kpis = [d.metric_name for d in ordered if d.role == "kpi"]
    guards: dict[str, list[str]] = {}
    for d in catalog.values():
        for g in d.guardrail_names():
            guards.setdefault(g, []).append(label(d))
    groups = []
    missing = []
    for title, members in (("KPIs — what drives the north star", [d for d in ordered if d.metric_name in kpis]),
                           ("Guardrails — what must not get worse", [d for d in ordered if d.metric_name not in kpis])):
        tiles = []
        for d in members:
            tile = _tile(warehouse, d, kpis, guards, by_target)
            if tile is None:
                missing.append(d.metric_name)
            else:
                tiles.append(tile)
        if tiles:
            groups.append(f'<h3 class="group">{escape(title)}</h3><div class="tiles">{"".join(tiles)}</div>')
    if not groups:
        return ""
    note = (f'<p class="note">Not measured in this warehouse (no table holds them yet): '
            f'{", ".join(f"<code>{escape(n)}</code>" for n in missing)}.</p>' if missing else "")
    return f'<section class="panel" id="{TILES_ID}"><h2>KPIs and guardrails</h2>{"".join(groups)}{note}</section>'
