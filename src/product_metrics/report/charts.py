"""The report's charts: one Plotly figure per question a product manager asks, each drawn from one
metric table. A chart names the tables it needs (missing ones give a "not built" panel instead)
and the catalog metrics whose definitions it shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from product_metrics.report.data import METRICS_SCHEMA, ReportTables

if TYPE_CHECKING:
    import plotly.graph_objects as go

# One colour per lifecycle status, model version or channel, the same in every chart.
PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f", "#718096")
MONTH_AXIS = {"title": "month", "dtick": "M1", "tickformat": "%b %Y"}
INCOMPLETE_NOTE = "hatched / grey: the period has not ended yet (incomplete, will still change)"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    tables: tuple[str, ...]             # schema.table, all needed
    metrics: tuple[str, ...]            # catalog metrics (semantic-layer names) whose definitions it shows
    build: Callable[[ReportTables], go.Figure | None]   # None: the tables hold no rows
    note: str = ""
    built_by: str = "dbt build (product-metrics build)"


def _t(name: str) -> str:
    """The logical name of metric table `name` (ReportTables.name gives where dbt built it)."""
    return f"{METRICS_SCHEMA}.{name}"


def _layout(fig: go.Figure, *, height: int = 420, **kwargs) -> go.Figure:
    layout = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "template": "plotly_white",
              "legend": {"orientation": "h", "y": -0.15}, "hovermode": "x unified"}
    fig.update_layout(height=height, **{**layout, **kwargs})
    return fig


def _shade_partial_week(fig: go.Figure, warehouse: ReportTables, week_starts) -> None:
    """Shade the week the cutoff falls in: its counts are of fewer than 7 days, not a drop."""
    import datetime as dt

    if not warehouse.has(_t("fct_stickiness_daily")) or len(week_starts) == 0:
        return
    last_date = warehouse.scalar(f"select max(activity_date) from {warehouse.name(_t('fct_stickiness_daily'))}")
    last_week = max(week_starts)
    if last_date is None or last_week + dt.timedelta(days=6) <= last_date:
        return
    fig.add_vrect(x0=last_week - dt.timedelta(days=3.5), x1=last_week + dt.timedelta(days=3.5),
                  fillcolor="#e2e8f0", opacity=0.6, line_width=0, layer="below",
                  annotation_text="week not over", annotation_position="top left")


def retention_heatmap(warehouse: ReportTables) -> go.Figure | None:
    """Weekly signup cohorts (rows, oldest on top) by weeks since signup: the retention triangle.
    Cells whose week has not ended are drawn in grey and marked, so nobody reads them as a drop."""
    import pandas as pd
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select cohort_start, period_number, cohort_size, retained_users, retention_rate, is_complete
        from {warehouse.name(_t('fct_cohort_retention'))} where cohort_granularity = 'week'
    """)
    if frame.empty:
        return None
    cohorts = sorted(frame["cohort_start"].unique())
    sizes = frame.groupby("cohort_start")["cohort_size"].max()
    labels = [f"{c:%Y-%m-%d} (n={int(sizes[c])})" for c in cohorts]
    periods = list(range(int(frame["period_number"].max()) + 1))

    def grid(complete: bool) -> tuple[list[list[float | None]], list[list[str]]]:
        cells = {(r.cohort_start, r.period_number): r for r in frame.itertuples()}
        z, text = [], []
        for cohort in cohorts:
            z_row, text_row = [], []
            for period in periods:
                row = cells.get((cohort, period))
                keep = row is not None and bool(row.is_complete) == complete and pd.notna(row.retention_rate)
                z_row.append(float(row.retention_rate) if keep else None)
                text_row.append((f"{row.retention_rate:.0%}" + ("" if complete else "*")) if keep else "")
            z.append(z_row)
            text.append(text_row)
        return z, text

    fig = go.Figure()
    for complete in (True, False):
        z, text = grid(complete)
        fig.add_trace(go.Heatmap(
            z=z, x=periods, y=labels, text=text, texttemplate="%{text}", textfont={"size": 9},
            zmin=0, zmax=1, xgap=1, ygap=1, name="complete" if complete else "incomplete (period not over)",
            colorscale="Blues" if complete else [[0, "#edf2f7"], [1, "#a0aec0"]],
            showscale=complete, colorbar={"title": "retained", "tickformat": ".0%"} if complete else None,
            hovertemplate="cohort %{y}<br>week %{x}: %{z:.1%} retained"
                          + ("" if complete else " (incomplete)") + "<extra></extra>"))
    return _layout(fig, height=max(420, 22 * len(cohorts) + 120), hovermode="closest",
                   xaxis={"title": "weeks since signup (period k)", "dtick": 1, "side": "top"},
                   yaxis={"title": "signup week", "autorange": "reversed", "type": "category"})


