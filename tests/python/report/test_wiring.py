"""What the report reads of the other parts, on hand-made tables: the alerts of the latest run split
into thresholds crossed (with their top drivers), dated targets and anomalies (with theirs); the north star's drivers as
the drivers stage writes fct_metric_change_drivers (first-level tree inputs, then segments, in
driver_rank order, the change ending at the card's period); the target a card shows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from product_metrics.drivers.tables import DRIVERS_COLUMNS
from product_metrics.governance.alerts import ALERT_COLUMNS
from product_metrics.report.data import ReportTables, read_change_drivers
from product_metrics.report.html import render_report
from product_metrics.report.summary import current_target

OLD_RUN, RUN = dt.datetime(2026, 6, 30, 8), dt.datetime(2026, 7, 1, 8)


def _create(con, schema: str, table: str, columns) -> None:
    types = {"text": "text", "date": "date", "integer": "integer", "double precision": "double"}
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {schema}.{table} ("
                + ", ".join(f'"{name}" {types.get(kind, kind)}' for name, kind in columns) + ")")


@pytest.fixture
def warehouse(tmp_path) -> Path:
    import duckdb

    path = tmp_path / "wired.duckdb"
    with duckdb.connect(str(path)) as con:
        _create(con, "audit", "metric_alerts", ALERT_COLUMNS)
        names = [name for name, _ in ALERT_COLUMNS]
        rows = [
            {"run_at": OLD_RUN, "metric_name": "pm_old", "level": "alert", "kind": "threshold"},
            {"run_at": RUN, "metric_name": "pm_dau_mau_ratio", "period": dt.date(2026, 6, 29), "value": 0.12,
             "threshold": 0.15, "level": "alert", "direction": "higher_is_better", "table": "fct_stickiness_daily",
             "column": "dau_mau_ratio", "kind": "threshold",
             "detail": "pm_dau_mau_ratio 12.0% in 2026-06-29, below the alert threshold 15.0%",
             "top_drivers": "pm_dau_mau_ratio −8.0% (2026-W26 vs 2026-W25): platform=android rate −1.1 pp"},
            {"run_at": RUN, "metric_name": "pm_north_star_users", "period": dt.date(2026, 6, 22), "value": 116.0,
             "threshold": 150.0, "level": "warn", "direction": "higher_is_better", "table": "fct_north_star_weekly",
             "column": "north_star_users", "kind": "target",
             "detail": "pm_north_star_users: 150 users by 2026-09-30 — 116 users in 2026-W26: off track"},
            {"run_at": RUN, "metric_name": "pm_signups", "period": dt.date(2026, 5, 25), "value": 90.0,
             "threshold": 100.0, "level": "warn", "direction": "higher_is_better", "table": "fct_metric_values",
             "column": "value", "kind": "target",
             "detail": "pm_signups: 100 users by 2026-05-31 — 90 users in 2026-W22: missed"},
            {"run_at": RUN, "metric_name": "pm_north_star_users", "period": dt.date(2026, 6, 22), "value": 116.0,
             "threshold": 140.0, "level": "warn", "direction": "higher_is_better", "table": "fct_north_star_weekly",
             "column": "north_star_users", "kind": "anomaly",
             "detail": "pm_north_star_users 116 users in 2026-06-22, 3.4 standard deviations below its trailing "
                       "12-period mean 160 users",
             "top_drivers": "pm_north_star_users −27.5% (2026-W26 vs 2026-W25): country=BR × platform=android "
                            "−30 users unexpected"},
            {"run_at": RUN, "metric_name": "new_customers", "period": dt.date(2026, 5, 1), "value": 150.0,
             "threshold": 109.8, "level": "warn", "table": "fct_cac_monthly", "column": "new_customers",
             "kind": "anomaly",
             "detail": "new_customers 150 in 2026-05-01, 15.3 standard deviations above its trailing 4-period mean 100"},
        ]
        con.executemany(f"insert into audit.metric_alerts values ({', '.join('?' for _ in names)})",
                        [[row.get(name) for name in names] for row in rows])
        _create(con, "metrics", "fct_metric_change_drivers", DRIVERS_COLUMNS)
        names = [name for name, _ in DRIVERS_COLUMNS]

        def driver(to, analysis, segment, depth, rank, grain="week", **values):
            start = dt.date.fromisoformat(to)
            before = start - dt.timedelta(days=7) if grain == "week" else start.replace(month=start.month - 1)
            return {"metric_name": "pm_north_star_users", "period_grain": grain, "from_period_start": before,
                    "to_period_start": start, "analysis": analysis, "segment": segment, "depth": depth,
                    "driver_rank": rank, **values}

        # The week of 2026-06-22 (78 -> 116): weekly actives +30, a depth-2 split of them (+25, not a
        # driver of its own), the share +8; a later week and a month are in the table too.
        rows = [driver("2026-06-22", "tree", "pm_weekly_active_users", 1, 1, contribution=30.0,
                       contribution_share=30 / 78),
                driver("2026-06-22", "tree", "pm_resurrecting_users", 2, 2, contribution=25.0,
                       contribution_share=25 / 78),
                driver("2026-06-22", "tree", "pm_north_star_share_of_active", 1, 3, contribution=8.0,
                       contribution_share=8 / 78),
                driver("2026-06-22", "segment", "country=BR, platform=android", 2, 1, dimensions="country, platform",
                       difference=-10.0, unexpected_difference=-12.0),
                driver("2026-06-29", "segment", "country=DE", 1, 1, dimensions="country", difference=5.0,
                       unexpected_difference=4.0),
                driver("2026-06-01", "segment", "country=US", 1, 1, grain="month", dimensions="country",
                       difference=9.0, unexpected_difference=7.0)]
        con.executemany(f"insert into metrics.fct_metric_change_drivers values ({', '.join('?' for _ in names)})",
                        [[row.get(name) for name in names] for row in rows])
    return path


def test_alerts_split_thresholds_from_targets(warehouse):
    with ReportTables.open(warehouse) as tables:
        html = render_report(tables, built_at=RUN).html
    panel = html.split('id="panel-alerts"')[1].split("</section>")[0]
    thresholds = panel.split('id="recorded-breaches"')[1].split("</table>")[0]
    targets = panel.split('id="recorded-targets"')[1].split("</table>")[0]
    assert "pm_dau_mau_ratio" in thresholds and "platform=android rate −1.1 pp" in thresholds
    assert "pm_north_star_users" not in thresholds and "pm_old" not in panel  # an older run is not shown
    assert re.findall(r'<td class="target-(\w+)">', targets) == ["off_track", "missed"]
    assert "150 users by 2026-09-30" in targets and "pm_signups: 100 users by 2026-05-31" in targets
    assert "standard deviations" not in thresholds + targets


def test_anomalies_have_their_own_table_with_their_top_drivers(warehouse):
    with ReportTables.open(warehouse) as tables:
        html = render_report(tables, built_at=RUN).html
    panel = html.split('id="panel-alerts"')[1].split("</section>")[0]
    anomalies = panel.split('id="recorded-anomalies"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>([\d-]+)</td>.*?</tr>", anomalies)
    assert rows == [("new_customers", "2026-05-01"), ("pm_north_star_users", "2026-06-22")]
    assert "3.4 standard deviations below its trailing 12-period mean 160 users" in anomalies
    assert "country=BR × platform=android −30 users unexpected" in anomalies
    # A series without a governed metric has no drivers: its cell reads "—".
    new_customers = anomalies.split("<code>new_customers</code>")[1].split("</tr>")[0]
    assert new_customers.endswith("<td>fct_cac_monthly.new_customers</td><td>—</td>")


def test_the_north_star_reads_first_level_drivers_of_the_cards_period(warehouse):
    with ReportTables.open(warehouse) as tables:
        frame = read_change_drivers(tables, "pm_north_star_users", period=dt.date(2026, 6, 22))
        rows = [(r.analysis, r.segment) for r in frame.itertuples()]
        assert rows == [("tree", "pm_weekly_active_users"), ("tree", "pm_north_star_share_of_active"),
                        ("segment", "country=BR, platform=android")]
        assert (frame["to_period_start"].astype(str) == "2026-06-22").all()
        # Without a period (or one the table lacks): the latest week, not the month.
        for period in (None, dt.date(2026, 7, 6)):
            latest = read_change_drivers(tables, "pm_north_star_users", period=period)
            assert [(r.period_grain, str(r.to_period_start)[:10], r.segment) for r in latest.itertuples()] == [
                ("week", "2026-06-29", "country=DE")]
        assert read_change_drivers(tables, "pm_signups") is None


def test_a_card_shows_the_nearest_target_ahead_else_the_latest_judged():
    def target(by, status, metric="pm_north_star_users"):
        return SimpleNamespace(metric=metric, by=dt.date.fromisoformat(by), status=status)

    past, near, far = target("2026-03-31", "missed"), target("2026-09-30", "off_track"), target("2027-03-31", "on_track")
    assert current_target([far, past, near, target("2026-08-01", "on_track", "pm_signups")],
                          "pm_north_star_users") is near
    assert current_target([past, target("2026-01-31", "met")], "pm_north_star_users") is past
    assert current_target([far], "pm_signups") is None


def test_a_value_without_a_governed_metric_reads_in_the_unit_its_column_names():
    from product_metrics.report.html import _value

    assert _value(57.0, None, "cac_usd") == "$57.00"
    assert _value(0.125, None, "acceptance_rate") == "12.5%"
    assert _value(57.0, None, "new_customers") == "57 users"
    assert _value(57.0, None, "f1") == "57.0"  # nothing to go on: a plain number
