"""The metric tree: north star → the KPIs that drive it → the guardrails that keep them honest.

Levels come from each metric's `role` (no extra `drives` field): every live (not deprecated) north
star at the top, every live KPI below it with an edge from each north star, and the guardrail level
below that, holding every live `guardrail` metric plus any metric a north star or KPI names in
`guardrails`; each metric has a dashed edge to each of its guardrails. Diagnostic metrics appear
only when named as a guardrail. Drawn with Graphviz (`dot`) as an inline SVG; without the `dot`
program the page falls back to nested lists and says how to get the diagram.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from product_metrics.governance.registry import Registry

LEVELS = ("north_star", "kpi", "guardrail")
LEVEL_TITLES = {"north_star": "North star", "kpi": "KPIs (drivers)", "guardrail": "Guardrails"}
_FILL = {"north_star": ("#1a365d", "#ffffff"), "kpi": ("#2b6cb0", "#ffffff"),
         "guardrail": ("#fff5f5", "#742a2a"), "diagnostic": ("#edf2f7", "#1a202c")}


@dataclass
class MetricTree:
    levels: dict[str, list[str]] = field(default_factory=lambda: {level: [] for level in LEVELS})
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, "drives" | "guardrail")

    @property
    def nodes(self) -> list[str]:
        return [name for level in LEVELS for name in self.levels[level]]


def metric_tree(registry: Registry) -> MetricTree:
    live = {m.name: (m.governance.role, m.governance.status, tuple(m.governance.guardrails or ()))
            for m in registry.governed() if m.governance.status != "deprecated"}
    return tree_of(live, set(registry.metrics))


def tree_of(live: Mapping[str, tuple[str | None, str | None, Sequence[str]]], known: set[str]) -> MetricTree:
    """The tree of the live metrics given as name -> (role, status, guardrails); `known`: every
    metric name (a guardrail that names an unknown metric is left out)."""
    tree = MetricTree()
    for name, (role, _, _) in sorted(live.items()):
        if role in ("north_star", "kpi", "guardrail"):
            tree.levels[role].append(name)
    # certified north stars first: the one the company steers by leads the drawing
    tree.levels["north_star"].sort(key=lambda n: (live[n][1] != "certified", n))
    for star in tree.levels["north_star"]:
        tree.edges += [(star, kpi, "drives") for kpi in tree.levels["kpi"]]
    in_tree = set(tree.nodes)
    for name in list(tree.nodes):
        for guardrail in live[name][2]:
            if guardrail not in known:
                continue
            if guardrail not in in_tree:
                tree.levels["guardrail"].append(guardrail)
                in_tree.add(guardrail)
            tree.edges.append((name, guardrail, "guardrail"))
    return tree


def _plain(label: str | None) -> str:
    """A metric's label without the package's "(product metrics)" suffix."""
    return (label or "").replace(" (product metrics)", "").strip()


def render_svg(tree: MetricTree, registry: Registry, captions: dict[str, str]) -> str | None:
    """The tree as an inline <svg> element, or None when Graphviz (`dot`) is not installed."""
    try:
        import graphviz
    except ImportError:
        return None
    graph = graphviz.Digraph(
        "metric_tree",
        # Left to right: the levels are three columns and the many KPIs and guardrails stack down
        # the page, so the drawing fits the page's width without shrinking its text below 11 px.
        graph_attr={"rankdir": "LR", "bgcolor": "transparent", "nodesep": "0.18", "ranksep": "1.4",
                    "fontname": "Helvetica", "newrank": "true"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "12",
                   "margin": "0.12,0.06", "penwidth": "1.2", "width": "2.6"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )
    for level in LEVELS:
        with graph.subgraph(name=f"level_{level}") as subgraph:
            subgraph.attr(rank="same")
            for name in tree.levels[level]:
                metric = registry.metrics[name]
                governance = metric.governance
                role = governance.role if governance and governance.role else "diagnostic"
                fill, font = _FILL.get(role, _FILL["diagnostic"])
                style = "rounded,filled" + (",dashed" if governance and governance.status == "draft" else "")
                label = f"{_plain(metric.label) or name}\n{name}"
                if captions.get(name):
                    label += f"\n{captions[name]}"
                subgraph.node(name, label=label, id=f"tree-{name}", URL=f"#metric-{name}", target="_self",
                              tooltip=(governance.description if governance else None) or metric.description or name,
                              fillcolor=fill, fontcolor=font, color="#c53030" if role == "guardrail" else "#1a365d",
                              style=style)
    for source, target, kind in tree.edges:
        if kind == "drives":
            graph.edge(source, target, color="#4a5568", dir="back", arrowtail="normal",
                       tooltip=f"{target} drives {source}")
        else:
            graph.edge(source, target, color="#c53030", style="dashed", arrowhead="tee",
                       tooltip=f"{target} guards {source}")
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return None
    return svg[svg.index("<svg"):]