def stickiness_lines(warehouse: ReportTables) -> go.Figure | None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frame = warehouse.frame(f"""
        select activity_date, dau, wau, mau, dau_mau_ratio, is_full_window
        from {warehouse.name(_t('fct_stickiness_daily'))} order by activity_date
    """)
    if frame.empty:
        return None
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    for i, column in enumerate(("dau", "wau", "mau")):
        fig.add_trace(go.Scatter(x=frame["activity_date"], y=frame[column], name=column.upper(), mode="lines",
                                 line={"color": PALETTE[i]}), row=1, col=1)
    fig.add_trace(go.Scatter(x=frame["activity_date"], y=frame["dau_mau_ratio"], name="DAU/MAU", mode="lines",
                             line={"color": PALETTE[3]}), row=2, col=1)
    # Before the first full MAU window the denominator is short, so the ratio is inflated: shade it.
    partial = frame.loc[~frame["is_full_window"].astype(bool), "activity_date"]
    if not partial.empty:
        fig.add_vrect(x0=partial.min(), x1=partial.max(), fillcolor="#e2e8f0", opacity=0.5, line_width=0,
                      annotation_text="MAU window not full", annotation_position="top left")
    fig.update_yaxes(title_text="users", row=1, col=1)
    fig.update_yaxes(title_text="DAU/MAU", tickformat=".0%", row=2, col=1)
    return _layout(fig, height=520)


def _by_channel(frame, value: str, y_title: str, tickformat: str | None = None) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (channel, rows) in enumerate(frame.groupby("channel", sort=True)):
        fig.add_trace(go.Scatter(x=rows["month_start"], y=rows[value], name=str(channel), mode="lines+markers",
                                 line={"color": PALETTE[i % len(PALETTE)]}, connectgaps=False))
    return _layout(fig, yaxis={"title": y_title, "tickformat": tickformat}, xaxis=MONTH_AXIS)


def cac_by_channel(warehouse: ReportTables) -> go.Figure | None:
    frame = warehouse.frame(f"""
        select month_start, channel, cac_usd from {warehouse.name(_t('fct_cac_by_channel'))}
        where is_paid_channel order by month_start, channel
    """)
    return None if frame.empty else _by_channel(frame, "cac_usd", "CAC (USD per new customer)", "$,.0f")


def ltv_cac_by_channel(warehouse: ReportTables) -> go.Figure | None:
    frame = warehouse.frame(f"""
        select month_start, channel, ltv_cac_ratio from {warehouse.name(_t('fct_ltv_cac_by_channel'))}
        order by month_start, channel
    """)
    if frame.empty:
        return None
    fig = _by_channel(frame, "ltv_cac_ratio", "LTV / CAC", ".1f")
    fig.add_hline(y=1, line_dash="dot", line_color="#c53030", annotation_text="LTV = CAC",
                  annotation_position="bottom right")
    return fig


