"""The report's experiments section: per experiment its hypothesis, owner and dates, the decision and
why, the guardrails it cannot measure, and a chart of each metric's relative effect with its interval,
read from the tables the readout wrote (metrics.fct_experiment_decisions, one row per experiment, and
metrics.fct_experiment_results, with metrics.fct_experiments for what was tested). An experiment
without result rows yet is shown with its decision. No section when there is no readout (no
experiments, or the readout has not run)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from product_metrics.report.charts import PALETTE, _layout
from product_metrics.report.data import METRICS_SCHEMA, ReportTables

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

RESULTS = f"{METRICS_SCHEMA}.fct_experiment_results"
EXPERIMENTS = f"{METRICS_SCHEMA}.fct_experiments"
DECISIONS = f"{METRICS_SCHEMA}.fct_experiment_decisions"
SECTION_ID = "panel-experiments"
_DECISION_CLASS = {"ship": "level-ok", "do_not_ship": "level-alert", "invalid": "level-alert",
                   "keep_running": "level-warn"}


_ABOUT = ("hypothesis", "owner_name", "owner_email", "start_date", "end_date", "runtime_days",
          "minimum_runtime_days", "is_ended", "unmeasured_guardrails")


def read_results(warehouse: ReportTables) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(experiments, results): one row per experiment read out, with its decision and what it tested,
    and the result rows; None when there is no readout. Tables written before the decisions table
    existed give the experiments that have result rows."""
    import pandas as pd

    results = (warehouse.frame(f"select * from {warehouse.name(RESULTS)} order by experiment_id")
               if warehouse.has(RESULTS) else pd.DataFrame())
    if warehouse.has(DECISIONS):
        experiments = warehouse.frame(f"select experiment_id, decision, decision_reason from "
                                      f"{warehouse.name(DECISIONS)} order by experiment_id")
    elif not results.empty:
        experiments = results[["experiment_id", "decision", "decision_reason"]].drop_duplicates("experiment_id")
    else:
        return None
    if experiments.empty:
        return None
    if warehouse.has(EXPERIMENTS):
        about = warehouse.frame(f"select * from {warehouse.name(EXPERIMENTS)}")
        experiments = experiments.merge(about[["experiment_id", *(c for c in _ABOUT if c in about.columns)]],
                                        on="experiment_id", how="left")
    return experiments.reset_index(drop=True), results


def effect_chart(rows: pd.DataFrame, alpha: float = 0.05) -> go.Figure | None:
    """Each metric's relative effect against the control, one trace per variation, error bars for the
    interval, the zero line (no effect); labels give the role and the units per arm."""
    import pandas as pd
    import plotly.graph_objects as go

    rows = rows[rows["relative_effect"].notna()]
    if rows.empty:
        return None
    fig = go.Figure()
    several = rows["variation"].nunique() > 1  # then a row names its variation: each gets its own rows
    for i, (variation, arm) in enumerate(rows.groupby("variation", sort=False)):
        labels = [(f"{variation} · " if several else "") + f"{r.metric_name} ({r.metric_role}) · "
                  f"n {int(r.control_units):,} vs {int(r.variation_units):,}" for r in arm.itertuples()]
        # Plain lists: the figure's JSON then holds numbers a reader (and a test) can see.
        effect = (arm["relative_effect"] * 100).astype(float)
        verdicts = ["harmed" if r.is_harmful else "significant" if r.is_significant else "not significant"
                    for r in arm.itertuples()]
        absolute = [f"{r.absolute_effect:+.4g} {r.unit or ''}".rstrip() if pd.notna(r.absolute_effect) else "—"
                    for r in arm.itertuples()]
        fig.add_trace(go.Scatter(
            x=effect.tolist(), y=labels, mode="markers", name=str(variation), orientation="h",
            marker={"color": PALETTE[i % len(PALETTE)], "size": 10,
                    "line": {"width": 2, "color": ["#c53030" if r.is_harmful else "#276749" if r.is_significant
                                                   else "#ffffff" for r in arm.itertuples()]}},
            error_x={"type": "data", "symmetric": False, "thickness": 1.5, "visible": True,
                     "array": (arm["relative_ci_upper"] * 100 - effect).tolist(),
                     "arrayminus": (effect - arm["relative_ci_lower"] * 100).tolist()},
            customdata=[[float(p), a, v] for p, a, v in zip(arm["p_value"], absolute, verdicts, strict=True)],
            hovertemplate=f"{variation}: %{{x:+.1f}}%% (%{{customdata[1]}} per unit), p %{{customdata[0]:.3g}}, "
                          "%{customdata[2]}<extra></extra>"))
    fig.add_vline(x=0, line_color="#4a5568", line_width=1)
    metrics = rows["metric_name"].nunique()
    return _layout(fig, height=140 + 46 * metrics * max(1, rows["variation"].nunique()), hovermode="closest",
                   xaxis={"title": f"relative effect against the control (%); bars: {1 - alpha:.0%} interval",
                          "ticksuffix": "%", "zeroline": False},
                   yaxis={"type": "category", "autorange": "reversed"}, margin={"l": 330, "r": 20, "t": 20, "b": 50})


