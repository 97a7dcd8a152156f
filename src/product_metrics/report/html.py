"""The static HTML report: one self-contained file (plotly.js, the figures' data and the styles are
inline; it loads nothing from the network) with every chart, the definition and owner of each metric
it plots, the alerts (thresholds, targets, anomalies), the experiments' readouts (when there are any)
and the data-quality status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from product_metrics.formatting import format_value, noun_of
from product_metrics.report.charts import CHARTS, Chart
from product_metrics.report.data import Definition, ReportTables, latest_alert_run, read_definitions
from product_metrics.report.experiments import SECTION_ID as EXPERIMENTS_SECTION
from product_metrics.report.experiments import render_section as render_experiments

REPORT_FILE = "index.html"

_CSS = """
:root { --ink:#1a202c; --muted:#4a5568; --line:#e2e8f0; --bg:#f7fafc; --accent:#2b6cb0; --red:#c53030;
        --amber:#b7791f; --green:#276749; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); margin: 0;
       background: var(--bg); }
header { background: #1a365d; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #e2e8f0; }
header code { background: #2a4365; color: #fff; }
nav { padding: 8px 32px; background: #fff; border-bottom: 1px solid var(--line); font-size: 13px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 24px 32px; max-width: 1400px; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
                margin-bottom: 24px; }
h2 { font-size: 17px; margin: 0 0 8px; }
.chart { min-height: 300px; }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 8px; }
.missing { border: 2px dashed var(--amber); border-radius: 6px; padding: 18px; color: var(--amber);
           background: #fffaf0; font-weight: 600; }
.render-error { border: 2px solid var(--red); color: var(--red); padding: 12px; border-radius: 6px; }
details.definitions { margin-top: 8px; }
details.definitions summary { cursor: pointer; color: var(--accent); font-size: 13px; }
dl.definition { display: grid; grid-template-columns: 110px 1fr; gap: 2px 10px; margin: 8px 0 12px;
                font-size: 13px; border-left: 3px solid var(--line); padding-left: 10px; }
dl.definition dt { color: var(--muted); }
dl.definition dd { margin: 0; }
code { background: var(--bg); padding: 1px 4px; border-radius: 3px; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.level-alert { color: var(--red); font-weight: 700; } .level-warn { color: var(--amber); font-weight: 700; }
.level-ok { color: var(--green); } .level-no_value { color: var(--muted); }
.reviews-overdue { border-left: 3px solid var(--amber); background: #fffaf0; padding: 6px 10px; margin: 0 0 12px;
                   font-size: 13px; }
.reviews-overdue summary { cursor: pointer; color: var(--amber); font-weight: 600; }
.reviews-overdue ul { margin: 6px 0 0; padding-left: 18px; }
.experiment { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 8px; }
.experiment h3 { font-size: 15px; margin: 4px 0; }
.decision-reason { margin: 4px 0 8px; }
.experiment-chart { min-height: 160px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; font-weight: 600;
         border: 1px solid currentColor; white-space: nowrap; }
section.north-star { display: grid; grid-template-columns: minmax(300px, 1fr) 2fr; gap: 24px; }
.north-star-card h2 { font-size: 20px; margin: 0; }
.eyebrow { text-transform: uppercase; letter-spacing: .06em; font-size: 12px; color: var(--accent); margin: 0 0 4px;
           font-weight: 700; }
.big { font-size: 40px; font-weight: 700; margin: 4px 0 0; line-height: 1.1; }
.change { margin: 6px 0; } .change.good { color: var(--green); } .change.bad { color: var(--red); }
.target { margin: 10px 0; padding: 8px 10px; background: var(--bg); border-radius: 6px; }
.target-on_track .badge, .target-met .badge { color: var(--green); }
.target-off_track .badge, .target-missed .badge { color: var(--red); }
.progress { height: 8px; background: var(--line); border-radius: 4px; margin-top: 6px; overflow: hidden; }
.progress div { height: 100%; background: var(--accent); }
.drivers h3, .other-targets h3, h3.group { font-size: 14px; margin: 12px 0 4px; }
.drivers ol, .other-targets ul { margin: 0; padding-left: 20px; }
li.target-off_track, li.target-missed, td.target-off_track, td.target-missed { color: var(--red); }
li.target-met, td.target-met { color: var(--green); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px; }
article.tile { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px;
               padding: 10px 12px; }
article.tile.role-guardrail { border-left-color: var(--amber); }
article.tile h3 { font-size: 13px; margin: 0; color: var(--muted); font-weight: 600; }
.tile-value { font-size: 24px; font-weight: 700; margin: 2px 0; }
article.tile p { margin: 2px 0; }
.headline-chart { min-height: 300px; }
.not-built li { margin: 2px 0; }
"""

# Draws each figure from its JSON; a figure that fails shows its error in the panel and on the console.
_RENDER_SCRIPT = """
document.querySelectorAll("script.figure").forEach(function (source) {
  var target = document.getElementById(source.dataset.target);
  try {
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(target, figure.data, figure.layout, {responsive: true, displaylogo: false});
  } catch (error) {
    var message = document.createElement("p");
    message.className = "render-error";
    message.textContent = "This chart could not be drawn: " + error;
    target.replaceChildren(message);
    console.error("chart " + source.dataset.target + ": " + error);
  }
});
"""


@dataclass
class RenderedChart:
    chart: Chart
    figure_json: str | None = None        # None: not drawn
    missing_tables: list[str] = field(default_factory=list)
    empty: bool = False


@dataclass
class Report:
    html: str
    charts: list[RenderedChart]

    @property
    def drawn(self) -> list[str]:
        return [c.chart.key for c in self.charts if c.figure_json]

    @property
    def not_drawn(self) -> dict[str, str]:
        """Chart key → why it is not drawn (a table not built, or no rows)."""
        return {c.chart.key: (f"not built: {', '.join(c.missing_tables)}" if c.missing_tables else "no rows")
                for c in self.charts if not c.figure_json}


def draw_charts(warehouse: ReportTables, charts: tuple[Chart, ...] = CHARTS) -> list[RenderedChart]:
    rendered = []
    for chart in charts:
        missing = [warehouse.name(t) for t in chart.tables if not warehouse.has(t)]
        if missing:
            rendered.append(RenderedChart(chart, missing_tables=missing))
            continue
        figure = chart.build(warehouse)
        rendered.append(RenderedChart(chart, figure_json=figure.to_json() if figure is not None else None,
                                      empty=figure is None))
    return rendered


def _definitions_for(chart: Chart, catalog: dict[str, Definition] | None) -> str:
    if catalog is None:
        return ('<p class="note">Metric definitions and owners come from the metric catalog, which is not built: '
                'run <code>product-metrics catalog</code>.</p>')
    tables = {t.split(".", 1)[1] for t in chart.tables}
    plotted = [n for n in chart.metrics if n in catalog]
    # The other metrics the charted table holds: folded away, the plotted ones come first.
    others = sorted(n for n, d in catalog.items() if d.lives_in_table in tables and n not in plotted)
    if not plotted and not others:
        return ""
    parts = []
    if plotted:
        owners = ", ".join(dict.fromkeys(catalog[n].owner_name or "—" for n in plotted))
        parts.append(f'<details class="definitions" open><summary>Definitions — owner: {escape(owners)}</summary>'
                     f"{_definition_items(plotted, catalog)}</details>")
    if others:
        parts.append(f'<details class="definitions"><summary>{len(others)} more metrics in '
                     f'{escape(", ".join(sorted(tables)))}</summary>{_definition_items(others, catalog)}</details>')
    return "".join(parts)


def _definition_items(names: list[str], catalog: dict[str, Definition]) -> str:
    items = []
    for name in names:
        d = catalog[name]
        owner = escape(d.owner_name or "—") + (f' &lt;<a href="mailto:{escape(d.owner_email)}">'
                                               f'{escape(d.owner_email)}</a>&gt;' if d.owner_email else "")
        rows = [("metric", f"<code>{escape(name)}</code> {escape(d.label or '')}"
                           + (f" <em>({escape(d.status)})</em>" if d.status else "")),
                ("definition", escape(d.description or "—")),
                ("formula", f"<code>{escape(d.formula)}</code>" if d.formula else "—"),
                ("owner", owner)]
        if d.threshold_warn is not None or d.threshold_alert is not None:
            direction = escape((d.direction or "").replace("_", " "))
            rows.append(("thresholds", (f"warn {_value(d.threshold_warn, d)}, alert {_value(d.threshold_alert, d)} "
                                       f"({direction})")))
        items.append('<dl class="definition" data-metric="' + escape(name) + '">'
                     + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>")
    return "".join(items)


def _num(value: Any) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):  # SQL null read as NaN / NaT
        return "—"
    if hasattr(value, "date") and callable(value.date):  # a pandas / datetime timestamp of a date
        return value.date().isoformat() if value.time() == dt.time(0) else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return escape(str(value))


# A series with no governed metric (e.g. CAC of one channel) reads in the unit its column names.
_COLUMN_UNITS = (("_usd", "usd"), ("_rate", "ratio"), ("_ratio", "ratio"), ("_ms", "milliseconds"),
                 ("users", "users"), ("customers", "users"), ("nps", "score"), ("k_factor", "ratio"))


def _value(value: Any, d: Definition | None, column: str | None = None) -> str:
    """A metric's value in its unit (the catalog's); for an unknown metric, the unit its column names,
    else a plain number."""
    import pandas as pd

    if value is None or pd.isna(value):
        return "—"
    if d is None:
        unit = next((unit for suffix, unit in _COLUMN_UNITS if column and str(column).endswith(suffix)), None)
        return escape(format_value(float(value), unit, str(column))) if unit else _num(value)
    return escape(format_value(float(value), d.unit, d.metric_name, noun=noun_of(d.label)))


def _panel(rendered: RenderedChart, catalog: dict[str, Definition] | None) -> str:
    """A drawn chart's section; "" for a chart with nothing to show (the not-built list names those)."""
    chart = rendered.chart
    if not rendered.figure_json:
        return ""
    # "</" would end the script element early: JSON allows "<\/" for "</".
    data = rendered.figure_json.replace("</", "<\\/")
    body = (f'<div class="chart" id="chart-{chart.key}" data-chart="{chart.key}"></div>'
            f'<script type="application/json" class="figure" data-target="chart-{chart.key}">{data}</script>')
    note = f'<p class="note">{escape(chart.note)}</p>' if chart.note else ""
    return (f'<section class="panel" id="panel-{chart.key}"><h2>{escape(chart.title)}</h2>{note}{body}'
            f"{_definitions_for(chart, catalog)}</section>")


def _not_built(charts: list[RenderedChart]) -> str:
    """One short section naming the charts that could not be drawn and the command that draws each."""
    items = []
    for rendered in charts:
        chart = rendered.chart
        if rendered.missing_tables:
            tables = ", ".join(f"<code>{escape(t)}</code>" for t in rendered.missing_tables)
            items.append(f'<li data-missing-table="{escape(" ".join(rendered.missing_tables))}">'
                         f"{escape(chart.title)}: table not built ({tables}); run <code>{escape(chart.built_by)}</code>"
                         "</li>")
        elif rendered.empty:
            items.append(f"<li>{escape(chart.title)}: no rows yet in "
                         + ", ".join(f"<code>{escape(t)}</code>" for t in chart.tables) + "</li>")
    if not items:
        return ""
    return (f'<section class="panel not-built" id="panel-not-built"><h2>Not drawn yet</h2>'
            f'<ul>{"".join(items)}</ul></section>')


def _threshold_rows(catalog: dict[str, Definition]) -> list[tuple[str, str, Definition]]:
    """(metric, level, definition) for every metric with thresholds, from its latest catalog value."""
    from product_metrics.governance.alerts import breach_level

    rows = []
    for name, d in sorted(catalog.items()):
        if (d.threshold_warn is None and d.threshold_alert is None) or d.status == "deprecated":
            continue
        if d.latest_value is None or d.direction not in ("higher_is_better", "lower_is_better"):
            level = "no_value"
        else:
            level, _ = breach_level(d.latest_value, d.direction, d.threshold_warn, d.threshold_alert)
        rows.append((name, level, d))
    order = {"alert": 0, "warn": 1, "no_value": 2, "ok": 3}
    return sorted(rows, key=lambda r: (order[r[1]], r[0]))


def overdue_reviews(catalog: dict[str, Definition], today: dt.date) -> list[str]:
    """One line per metric whose review is overdue on `today`, from the catalog's columns."""
    from product_metrics.governance.rules import is_review_overdue, overdue_line

    lines = []
    for name, d in sorted(catalog.items()):
        due = _as_date(d.next_review_due)
        if is_review_overdue(due, d.status, today):
            lines.append(overdue_line(name, d.owner_name, due))
    return lines


def _as_date(value: Any) -> dt.date | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _reviews_note(catalog: dict[str, Definition], today: dt.date) -> str:
    """A warning, never an alert: the numbers are right, a definition is just due for its review."""
    lines = overdue_reviews(catalog, today)
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (f'<details class="reviews-overdue" id="reviews-overdue"><summary>{len(lines)} metric reviews overdue '
            f"(a warning: the owners should review these definitions)</summary><ul>{items}</ul></details>")


def _alerts_panel(warehouse: ReportTables, catalog: dict[str, Definition] | None, today: dt.date) -> str:
    parts = []
    if catalog is not None:
        parts.append(_reviews_note(catalog, today))
    if catalog is None:
        parts.append(f'<div class="missing">Table not built: <code>{escape(warehouse.name("metrics.metric_catalog"))}'
                     '</code>. Run '
                     '<code>product-metrics catalog</code> for each metric\'s threshold status.</div>')
    else:
        rows = _threshold_rows(catalog)
        body = "".join(
            f'<tr><td><code>{escape(n)}</code></td><td class="level-{lvl}">{lvl.replace("_", " ")}</td>'
            f'<td>{_num(d.latest_period)}</td><td class="num value-text">{_value(d.latest_value, d)}</td>'
            f'<td class="num value-text">{_value(d.threshold_warn, d)}</td>'
            f'<td class="num value-text">{_value(d.threshold_alert, d)}</td>'
            f'<td>{escape((d.direction or "").replace("_", " "))}</td><td>{escape(d.owner_name or "—")}</td></tr>'
            for n, lvl, d in rows)
        parts.append("<h3>Thresholds: each metric's latest complete value (from the catalog)</h3>"
                     + (f'<table id="threshold-status"><tr><th>metric</th><th>level</th><th>period</th>'
                        f'<th>value</th><th>warn</th><th>alert</th><th>direction</th><th>owner</th></tr>{body}</table>'
                        if rows else '<p class="note">No metric has thresholds.</p>'))
    breaches = latest_alert_run(warehouse)
    if breaches is None:
        parts.append(f'<p class="note">No <code>{escape(warehouse.name("audit.metric_alerts"))}</code> table: '
                     '<code>product-metrics alerts</code> has not recorded a breach yet.</p>')
    elif breaches.empty:
        parts.append(f'<p class="note">{escape(warehouse.name("audit.metric_alerts"))} holds no breach.</p>')
    else:
        parts.append(f"<h3>Recorded by the latest alerts run ({_num(breaches['run_at'].iloc[0])} UTC)</h3>"
                     + _breach_tables(breaches, catalog or {}))
    return f'<section class="panel" id="panel-alerts"><h2>Alerts</h2>{"".join(parts)}</section>'


def _breach_tables(breaches: Any, known: dict[str, Definition]) -> str:
    """The run's rows in three tables: thresholds crossed (with the top drivers of the metric's change),
    dated targets off track or missed (audit.metric_alerts kind 'target') and the anomalies of the
    latest complete periods (kind 'anomaly', with their top drivers); an older table without `kind`
    holds threshold rows only."""
    kinds = breaches["kind"].fillna("threshold") if "kind" in breaches.columns else None
    thresholds = breaches if kinds is None else breaches[~kinds.isin(("target", "anomaly"))]
    targets = breaches.iloc[0:0] if kinds is None else breaches[kinds == "target"]
    anomalies = breaches.iloc[0:0] if kinds is None else breaches[kinds == "anomaly"]
    html = ""
    if not thresholds.empty:
        body = "".join(
            f'<tr><td><code>{escape(r.metric_name)}</code></td><td class="level-{escape(r.level)}">{escape(r.level)}'
            f'</td><td>{_num(r.period)}</td><td class="num value-text">{_value(r.value, known.get(r.metric_name))}</td>'
            f'<td class="num value-text">{_value(r.threshold, known.get(r.metric_name))}</td>'
            f'<td>{escape(str(r.table))}.{escape(str(r.column))}</td>'
            f"<td>{_text(getattr(r, 'top_drivers', None))}</td></tr>"
            for r in thresholds.itertuples())
        html += ("<h3>Thresholds crossed</h3>"
                 f'<table id="recorded-breaches"><tr><th>metric</th><th>level</th><th>period</th><th>value</th>'
                 f"<th>threshold</th><th>column</th><th>top drivers of its change</th></tr>{body}</table>")
    if not targets.empty:
        body = "".join(
            f'<tr><td><code>{escape(r.metric_name)}</code></td>'
            f'<td class="target-{escape(_target_status(r))}">{escape(_target_status(r).replace("_", " "))}</td>'
            f'<td>{_num(r.period)}</td><td class="num value-text">{_value(r.value, known.get(r.metric_name))}</td>'
            f'<td class="num value-text">{_value(r.threshold, known.get(r.metric_name))}</td>'
            f"<td>{_text(getattr(r, 'detail', None))}</td></tr>"
            for r in targets.itertuples())
        html += ("<h3>Dated targets off track or missed</h3>"
                 f'<table id="recorded-targets"><tr><th>metric</th><th>status</th><th>period</th><th>value</th>'
                 f"<th>target</th><th>progress and pace</th></tr>{body}</table>")
    if not anomalies.empty:
        body = "".join(
            f'<tr><td><code>{escape(r.metric_name)}</code></td><td>{_num(r.period)}</td>'
            f'<td class="num value-text">{_value(r.value, known.get(r.metric_name), r.column)}</td>'
            f"<td>{_text(getattr(r, 'detail', None))}</td>"
            f'<td>{escape(str(r.table))}.{escape(str(r.column))}</td>'
            f"<td>{_text(getattr(r, 'top_drivers', None))}</td></tr>"
            for r in anomalies.itertuples())
        html += ("<h3>Anomalies: latest complete values far from their trailing window</h3>"
                 f'<table id="recorded-anomalies"><tr><th>metric</th><th>period</th><th>value</th>'
                 f"<th>how far</th><th>column</th><th>top drivers of its change</th></tr>{body}</table>")
    return html


def _target_status(row: Any) -> str:
    """'missed' or 'off_track', from the end of the target's summary (`…: off track`)."""
    detail = getattr(row, "detail", None)
    return "missed" if isinstance(detail, str) and detail.endswith(": missed") else "off_track"


def _text(value: Any) -> str:
    return escape(value) if isinstance(value, str) and value else "—"


def render_report(warehouse: ReportTables, *, built_at: dt.datetime, targets: Iterable[Any] | None = None) -> Report:
    """The report's HTML. `targets`: the metrics' target statuses (product_metrics.governance.targets.
    TargetStatus, or anything with its attributes), shown with the north star and the tiles."""
    import plotly.offline

    from product_metrics.report.summary import SECTION_ID, TILES_ID, render_north_star, render_tiles

    targets = list(targets or ())
    catalog = read_definitions(warehouse)
    charts = draw_charts(warehouse)
    panels = [_panel(c, catalog) for c in charts]
    alerts = _alerts_panel(warehouse, catalog, built_at.date())
    experiments, experiment_charts = render_experiments(warehouse)
    north_star, north_star_figure = render_north_star(warehouse, catalog, targets) if catalog else ("", None)
    tiles = render_tiles(warehouse, catalog, targets) if catalog else ""
    drawn = [c for c in charts if c.figure_json]
    nav = "".join(f'<a href="#panel-{c.chart.key}">{escape(c.chart.title.split(" (")[0])}</a>' for c in drawn)
    if experiments:
        nav = f'<a href="#{EXPERIMENTS_SECTION}">Experiments</a>' + nav
    nav = (f'<a href="#{SECTION_ID}">North star</a>' if north_star else "") + (
        f'<a href="#{TILES_ID}">KPIs</a>' if tiles else "") + '<a href="#panel-alerts">Alerts</a>' + nav
    script = plotly.offline.get_plotlyjs() if drawn or experiment_charts or north_star_figure else ""
    cutoff = _cutoff(warehouse)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Product metrics report</title><style>{_CSS}</style>
<script>{script}</script></head>
<body><header><h1>Product metrics report</h1>
<p>{cutoff}Built {built_at:%Y-%m-%d %H:%M} UTC from <code>{escape(warehouse.path.name)}</code> ·
{len(drawn)} of {len(charts)} charts drawn · definitions from {escape(warehouse.name("metrics.metric_catalog"))}</p>
</header><nav>{nav}</nav>
<main>{north_star}{tiles}{alerts}{"".join(panels)}{experiments}{_not_built(charts)}</main>
<script>{_RENDER_SCRIPT}</script></body></html>
"""
    return Report(html=html, charts=charts)


def _cutoff(warehouse: ReportTables) -> str:
    """"Data through <date> · " from the stickiness table's last day, when it is built."""
    if not warehouse.has("metrics.fct_stickiness_daily"):
        return ""
    last = warehouse.scalar(f"select max(activity_date) from {warehouse.name('metrics.fct_stickiness_daily')}")
    return f"Data through {_num(last)} · " if last is not None else ""


def write_report(out_dir: Path, database: Path, *, built_at: dt.datetime | None = None,
                 relations=None, targets: Iterable[Any] | None = None) -> tuple[Path, Report]:
    """The report of the DuckDB file `database`, reading the tables where `relations`
    (product_metrics.relations.Relations; default: the demo layout) says dbt built them;
    `targets`: the target statuses to show (see render_report)."""
    built_at = built_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with ReportTables.open(database, relations) as warehouse:
        report = render_report(warehouse, built_at=built_at, targets=targets)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text(report.html, encoding="utf-8")
    return path, report
