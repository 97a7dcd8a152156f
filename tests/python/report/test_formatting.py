"""One formatting of metric values for the report, the catalog and the alerts: every number carries
its unit and its unit's decimals."""

from __future__ import annotations

import pytest

from product_metrics.formatting import (
    format_cell,
    format_change,
    format_pace,
    format_points,
    format_relative,
    format_share,
    format_value,
    kind,
    noun_of,
)


@pytest.mark.parametrize(("value", "unit", "metric", "text"), [
    (68.5612, "usd", "pm_arpa_usd", "$68.56"),
    (4116.08, "usd", "pm_revenue_usd", "$4,116"),
    (-20.0, "usd", "pm_revenue_usd", "−$20.00"),
    (2.228, "months", "pm_payback_months", "2.2 months"),
    (0.137367, "ratio", "pm_dau_mau_ratio", "13.7%"),
    (0.6666, "ratio", "pm_retention_rate", "66.7%"),
    (2.7604, "ratio", "pm_ltv_cac_ratio", "2.76×"),
    (0.1492, "ratio", "pm_k_factor", "0.15×"),
    (2.058, "ratio", "pm_core_actions_per_core_action_user", "2.06×"),
    (1223.0, "users", "pm_mau", "1,223 users"),
    (883.0, "count", "pm_core_actions", "883 count"),
    (412.6, "milliseconds", "pm_ai_latency_p90_ms", "413 ms"),
    (0.2584, "hours", "pm_median_time_to_activate_hours", "0.3 hours"),
    (37.0967, "score", "pm_nps", "37.1 pts"),
    (None, "users", "pm_mau", "—"),
    (float("nan"), "usd", "pm_cac_usd", "—"),
])
def test_values_read_in_their_unit(value, unit, metric, text):
    assert format_value(value, unit, metric) == text


def test_a_count_names_what_it_counts():
    assert format_value(883.0, "count", "pm_core_actions", noun=noun_of("Core actions (product metrics)")) \
        == "883 core actions"
    assert noun_of("AI suggestions (product metrics)") == "AI suggestions"


def test_changes_carry_a_sign_and_a_share_changes_in_points():
    assert format_change(38.0, "users") == "+38 users"
    assert format_change(-34.886, "usd", "pm_cac_usd") == "−$34.89"
    assert format_change(0.0359, "ratio", "pm_retention_rate") == "+3.6 pp"  # 63.1% -> 66.7%, not "+5.7%"
    assert format_change(-0.041, "ratio", "pm_product_activation_rate") == "−4.1 pp"
    assert format_change(0.0123, "ratio", "pm_ltv_cac_ratio") == "+0.01×"
    assert format_relative(0.487) == "+48.7%" and format_relative(-0.38) == "−38.0%"
    assert format_relative(None) == "—"


def test_ratio_kinds():
    assert kind("ratio", "pm_wau_mau_ratio") == "percent"
    assert kind("ratio", "pm_invites_per_user") == "multiple"
    assert kind(None) == "number"


def test_negative_values_read_with_a_minus_sign():
    assert format_value(-310.0, "users") == "\u2212310 users"
    assert format_value(-0.05, "ratio", "pm_churn_rate") == "\u22125.0%"
    assert format_value(-2.5, None) == "\u22122.50"


def test_a_percent_unit_is_already_in_percent():
    """unit ratio: a share (0.137 -> 13.7%); unit percent: the value in percent (13.7 -> 13.7%)."""
    assert format_value(13.7, "percent") == "13.7%"
    assert format_change(-1.25, "percent") == "\u22121.2 pp"  # 1.25 rounds half to even
    assert format_change(0.012, "ratio", "pm_churn_rate") == "+1.2 pp"


def test_shares_points_and_paces():
    assert format_share(200 / 540) == "37.0%"
    assert format_share(0.4, decimals=0) == "40%"
    assert format_points(-0.04) == "\u22124.0 points" and format_points(0.057) == "+5.7 points"
    # (2,000 - 1,500) / 6 months = 83.33 a month
    assert format_pace(500 / 6, "usd", "month", "pm_revenue_usd") == "+$83.33/month"
    assert format_pace(-2.5, "usd", "month") == "\u2212$2.50/month"
    assert format_pace(2.5, "users", "week") == "+2.5 users/week"
    assert format_pace(-0.005, "ratio", "cohort_month", "pm_churn_rate") == "\u22120.5 pp/month"
    assert format_pace(None, "users", "week") == "\u2014"


def test_numbers_without_a_unit_read_by_their_size():
    assert format_value(600.0, None) == "600"
    assert format_value(12.345, None) == "12.3"
    assert format_value(2.228, None) == "2.23"
    assert format_value(0.046, None) == "0.046" and format_value(0.04, None) == "0.040"


def test_table_cells():
    assert format_cell(0.137367, "ratio", "pm_dau_mau_ratio") == "13.7%"
    assert format_cell(1223, "users") == "1,223 users"
    assert format_cell("organic") == "organic" and format_cell(True) == "True" and format_cell(None) == "\u2014"


def test_the_headline_tables_cells_carry_their_columns_unit():
    from product_metrics.report.headline import format_cell as headline_cell
    from product_metrics.report.headline import header

    assert headline_cell("arpa", 68.5612) == "$68.56" and headline_cell("churn", 0.046) == "4.6%"
    assert headline_cell("ltv/cac", 2.7604) == "2.76×" and headline_cell("k_factor", 0.1492) == "0.15×"
    assert headline_cell("payback", 2.228) == "2.2 months" and headline_cell("nps", 37.0967) == "37.1 pts"
    assert headline_cell("dau", 1223) == "1,223" and header("dau") == "dau (users)"
    assert headline_cell("channel", "organic") == "organic" and header("channel") == "channel"
    assert headline_cell("cac", None) == "—"