def _about(first) -> str:
    owner = escape(str(first.get("owner_name") or "—"))
    if first.get("owner_email"):
        owner += f' &lt;<a href="mailto:{escape(str(first["owner_email"]))}">{escape(str(first["owner_email"]))}</a>&gt;'
    if first.get("start_date") is None or str(first.get("start_date")) == "NaT":
        return f"owner: {owner}"
    dates = f"{first['start_date']:%Y-%m-%d} → {first['end_date']:%Y-%m-%d}"
    state = "ended" if first.get("is_ended") else "running"
    return (f"owner: {owner} · {dates} · {state}, {int(first['runtime_days'])} of at least "
            f"{int(first['minimum_runtime_days'])} days")


def _unmeasured(first) -> str:
    text = first.get("unmeasured_guardrails")
    if not isinstance(text, str) or not text:
        return ""
    return (f'<p class="unmeasured level-warn">Not measured: {escape(text)} — guardrails this readout cannot '
            "judge; check them elsewhere.</p>")


def render_section(warehouse: ReportTables) -> tuple[str, int]:
    """The section's HTML ("" when there is no readout) and the number of charts in it."""
    read = read_results(warehouse)
    if read is None:
        return "", 0
    experiments, results = read
    parts, charts = [], 0
    for first in experiments.to_dict("records"):
        experiment_id = first["experiment_id"]
        rows = results[results["experiment_id"] == experiment_id] if not results.empty else results
        decision = str(first["decision"])
        figure = effect_chart(rows) if not rows.empty else None
        key = f"experiment-{experiment_id}"
        if rows.empty:
            body = '<p class="note">No results yet: no unit has a complete measurement window.</p>'
        elif figure is None:
            body = '<p class="note">No relative effect to draw yet (no units, or a control mean of zero).</p>'
        else:
            charts += 1
            data = figure.to_json().replace("</", "<\\/")
            body = (f'<div class="experiment-chart" id="{escape(key)}" data-experiment="{escape(str(experiment_id))}">'
                    f'</div><script type="application/json" class="figure" data-target="{escape(key)}">{data}</script>')
        hypothesis = escape(str(first.get("hypothesis") or ""))
        parts.append(
            f'<div class="experiment" data-experiment="{escape(str(experiment_id))}">'
            f"<h3><code>{escape(str(experiment_id))}</code> · <span class=\"decision {_DECISION_CLASS.get(decision, '')}"
            f'">{escape(decision.replace("_", " "))}</span></h3>'
            + (f"<p><em>{hypothesis}</em></p>" if hypothesis else "")
            + f'<p class="note">{_about(first)}</p>'
            f'<p class="decision-reason">{escape(str(first["decision_reason"]))}</p>{_unmeasured(first)}{body}</div>')
    note = ('<p class="note">Decisions: invalid (sample-ratio mismatch or too short), do not ship (a guardrail '
            "harmed), ship (a goal wins after correction, no guardrail harmed), keep running. Outlined dots: "
            "significant (green) or harmful (red).</p>")
    return (f'<section class="panel" id="{SECTION_ID}"><h2>Experiments</h2>{note}{"".join(parts)}</section>',
            charts)
