"""The static HTML metric catalog: one self-contained file (inline CSS and SVG, no script, no
network) with the metric tree and, per metric, its definition, formula, owner, status, guardrails,
review dates, where it lives and its latest value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from product_metrics.formatting import format_value, noun_of
from product_metrics.governance.catalog import CatalogEntry
from product_metrics.governance.registry import Registry
from product_metrics.governance.rules import is_review_overdue
from product_metrics.governance.tree import LEVEL_TITLES, LEVELS, MetricTree, metric_tree, render_svg

CATALOG_FILE = "index.html"

_CSS = """
:root { --ink:#1a202c; --muted:#4a5568; --line:#e2e8f0; --bg:#f7fafc; --accent:#2b6cb0; --red:#c53030; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0; background: var(--bg); }
header { background: #1a365d; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #e2e8f0; }
main { padding: 24px 32px; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-bottom: 24px; }
h2 { font-size: 17px; margin: 0 0 12px; }
#metric-tree { margin: 0; text-align: center; overflow-x: auto; }
#metric-tree svg { max-width: 100%; height: auto; }
.target { margin: 6px 0; } .target-on_track, .target-met { color: #276749; }
.target-off_track, .target-missed { color: var(--red); }
.legend span { margin-right: 16px; color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { background: var(--bg); padding: 1px 4px; border-radius: 3px; font-size: 12px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11px; font-weight: 600;
         border: 1px solid currentColor; margin-right: 4px; white-space: nowrap; }
.status-certified { color: #276749; } .status-draft { color: #975a16; } .status-deprecated { color: #718096; text-decoration: line-through; }
.role-north_star { color: #1a365d; } .role-kpi { color: var(--accent); } .role-guardrail { color: var(--red); } .role-diagnostic { color: var(--muted); }
.overdue { color: var(--red); font-weight: 600; }
.review-overdue { color: #975a16; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
article.metric { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; background: #fff; }
article.metric:target { outline: 3px solid var(--accent); }
article.metric h3 { margin: 0 0 2px; font-size: 16px; }
article.metric dl { display: grid; grid-template-columns: 130px 1fr; gap: 3px 10px; margin: 10px 0 0; }
article.metric dt { color: var(--muted); }
article.metric dd { margin: 0; }
.value { font-size: 20px; font-weight: 600; }
.muted { color: var(--muted); }
ul.tree, ul.tree ul { list-style: none; padding-left: 18px; }
"""


def _link(name: str, known: set[str]) -> str:
    return f'<a href="#metric-{escape(name)}"><code>{escape(name)}</code></a>' if name in known \
        else f"<code>{escape(name)}</code> <span class=\"overdue\">(unknown)</span>"


def _badges(entry: CatalogEntry) -> str:
    governance = entry.metric.governance
    if governance is None:
        return '<span class="badge status-draft">no governance</span>'
    parts = []
    if governance.role:
        parts.append(f'<span class="badge role-{governance.role}">{escape(governance.role.replace("_", " "))}</span>')
    if governance.status:
        parts.append(f'<span class="badge status-{governance.status}">{escape(governance.status)}</span>')
    if governance.version:
        parts.append(f'<span class="badge">v{governance.version}</span>')
    return "".join(parts)


def _latest(entry: CatalogEntry) -> tuple[str, str]:
    """(value as text, the period or the reason there is none)."""
    governance, latest = entry.metric.governance, entry.latest
    unit = governance.unit if governance else None
    if latest is None:
        return "—", "semantic layer only (no lives_in)" if governance else "no governance"
    if latest.error:
        return "—", latest.error
    return format_value(latest.value, unit, entry.name, noun=noun_of(entry.metric.label)), (f"{latest.period}" if latest.period else "") + (
        f" ({latest.note})" if latest.note else "")


def _review(entry: CatalogEntry, today: dt.date) -> str:
    governance = entry.metric.governance
    if governance is None or governance.last_reviewed is None:
        return "—"
    due = governance.next_review_due()
    due_text = (f'<span class="review-overdue">review overdue: was due {due}</span>'
                if is_review_overdue(due, governance.status, today) else f"next {due}")
    return f"{governance.last_reviewed} ({escape(governance.review_cadence or '?')}; {due_text})"


def _tree_section(tree: MetricTree, registry: Registry, entries: list[CatalogEntry]) -> str:
    captions = {}
    for entry in entries:
        value, period = _latest(entry)
        if entry.latest and not entry.latest.error and entry.latest.value is not None:
            captions[entry.name] = f"{value} ({period.split(' ')[0]})"
    svg = render_svg(tree, registry, captions) if tree.nodes else None
    legend = ('<p class="legend"><span><b style="color:#1a365d">■</b> north star</span>'
              '<span><b style="color:#2b6cb0">■</b> KPI — solid arrow: drives the north star</span>'
              '<span><b style="color:#c53030">□</b> guardrail — dashed ⊣: guards that metric</span>'
              '<span>dashed box: draft</span><span>click a metric for its card</span></p>')
    if svg:
        body = svg
    elif not tree.nodes:
        body = '<p class="muted">No north star, KPI or guardrail metric yet: set governance.role on the metrics.</p>'
    else:
        body = ('<p class="muted">Graphviz is not installed (<code>apt-get install graphviz</code>), so the tree '
                'is shown as a list.</p>' + _tree_list(tree))
    return (f'<section><h2>Metric tree</h2>{legend}'
            f'<figure id="metric-tree" role="img" aria-label="Metric tree: north star, KPIs, guardrails">{body}'
            f'</figure></section>')


def _tree_list(tree: MetricTree) -> str:
    items = []
    for level in LEVELS:
        names = "".join(f'<li><a href="#metric-{escape(n)}">{escape(n)}</a>' + "".join(
            f' <span class="muted">guarded by {escape(t)}</span>' for s, t, k in tree.edges
            if s == n and k == "guardrail") + "</li>" for n in tree.levels[level])
        items.append(f"<li><strong>{LEVEL_TITLES[level]}</strong><ul>{names}</ul></li>")
    return f'<ul class="tree">{"".join(items)}</ul>'


def _summary_table(entries: list[CatalogEntry], known: set[str], today: dt.date) -> str:
    rows = []
    for entry in entries:
        governance = entry.metric.governance
        value, period = _latest(entry)
        owner = governance.owner.name if governance and governance.owner else "—"
        guardrails = ", ".join(_link(n, known) for n in (governance.guardrails or ())) if governance else ""
        rows.append(
            f"<tr><td>{_link(entry.name, known)}<br><span class=\"muted\">{escape(entry.metric.label or '')}</span></td>"
            f"<td>{_badges(entry)}</td><td>{escape(owner)}</td>"
            f"<td>{escape((governance.unit or '') if governance else '')}</td>"
            f"<td class=\"num\">{escape(value)}<br><span class=\"muted\">{escape(period)}</span></td>"
            f"<td>{guardrails or '—'}</td><td>{_review(entry, today)}</td></tr>")
    return ('<section><h2>All metrics</h2><table id="metric-table"><thead><tr><th>Metric</th><th>Role · status · '
            'version</th><th>Owner</th><th>Unit</th><th>Latest value</th><th>Guardrails</th><th>Reviewed</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></section>')


def _targets_of(entry: CatalogEntry, targets: Mapping[str, Sequence[Any]]) -> list[Any]:
    """The metric's target statuses (governance.targets.TargetStatus, by date): given by the caller, else
    carried by the catalog entry (catalog_entries)."""
    return list(targets.get(entry.name, ()) or getattr(entry, "targets", None) or ())


def _target_lines(statuses: Sequence[Any]) -> str:
    return "".join(f'<p class="target target-{escape(str(t.status))}"><b>{escape(str(t.status).replace("_", " "))}'
                   f"</b>: {escape(t.summary)}</p>" for t in statuses)


def _card(entry: CatalogEntry, known: set[str], today: dt.date, targets: Sequence[Any] = ()) -> str:
    metric, governance = entry.metric, entry.metric.governance
    value, period = _latest(entry)
    facts: list[tuple[str, str]] = []
    if governance is None:
        facts.append(("Governance", ('<span class="overdue">missing: `product-metrics governance check` '
                                     'lists the fields to add</span>')))
    else:
        owner = governance.owner
        facts += [
            ("Formula", f"<code>{escape(governance.formula or '—')}</code>"),
            ("Owner", f'{escape(owner.name)} &lt;<a href="mailto:{escape(owner.email)}">{escape(owner.email)}</a>&gt;'
             if owner else "—"),
            ("Unit · grain", f"{escape(governance.unit or '—')} · {escape(governance.grain or '—')}"),
            ("Direction", (f"{escape((governance.direction or '—').replace('_', ' '))}, "
                           f"{escape(governance.indicator or '—')} indicator")),
            ("Guardrails", ", ".join(_link(n, known) for n in governance.guardrails or ()) or "—"),
            ("Thresholds", ", ".join(f"{k} {format_value(v, governance.unit, metric.name, noun=noun_of(metric.label))}"
                                     for k, v in (governance.thresholds or {}).items()) or "none (no alerting)"),
            ("Reviewed", _review(entry, today)),
        ]
        if targets:
            facts.append(("Targets", _target_lines(targets)))
    facts += [
        ("Type", f"{escape(metric.type)} metric" + (
            f" of {', '.join(_link(n, known) for n in entry.inputs)}" if entry.inputs else "")),
        ("Lives in", ", ".join(f"<code>{escape(t)}</code>" for t in entry.tables) + (
            f" — column <code>{escape(governance.lives_in.column)}</code> by <code>"
            f"{escape(governance.lives_in.time_column)}</code>"
            if governance and governance.lives_in else "") or "semantic layer only"),
        ("Read by", ", ".join(f"<code>{escape(e)}</code>" for e in entry.exposures) or "—"),
    ]
    description = (governance.description if governance else None) or metric.description or ""
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return (f'<article class="metric" id="metric-{escape(metric.name)}" data-metric="{escape(metric.name)}">'
            f'<h3>{escape(metric.label or metric.name)} <code>{escape(metric.name)}</code></h3>{_badges(entry)}'
            f'<p>{escape(description)}</p>'
            f'<div><span class="value">{escape(value)}</span> <span class="muted">{escape(period)}</span></div>'
            f"<dl>{rows}</dl></article>")


def render_catalog_html(registry: Registry, entries: list[CatalogEntry], *, built_at: dt.datetime,
                        today: dt.date | None = None, targets: Iterable[Any] | None = None) -> str:
    """The page. `targets`: target statuses (product_metrics.governance.targets.TargetStatus: .metric,
    .status, .summary), shown on each metric's card."""
    today = today or built_at.date()
    by_metric: dict[str, list[Any]] = {}
    for status in targets or ():
        by_metric.setdefault(status.metric, []).append(status)
    known = set(registry.metrics)
    tree = metric_tree(registry)
    governed = [e for e in entries if e.metric.governance]
    counts = {status: sum(1 for e in governed if e.metric.governance.status == status)
              for status in ("certified", "draft", "deprecated")}
    overdue = sum(1 for e in governed
                  if is_review_overdue(e.metric.governance.next_review_due(), e.metric.governance.status, today))
    subtitle = (f"{len(entries)} metrics · {counts['certified']} certified · {counts['draft']} draft · "
                f"{counts['deprecated']} deprecated · " + (f"{overdue} reviews overdue · " if overdue else "")
                + f"built {built_at:%Y-%m-%d %H:%M} UTC")
    cards = "".join(_card(entry, known, today, _targets_of(entry, by_metric)) for entry in entries)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Metric catalog — {escape(registry.project_name)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Metric catalog — {escape(registry.project_name)}</h1><p>{escape(subtitle)}</p></header><main>"
        f"{_tree_section(tree, registry, entries)}{_summary_table(entries, known, today)}"
        f'<section><h2>Definitions</h2><div class="cards">{cards}</div></section>'
        "</main></body></html>\n"
    )


def write_catalog_html(path: Path, html: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