def nps_with_margin(warehouse: ReportTables) -> go.Figure | None:
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select month_start, responses, nps, nps_margin_of_error_95 from {warehouse.name(_t('fct_nps_monthly'))} order by month_start
    """)
    if frame.empty:
        return None
    fig = go.Figure(go.Scatter(
        x=frame["month_start"], y=frame["nps"], mode="lines+markers", name="NPS", line={"color": PALETTE[0]},
        error_y={"type": "data", "array": frame["nps_margin_of_error_95"], "visible": True, "thickness": 1.5},
        customdata=frame[["responses", "nps_margin_of_error_95"]],
        hovertemplate="NPS %{y:.1f} ± %{customdata[1]:.1f} (95%%), %{customdata[0]} responses<extra></extra>"))
    fig.add_hline(y=0, line_color="#a0aec0")
    return _layout(fig, yaxis={"title": "NPS (−100 … 100), bars: 95% margin", "range": [-100, 100]},
                   xaxis=MONTH_AXIS)


def k_factor_by_cohort(warehouse: ReportTables) -> go.Figure | None:
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select cohort_month, cohort_users, invites_converted, k_factor, is_complete
        from {warehouse.name(_t('fct_k_factor_monthly'))} order by cohort_month
    """)
    if frame.empty:
        return None
    complete = frame["is_complete"].astype(bool)
    fig = go.Figure()
    # Two traces, so the legend says which bars are still open (hatched grey).
    for is_complete, rows in ((True, frame[complete]), (False, frame[~complete])):
        fig.add_trace(go.Bar(
            x=rows["cohort_month"], y=rows["k_factor"],
            name="complete cohort" if is_complete else "incomplete (windows still open)",
            marker={"color": PALETTE[0] if is_complete else "#a0aec0",
                    "pattern": {"shape": "" if is_complete else "/"}},
            customdata=rows[["cohort_users", "invites_converted"]],
            hovertemplate="%{x|%Y-%m}: k = %{y:.3f} (%{customdata[1]} converted invites / %{customdata[0]} users)"
                          "<extra></extra>"))
    fig.add_hline(y=1, line_dash="dot", line_color="#38a169", annotation_text="k = 1: each user brings one more")
    return _layout(fig, yaxis={"title": "K-factor (converted invites per cohort user)"},
                   xaxis={"title": "signup cohort (month)", "tickformat": "%Y-%m", "dtick": "M1"})


