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

# Paul Tol's "bright" scheme (distinct under the common colour-vision deficiencies) and a dark indigo:
# one colour per series of a chart, never two alike; a channel keeps its colour in every chart.
PALETTE = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#332288")
INCOMPLETE_GREY = "#a0aec0"
MONTH_AXIS = {"title": {"text": "month"}, "dtick": "M1", "tickformat": "%b %Y"}
RECENT_WEEKLY_COHORTS = 12
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
    # The legend sits above the plot (never over the x axis title); automargin makes room for every
    # axis title and tick label, so nothing is cut off.
    layout = {"margin": {"l": 70, "r": 30, "t": 40, "b": 60}, "template": "plotly_white",
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left"},
              "hovermode": "x unified", "font": {"size": 12}}
    fig.update_layout(height=height, **{**layout, **kwargs})
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def series_colours(names) -> dict[str, str]:
    """A colour per name (sorted), all different while there are no more names than colours."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


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


def retention_heatmap(warehouse: ReportTables, granularity: str = "week",
                      recent: int | None = RECENT_WEEKLY_COHORTS) -> go.Figure | None:
    """Signup cohorts (rows, oldest on top) by periods since signup: the retention triangle, the
    `recent` latest cohorts only (a year of weekly cohorts is unreadable; the monthly view has the rest).
    Cells whose period has not ended are drawn in grey and marked, so nobody reads them as a drop."""
    import pandas as pd
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select cohort_start, period_number, cohort_size, retained_users, retention_rate, is_complete
        from {warehouse.name(_t('fct_cohort_retention'))} where cohort_granularity = '{granularity}'
    """)
    if frame.empty:
        return None
    cohorts = sorted(frame["cohort_start"].unique())[-recent if recent else None:]
    frame = frame[frame["cohort_start"].isin(cohorts)]
    sizes = frame.groupby("cohort_start")["cohort_size"].max()
    labels = [(f"{c:%Y-%m-%d}" if granularity == "week" else f"{c:%b %Y}") + f" (n={int(sizes[c])})"
              for c in cohorts]
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
            z=z, x=periods, y=labels, text=text, texttemplate="%{text}", textfont={"size": 11},
            zmin=0, zmax=1, xgap=1, ygap=1, name="complete" if complete else "incomplete (period not over)",
            colorscale="Blues" if complete else [[0, "#edf2f7"], [1, "#a0aec0"]],
            showscale=complete, colorbar={"title": "retained", "tickformat": ".0%"} if complete else None,
            hovertemplate=f"cohort %{{y}}<br>{granularity} %{{x}}: %{{z:.1%}} retained"
                          + ("" if complete else " (incomplete)") + "<extra></extra>"))
    return _layout(fig, height=max(360, 30 * len(cohorts) + 140), hovermode="closest", showlegend=False,
                   xaxis={"title": {"text": f"{granularity}s since signup"}, "dtick": 1, "side": "top"},
                   yaxis={"title": {"text": f"signup {granularity} (cohort size)"}, "autorange": "reversed",
                          "type": "category"})


def monthly_retention_heatmap(warehouse: ReportTables) -> go.Figure | None:
    return retention_heatmap(warehouse, "month", recent=None)


def retention_curves(warehouse: ReportTables) -> go.Figure | None:
    """One line per monthly signup cohort: the share still active k months after signup (complete
    months only), so cohorts compare at the same age."""
    import plotly.graph_objects as go

    frame = warehouse.frame(f"""
        select cohort_start, period_number, cohort_size, retention_rate
        from {warehouse.name(_t('fct_cohort_retention'))}
        where cohort_granularity = 'month' and is_complete and retention_rate is not null
        order by cohort_start, period_number
    """)
    if frame.empty:
        return None
    cohorts = sorted(frame["cohort_start"].unique())[-len(PALETTE):]
    fig = go.Figure()
    for i, cohort in enumerate(cohorts):
        rows = frame[frame["cohort_start"] == cohort]
        label = f"{cohort:%b %Y} (n={int(rows['cohort_size'].max())})"
        fig.add_trace(go.Scatter(x=rows["period_number"], y=rows["retention_rate"], name=label,
                                 mode="lines+markers", line={"color": PALETTE[i]},
                                 hovertemplate=f"{label}: month %{{x}}, %{{y:.1%}} retained<extra></extra>"))
    return _layout(fig, hovermode="closest",
                   xaxis={"title": {"text": "months since signup"}, "dtick": 1},
                   yaxis={"title": {"text": "retained (share of the cohort)"}, "tickformat": ".0%",
                          "rangemode": "tozero"})


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
    fig.update_yaxes(title_text="DAU/MAU (%)", tickformat=".0%", row=2, col=1)
    return _layout(fig, height=520)