def ai_suggestions(warehouse: ReportTables) -> go.Figure | None:
    """Weekly acceptance and correction rates per model version — recomputed from the counts (a ratio
    of sums; averaging daily rates would weight a quiet day like a busy one) — and the daily p90
    latency per model version and feature (percentiles do not add up across groups, so they are
    shown as the table computes them)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    table = warehouse.name(_t("fct_ai_suggestions_daily"))
    weekly = warehouse.frame(f"""
        select
            date_trunc('week', activity_date) as week_start, model_version,
            sum(accepted) / nullif(sum(suggestions), 0) as acceptance_rate,
            sum(edited) / nullif(sum(accepted) + sum(edited), 0) as correction_rate,
            sum(suggestions) as suggestions
        from {table} group by all order by week_start, model_version
    """)
    if weekly.empty:
        return None
    latency = warehouse.frame(f"""
        select activity_date, model_version || ' · ' || feature as series,
            latency_p50_ms, latency_p90_ms, latency_p99_ms
        from {table} order by activity_date, series
    """)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=("acceptance rate (accepted / suggestions), weekly",
                                        "correction rate (edited / (accepted + edited)), weekly",
                                        "latency p90 (ms), daily, per model version · feature"))
    versions = sorted(weekly["model_version"].unique())
    for i, version in enumerate(versions):
        rows = weekly[weekly["model_version"] == version]
        color = PALETTE[i % len(PALETTE)]
        for row, column in ((1, "acceptance_rate"), (2, "correction_rate")):
            fig.add_trace(go.Scatter(x=rows["week_start"], y=rows[column], name=str(version), legendgroup=str(version),
                                     showlegend=row == 1, mode="lines+markers", line={"color": color}),
                          row=row, col=1)
    for i, (series, rows) in enumerate(latency.groupby("series", sort=True)):
        fig.add_trace(go.Scatter(
            x=rows["activity_date"], y=rows["latency_p90_ms"], name=f"p90 {series}", mode="lines",
            line={"width": 1, "color": PALETTE[(i + len(versions)) % len(PALETTE)]},
            customdata=rows[["latency_p50_ms", "latency_p99_ms"]],
            hovertemplate=f"{series}: p50 %{{customdata[0]:.0f}} · p90 %{{y:.0f}} · p99 %{{customdata[1]:.0f}} ms"
                          "<extra></extra>"), row=3, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=2, col=1)
    fig.update_yaxes(title_text="ms", row=3, col=1)
    _shade_partial_week(fig, warehouse, [d.date() for d in weekly["week_start"]])
    return _layout(fig, height=720)


LIFECYCLE_ORDER = ("new", "returning", "resurrecting", "dormant")


def lifecycle_bars(warehouse: ReportTables) -> go.Figure | None:
    """Growth accounting: new, returning and resurrecting users stack up; dormant users (lost this
    week) go below zero, so the bars show where each week's active base came from and what it lost."""
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select week_start, lifecycle_status, users from {warehouse.name(_t('fct_user_lifecycle_weekly'))} order by week_start
    """)
    if frame.empty:
        return None
    fig = go.Figure()
    statuses = [s for s in LIFECYCLE_ORDER if s in set(frame["lifecycle_status"])]
    statuses += sorted(set(frame["lifecycle_status"]) - set(statuses))
    for i, status in enumerate(statuses):
        rows = frame[frame["lifecycle_status"] == status]
        sign = -1 if status == "dormant" else 1
        fig.add_trace(go.Bar(x=rows["week_start"], y=sign * rows["users"], name=status,
                             marker_color=PALETTE[i % len(PALETTE)], customdata=rows["users"],
                             hovertemplate=f"{status}: %{{customdata}} users<extra></extra>"))
    _shade_partial_week(fig, warehouse, [d.date() for d in frame["week_start"]])
    return _layout(fig, barmode="relative", yaxis={"title": "users (dormant below zero)"},
                   xaxis={"title": "week"})


def quality_status(warehouse: ReportTables) -> go.Figure | None:
    """The latest validation run per table: checks passed, warnings, critical failures."""
    import plotly.graph_objects as go

    from product_metrics.report.data import latest_quality_run

    frame = latest_quality_run(warehouse)
    if frame is None or frame.empty:
        return None
    frame = frame.iloc[::-1]  # horizontal bars draw bottom-up: worst table on top
    fig = go.Figure()
    for column, name, color in (("passed", "passed", "#38a169"), ("warnings", "warning", "#d69e2e"),
                                ("critical_failures", "critical failure", "#c53030")):
        fig.add_trace(go.Bar(y=frame["table_name"], x=frame[column], name=name, orientation="h", marker_color=color))
    return _layout(fig, barmode="stack", height=max(320, 22 * len(frame) + 120), hovermode="y unified",
                   xaxis={"title": "checks in the latest product-metrics validate run"},
                   yaxis={"type": "category"}, margin={"l": 260, "r": 20, "t": 30, "b": 50})


CHARTS: tuple[Chart, ...] = (
    Chart("retention", "Cohort retention (weekly signup cohorts)", (_t("fct_cohort_retention"),),
          ("pm_retention_rate",), retention_heatmap,
          note="Share of each signup week's users active in week k after signup. " + INCOMPLETE_NOTE + "; "
               "cells marked * are incomplete."),
    Chart("stickiness", "DAU, WAU, MAU and DAU/MAU", (_t("fct_stickiness_daily"),),
          ("pm_dau", "pm_wau", "pm_mau", "pm_dau_mau_ratio"), stickiness_lines),
    Chart("cac", "CAC by paid channel", (_t("fct_cac_by_channel"),), ("pm_cac_usd",), cac_by_channel,
          note="Months without new customers have no CAC (a gap, not zero)."),
    Chart("ltv_cac", "LTV / CAC by channel (trailing window)", (_t("fct_ltv_cac_by_channel"),),
          ("pm_ltv_cac_ratio", "pm_ltv_usd", "pm_trailing_cac_usd"), ltv_cac_by_channel),
    Chart("nps", "NPS with its 95% margin of error", (_t("fct_nps_monthly"),),
          ("pm_nps", "pm_nps_margin_of_error_95"), nps_with_margin,
          note="Error bars: ± 1.96 standard errors; months whose bars overlap are not clearly different."),
    Chart("k_factor", "K-factor by signup cohort", (_t("fct_k_factor_monthly"),),
          ("pm_k_factor", "pm_invites_per_user", "pm_invite_conversion_rate"), k_factor_by_cohort,
          note="Grey hatched bars: cohorts whose invite window plus conversion window has not ended (incomplete)."),
    Chart("ai", "AI suggestions: acceptance, correction, latency", (_t("fct_ai_suggestions_daily"),),
          ("pm_ai_acceptance_rate", "pm_ai_correction_rate", "pm_ai_latency_p90_ms"), ai_suggestions),
    Chart("lifecycle", "User lifecycle per week", (_t("fct_user_lifecycle_weekly"),), (), lifecycle_bars),
    Chart("quality", "Data-quality status", ("audit.dq_results",), (), quality_status,
          built_by="product-metrics validate"),
)