def channel_colours(warehouse: ReportTables) -> dict[str, str]:
    """Every channel's colour, the same in the CAC and the LTV/CAC chart."""
    names: set[str] = set()
    for table in ("fct_cac_by_channel", "fct_ltv_cac_by_channel"):
        if warehouse.has(_t(table)):
            names |= {str(c) for (c,) in warehouse._connection.sql(
                f"select distinct channel from {warehouse.name(_t(table))}").fetchall()}
    return series_colours(names)


def _by_channel(frame, value: str, y_title: str, tickformat: str | None, colours: dict[str, str],
                hover: str) -> go.Figure:
    """One line per channel that has a value: a channel without any (no spend, no customers) is
    neither drawn nor listed in the legend."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for channel, rows in frame.groupby("channel", sort=True):
        if rows[value].notna().sum() == 0:
            continue
        fig.add_trace(go.Scatter(x=rows["month_start"], y=rows[value], name=str(channel), mode="lines+markers",
                                 line={"color": colours.get(str(channel), PALETTE[0])}, connectgaps=False,
                                 hovertemplate=f"{channel}: {hover}<extra></extra>"))
    return _layout(fig, yaxis={"title": {"text": y_title}, "tickformat": tickformat}, xaxis=MONTH_AXIS)


def cac_by_channel(warehouse: ReportTables) -> go.Figure | None:
    frame = warehouse.frame(f"""
        select month_start, channel, cac_usd from {warehouse.name(_t('fct_cac_by_channel'))}
        where is_paid_channel order by month_start, channel
    """)
    return None if frame.empty else _by_channel(frame, "cac_usd", "CAC ($ per new customer)", "$,.0f",
                                                channel_colours(warehouse), "%{y:$,.2f} per new customer")


def ltv_cac_by_channel(warehouse: ReportTables) -> go.Figure | None:
    frame = warehouse.frame(f"""
        select month_start, channel, ltv_cac_ratio from {warehouse.name(_t('fct_ltv_cac_by_channel'))}
        order by month_start, channel
    """)
    if frame.empty:
        return None
    fig = _by_channel(frame, "ltv_cac_ratio", "LTV / CAC (×)", ".1f", channel_colours(warehouse),
                      "LTV = %{y:.2f}× CAC")
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
    return _layout(fig, yaxis={"title": {"text": "NPS (pts, −100 … 100)"}, "range": [-100, 100]},
                   xaxis=MONTH_AXIS, showlegend=False)


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
        if rows.empty:  # nothing to draw: no legend entry either
            continue
        fig.add_trace(go.Bar(
            x=rows["cohort_month"], y=rows["k_factor"],
            name="complete cohort" if is_complete else "incomplete (windows still open)",
            marker={"color": PALETTE[0] if is_complete else INCOMPLETE_GREY,
                    "pattern": {"shape": "" if is_complete else "/"}},
            customdata=rows[["cohort_users", "invites_converted"]],
            hovertemplate="%{x|%Y-%m}: k = %{y:.3f} (%{customdata[1]} converted invites / %{customdata[0]} users)"
                          "<extra></extra>"))
    fig.add_hline(y=1, line_dash="dot", line_color="#38a169", annotation_text="k = 1: each user brings one more")
    return _layout(fig, yaxis={"title": {"text": "K-factor (× : invites converted per user)"}},
                   xaxis={"title": {"text": "signup cohort (month)"}, "tickformat": "%b %Y", "dtick": "M1"})


def ai_suggestions(warehouse: ReportTables) -> go.Figure | None:
    """Weekly acceptance and correction rates per model version — recomputed from the counts (a ratio
    of sums; averaging daily rates would weight a quiet day like a busy one) — and the p90 latency:
    the table's daily p90 per model version and feature as faint dots (percentiles do not add up
    across groups, so they are never re-aggregated into a p90), and one line per model version, the
    weekly median of those daily p90s, to read the trend."""
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
        select activity_date, model_version, feature, model_version || ' · ' || feature as series,
            latency_p50_ms, latency_p90_ms, latency_p99_ms
        from {table} order by activity_date, series
    """)
    typical = warehouse.frame(f"""
        select date_trunc('week', activity_date) as week_start, model_version,
            median(latency_p90_ms) as typical_p90_ms
        from {table} where latency_p90_ms is not null group by all order by week_start, model_version
    """)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("acceptance rate (accepted / suggestions), weekly",
                                        "correction rate (edited / (accepted + edited)), weekly",
                                        ("latency p90 (ms): line = weekly median of the daily p90s; "
                                        "dots = daily p90 per feature")))
    colours = series_colours(weekly["model_version"].astype(str))
    for version, color in colours.items():
        rows = weekly[weekly["model_version"] == version]
        for row, column in ((1, "acceptance_rate"), (2, "correction_rate")):
            fig.add_trace(go.Scatter(x=rows["week_start"], y=rows[column], name=str(version), legendgroup=str(version),
                                     showlegend=row == 1, mode="lines+markers", line={"color": color},
                                     hovertemplate=f"{version}: %{{y:.1%}}<extra></extra>"),
                          row=row, col=1)
    for series, rows in latency.groupby("series", sort=True):
        version = str(rows["model_version"].iloc[0])
        fig.add_trace(go.Scatter(
            x=rows["activity_date"], y=rows["latency_p90_ms"], name=f"p90 {series}", mode="markers",
            legendgroup=version, showlegend=False, opacity=0.35,
            marker={"size": 4, "color": colours.get(version, PALETTE[0])},
            customdata=rows[["latency_p50_ms", "latency_p99_ms"]],
            hovertemplate=f"{series}: p50 %{{customdata[0]:,.0f}} ms · p90 %{{y:,.0f}} ms · "
                          "p99 %{customdata[1]:,.0f} ms<extra></extra>"), row=3, col=1)
    for version, rows in typical.groupby("model_version", sort=True):
        fig.add_trace(go.Scatter(
            x=rows["week_start"], y=rows["typical_p90_ms"], name=f"{version} weekly p90", mode="lines",
            legendgroup=str(version), showlegend=False, line={"width": 3, "color": colours.get(str(version))},
            hovertemplate=f"{version}: weekly median of daily p90 %{{y:,.0f}} ms<extra></extra>"), row=3, col=1)
    fig.update_yaxes(tickformat=".0%", title_text="accepted (%)", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", title_text="corrected (%)", row=2, col=1)
    fig.update_yaxes(title_text="p90 latency (ms)", ticksuffix=" ms", row=3, col=1)
    _shade_partial_week(fig, warehouse, [d.date() for d in weekly["week_start"]])
    return _layout(fig, height=760, hovermode="closest")


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
    Chart("retention_curves", "Retention curves (monthly signup cohorts)", (_t("fct_cohort_retention"),),
          ("pm_retention_rate",), retention_curves,
          note="Share of each signup month's users active k months after signup; complete months only."),
    Chart("retention_monthly", "Monthly cohort retention (signup month by months since)", (_t("fct_cohort_retention"),),
          (), monthly_retention_heatmap,
          note="Share of each signup month's users active in month k after signup. " + INCOMPLETE_NOTE + "; "
               "cells marked * are incomplete."),
    Chart("retention", f"Weekly cohort retention (the {RECENT_WEEKLY_COHORTS} latest signup weeks)",
          (_t("fct_cohort_retention"),), (), retention_heatmap,
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
