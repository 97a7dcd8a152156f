"""`product-metrics governance check`: every rule, each broken by one change to the good fixture
manifests (tests/fixtures/governance/good, trimmed from the fixture dbt project)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
import fixture_manifests as fx

from product_metrics.cli import app
from product_metrics.governance.contract import next_review_due, parse_governance
from product_metrics.governance.definitions import Decisions
from product_metrics.governance.rules import CALENDAR_RULES, RULES, check

TODAY = dt.date.fromisoformat(fx.TODAY)
runner = CliRunner()


@pytest.fixture
def good():
    return fx.load_good()


def run(manifest, semantic, today=TODAY):
    return check(fx.registry(manifest, semantic), today=today)


def found(result, rule, subject=None, field=None):
    return [v for v in result.violations if v.rule == rule and (subject is None or v.subject == subject)
            and (field is None or v.field == field)]


def only(result, rule, subject, field=None):
    """The single violation of `rule` on `subject`, and nothing else broke."""
    assert {v.rule for v in result.violations} == {rule}, result.violations
    matches = found(result, rule, subject, field)
    assert len(matches) == 1, result.violations
    return matches[0]


# --- the good fixture ---------------------------------------------------------------------------

def test_the_good_fixture_passes_every_rule(good):
    result = run(*good)
    assert result.ok, result.violations
    assert result.metrics == 12 and result.tables == 3 and result.exposures == 2


def test_check_cli_passes_with_a_summary(good, tmp_path):
    directory = fx.write(tmp_path / "good", *good)
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(directory), "--today", fx.TODAY])
    assert result.exit_code == 0, result.output
    assert "12 metrics, all rules pass" in result.output


def test_check_cli_fails_with_a_table_naming_metric_field_and_fix(good, tmp_path):
    manifest, semantic = good
    del fx.governance(manifest, "nps")["owner"]
    directory = fx.write(tmp_path / "bad", manifest, semantic)
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(directory), "--today", fx.TODAY],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 1, result.output
    for text in ("metric", "field", "what to do", "nps", "owner", "owner is missing", "add owner:", "missing_field"):
        assert text in result.output
    assert "1 problems in 1" in result.output


def test_check_cli_exits_2_without_a_manifest(tmp_path):
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(tmp_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert "manifest.json does not exist: run `dbt parse`" in result.output


# --- missing_field / invalid_field -------------------------------------------------------------

@pytest.mark.parametrize("field", ["owner", "description", "formula", "unit", "grain", "role", "direction",
                                   "indicator", "guardrails", "review_cadence", "last_reviewed", "status",
                                   "version", "thresholds"])
def test_a_missing_field_fails(good, field):
    manifest, semantic = good
    del fx.governance(manifest, "orders")[field]
    violation = only(run(manifest, semantic), "missing_field", "orders", field)
    assert violation.problem == f"{field} is missing"
    assert violation.fix.startswith(f"add {field}:")


def test_a_metric_without_governance_fails(good):
    manifest, semantic = good
    del fx.metric(manifest, "orders")["config"]["meta"]["governance"]
    fx.semantic_metric(semantic, "orders")["config"]["meta"] = {}
    violation = only(run(manifest, semantic), "missing_field", "orders", "governance")
    assert violation.problem == "the metric has no governance meta"
    assert "models/semantic/sem_metrics.yml" in violation.fix


INVALID = [
    ("unit", "responses", "unit is 'responses', not one of ratio, users"),
    ("grain", "year", "grain is 'year', not one of day, week, month, cohort_week, cohort_month"),
    ("role", "leader", "role is 'leader', not one of north_star, kpi, guardrail, diagnostic"),
    ("direction", "up", "direction is 'up', not one of higher_is_better, lower_is_better"),
    ("indicator", "early", "indicator is 'early', not one of leading, lagging"),
    ("status", "approved", "status is 'approved', not one of draft, certified, deprecated"),
    ("review_cadence", "sometimes", "review_cadence is 'sometimes'"),
    ("review_cadence", "0d", "review_cadence is '0d'"),
    ("last_reviewed", "last week", "last_reviewed is 'last week', not a date"),
    ("version", "1", "version is '1', not an integer ≥ 1"),
    ("version", 0, "version is 0, not an integer ≥ 1"),
    ("version", True, "version is True, not an integer ≥ 1"),
    ("owner", {"name": "Finance"}, "owner.email is None, not an email address"),
    ("owner", {"name": "Finance", "email": "finance"}, "owner.email is 'finance', not an email address"),
    ("owner", "Finance Analytics", "owner is 'Finance Analytics', not a {name, email} mapping"),
    ("description", "  ", "description is empty or not text"),
    ("guardrails", "nps", "guardrails is 'nps', not a list of metric names"),
    ("guardrails", ["orders"], "a metric cannot be its own guardrail"),
    ("thresholds", {"warn": "high"}, "thresholds.warn is 'high', not a number"),
    ("thresholds", {"critical": 1}, "thresholds has unknown keys ['critical']"),
    ("thresholds", [1, 2], "thresholds is [1, 2], not a mapping"),
]


@pytest.mark.parametrize(("field", "value", "problem"), INVALID, ids=[f"{f}={v!r}" for f, v, _ in INVALID])
def test_an_invalid_field_fails(good, field, value, problem):
    manifest, semantic = good
    fx.governance(manifest, "orders")[field] = value
    if field == "thresholds":  # thresholds need lives_in; give orders one so only the value is wrong
        fx.governance(manifest, "orders")["lives_in"] = {"table": "fct_revenue_monthly", "column": "orders",
                                                         "time_column": "month_start"}
        fx.model(manifest, "fct_revenue_monthly")["config"]["meta"]["governance"]["metrics"].append("orders")
    violation = only(run(manifest, semantic), "invalid_field", "orders", field)
    assert violation.problem.startswith(problem), violation.problem


def test_an_unknown_governance_key_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "orders")["gaurdrails"] = ["nps"]
    violation = only(run(manifest, semantic), "invalid_field", "orders", "gaurdrails")
    assert violation.problem == "gaurdrails is not a governance field"


def test_alert_must_be_the_worse_threshold(good):
    manifest, semantic = good
    fx.governance(manifest, "dau_mau_ratio")["thresholds"] = {"warn": 0.15, "alert": 0.2}
    fx.governance(manifest, "refund_rate")["thresholds"] = {"warn": 0.1, "alert": 0.05}
    result = run(manifest, semantic)
    assert [v.subject for v in found(result, "invalid_field", field="thresholds")] == ["dau_mau_ratio", "refund_rate"]
    assert "alert 0.2 is not below warn 0.15 for a higher_is_better metric" in result.violations[0].problem
    assert "alert 0.05 is not above warn 0.1" in result.violations[1].problem


def test_thresholds_need_lives_in(good):
    manifest, semantic = good
    del fx.governance(manifest, "nps")["lives_in"]
    fx.model(manifest, "fct_nps_monthly")["config"]["meta"]["governance"]["metrics"].remove("nps")
    violation = only(run(manifest, semantic), "invalid_field", "nps", "thresholds")
    assert "no value to compare them with" in violation.problem


@pytest.mark.parametrize(("lives_in", "problem"), [
    ({"table": "fct_nps_monthly", "column": "nps"}, "lives_in.time_column is missing"),
    ({"table": "fct_nps_monthly", "column": "nps", "time_column": "month_start", "filter": "x"},
     "lives_in has unknown keys ['filter']"),
    ("fct_nps_monthly.nps", "lives_in is 'fct_nps_monthly.nps', not a mapping"),
])
def test_an_invalid_lives_in_fails(good, lives_in, problem):
    manifest, semantic = good
    fx.governance(manifest, "nps")["lives_in"] = lives_in
    result = run(manifest, semantic)
    assert found(result, "invalid_field", "nps", "lives_in")[0].problem == problem


def test_last_reviewed_in_the_future_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "orders")["last_reviewed"] = "2026-12-24"
    violation = only(run(manifest, semantic), "invalid_field", "orders", "last_reviewed")
    assert violation.problem == "last_reviewed 2026-12-24 is after today (2026-11-23)"


# --- north_star_count ---------------------------------------------------------------------------

def test_no_certified_north_star_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "dau_mau_ratio")["status"] = "draft"  # a draft north star does not count
    violation = only(run(manifest, semantic), "north_star_count", "project")
    assert violation.problem == "no metric is a certified north star"


def test_several_certified_north_stars_fail(good):
    manifest, semantic = good
    fx.governance(manifest, "revenue_usd")["role"] = "north_star"
    violation = only(run(manifest, semantic), "north_star_count", "project")
    assert violation.problem == "2 certified north stars: dau_mau_ratio, revenue_usd"


# --- missing_guardrail / unknown_guardrail / deprecated_guardrail --------------------------------

@pytest.mark.parametrize("name", ["dau_mau_ratio", "revenue_usd"])  # the north star and a KPI
def test_a_north_star_or_kpi_without_guardrail_fails(good, name):
    manifest, semantic = good
    fx.governance(manifest, name)["guardrails"] = []
    violation = only(run(manifest, semantic), "missing_guardrail", name, "guardrails")
    assert "without a guardrail" in violation.problem


def test_guardrail_and_diagnostic_metrics_may_have_no_guardrail(good):
    manifest, semantic = good
    assert fx.governance(manifest, "nps")["guardrails"] == [] and fx.governance(manifest, "dau")["guardrails"] == []
    fx.governance(manifest, "revenue_usd").update(status="deprecated", guardrails=[])  # deprecated: exempt
    assert not found(run(manifest, semantic), "missing_guardrail")


def test_a_guardrail_naming_an_unknown_metric_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "dau_mau_ratio")["guardrails"] = ["nps", "churn_rate"]
    violation = only(run(manifest, semantic), "unknown_guardrail", "dau_mau_ratio", "guardrails")
    assert violation.problem == "guardrail 'churn_rate' is not a metric"


def test_a_deprecated_guardrail_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "nps")["status"] = "deprecated"
    result = run(manifest, semantic)
    assert found(result, "deprecated_guardrail", "dau_mau_ratio")[0].problem == "guardrail 'nps' is deprecated"


# --- review_overdue -----------------------------------------------------------------------------

def test_an_overdue_review_is_found(good):
    manifest, semantic = good  # revenue_usd: monthly, last reviewed 2026-11-01 -> due 2026-12-01
    assert run(manifest, semantic, today=dt.date(2026, 12, 1)).ok
    violation = only(run(manifest, semantic, today=dt.date(2026, 12, 2)), "review_overdue", "revenue_usd")
    assert violation.problem == "review was due 2026-12-01 (last reviewed 2026-11-01, monthly)"
    assert "Finance Analytics" in violation.fix
    assert violation.line == "review overdue: revenue_usd (owner: Finance Analytics) was due 2026-12-01"
    assert "review_overdue" in CALENDAR_RULES


def check_cli(directory, *args):
    return runner.invoke(app, ["governance", "check", "--manifest-dir", str(directory), *args],
                         env={"COLUMNS": "250"})


def test_an_overdue_review_warns_and_fails_only_with_strict(good, tmp_path):
    directory = fx.write(tmp_path / "good", *good)
    result = check_cli(directory, "--today", "2026-12-02")
    assert result.exit_code == 0, result.output
    assert "! review overdue: revenue_usd (owner: Finance Analytics) was due 2026-12-01\n" in result.output
    assert "1 warnings (review_overdue), not failures" in result.output
    assert "12 metrics, no rule fails" in result.output
    assert "Governance check" not in result.output  # no table of problems

    strict = check_cli(directory, "--today", "2026-12-02", "--strict")
    assert strict.exit_code == 1, strict.output
    assert "review was due 2026-12-01" in strict.output and "1 problems in 1" in strict.output
    assert check_cli(directory, "--today", "2026-12-01", "--strict").exit_code == 0  # due today: not overdue


def test_a_year_ahead_every_review_is_a_warning_and_other_rules_still_fail(good, tmp_path):
    manifest, semantic = good
    year_ahead = (TODAY + dt.timedelta(days=366)).isoformat()
    result = check_cli(fx.write(tmp_path / "good", manifest, semantic), "--today", year_ahead)
    assert result.exit_code == 0, result.output
    governed = [m["name"] for m in manifest["metrics"].values()
                if fx.governance(manifest, m["name"]).get("status") != "deprecated"]
    registry = fx.registry(manifest, semantic)
    for name in governed:
        governance = registry.metrics[name].governance
        assert (f"review overdue: {name} (owner: {governance.owner.name}) was due "
                f"{governance.next_review_due()}") in result.output
    assert f"{len(governed)} warnings (review_overdue)" in result.output

    del fx.governance(manifest, "nps")["owner"]
    broken = check_cli(fx.write(tmp_path / "broken", manifest, semantic), "--today", year_ahead)
    assert broken.exit_code == 1, broken.output
    assert "missing_field" in broken.output and "1 problems in 1" in broken.output
    assert "review overdue: dau_mau_ratio" in broken.output  # the warnings are still listed


def test_deprecated_metrics_need_no_review(good):
    manifest, semantic = good
    fx.governance(manifest, "revenue_usd")["status"] = "deprecated"
    result = run(manifest, semantic, today=dt.date(2026, 12, 2))
    assert not found(result, "review_overdue")


@pytest.mark.parametrize(("last", "cadence", "due"), [
    ("2026-11-01", "weekly", "2026-11-08"), ("2026-01-31", "monthly", "2026-02-28"),
    ("2026-11-30", "quarterly", "2027-02-28"), ("2024-02-29", "yearly", "2025-02-28"),
    ("2026-10-01", "90d", "2026-12-30"),
])
def test_review_due_dates(last, cadence, due):
    assert next_review_due(dt.date.fromisoformat(last), cadence) == dt.date.fromisoformat(due)


# --- deprecated_dependency ----------------------------------------------------------------------

def test_a_certified_metric_on_a_deprecated_input_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "mau")["status"] = "deprecated"
    result = run(manifest, semantic)
    violation = found(result, "deprecated_dependency", "dau_mau_ratio")[0]
    assert violation.problem == "certified metric depends on deprecated mau (dau_mau_ratio → mau)"
    # growth_dashboard reads fct_engagement_daily, which lists mau
    assert found(result, "deprecated_dependency", "exposure growth_dashboard")[0].problem == \
        "reads table fct_engagement_daily, which holds deprecated metric mau"


def test_ratio_inputs_count(good):
    manifest, semantic = good
    fx.governance(manifest, "orders")["status"] = "deprecated"
    result = run(manifest, semantic)
    assert found(result, "deprecated_dependency", "refund_rate")[0].problem.endswith("(refund_rate → orders)")


def test_deprecated_inputs_count_transitively(good):
    manifest, semantic = good
    fx.add_metric(manifest, semantic, {
        "name": "nps_index", "type": "derived", "original_file_path": "models/semantic/sem_metrics.yml",
        "type_params": {"expr": "nps + 100", "metrics": [{"name": "nps"}]},
        "depends_on": {"nodes": [f"metric.{fx.PROJECT}.nps"]},
        "config": {"meta": {"governance": {**fx.governance(manifest, "nps"), "thresholds": {}, "lives_in": None}}}})
    fx.governance(manifest, "nps")["status"] = "draft"
    fx.governance(manifest, "promoters")["status"] = "deprecated"
    result = run(manifest, semantic)
    assert found(result, "deprecated_dependency", "nps_index")[0].problem == \
        "certified metric depends on deprecated promoters (nps_index → nps → promoters)"
    assert not found(result, "deprecated_dependency", "nps")  # a draft may depend on anything


def test_cumulative_and_conversion_inputs_count(good):
    manifest, semantic = good
    governance = {**fx.governance(manifest, "dau"), "lives_in": None}
    fx.add_metric(manifest, semantic, {  # the simple metric on the cumulative metric's measure
        "name": "active_user_days", "type": "simple",
        "type_params": {"measure": {"name": "active_user_days"}, "input_measures": [{"name": "active_user_days"}]},
        "depends_on": {"nodes": [f"semantic_model.{fx.PROJECT}.engagement_days"]},
        "config": {"meta": {"governance": {**governance, "status": "deprecated"}}}})
    fx.governance(manifest, "active_user_days_7d")["status"] = "certified"
    fx.add_metric(manifest, semantic, {
        "name": "dau_to_mau_conversion", "type": "conversion",
        "type_params": {"conversion_type_params": {"base_measure": {"name": "dau"}, "conversion_measure": {"name": "mau"},
                                                   "entity": "user", "window": {"count": 7, "granularity": "day"}},
                        "input_measures": [{"name": "dau"}, {"name": "mau"}]},
        "depends_on": {"nodes": [f"semantic_model.{fx.PROJECT}.engagement_days"]},
        "config": {"meta": {"governance": governance}}})
    fx.governance(manifest, "mau")["status"] = "deprecated"
    result = run(manifest, semantic)
    problems = {v.subject: v.problem for v in found(result, "deprecated_dependency")}
    assert problems["active_user_days_7d"].endswith("(active_user_days_7d → active_user_days)")
    assert problems["dau_to_mau_conversion"].endswith("(dau_to_mau_conversion → mau)")


def test_an_exposure_on_a_deprecated_metric_fails(good):
    manifest, semantic = good
    fx.governance(manifest, "revenue_usd").update(status="deprecated")
    result = run(manifest, semantic)
    problems = [v.problem for v in found(result, "deprecated_dependency", "exposure finance_dashboard")]
    assert "reads deprecated metric revenue_usd" in problems
    assert "reads table fct_revenue_monthly, which holds deprecated metric revenue_usd" in problems


# --- unknown_table_metric / lives_in ------------------------------------------------------------

def test_a_table_listing_an_unknown_metric_fails(good):
    manifest, semantic = good
    fx.model(manifest, "fct_engagement_daily")["config"]["meta"]["governance"]["metrics"].append("wau")
    violation = only(run(manifest, semantic), "unknown_table_metric", "table fct_engagement_daily")
    assert violation.problem == "lists 'wau', which is not a metric"


def test_a_table_governance_that_is_not_a_list_fails(good):
    manifest, semantic = good
    fx.model(manifest, "fct_nps_monthly")["config"]["meta"]["governance"] = {"metrics": "nps"}
    result = run(manifest, semantic)
    assert found(result, "invalid_field", "table fct_nps_monthly", "governance.metrics")


@pytest.mark.parametrize(("key", "value", "field", "problem"), [
    ("table", "fct_stickiness", "lives_in.table", "'fct_stickiness' is not a dbt model"),
    ("column", "nps_score", "lives_in.column", "fct_nps_monthly has no column 'nps_score'"),
    ("time_column", "month", "lives_in.time_column", "fct_nps_monthly has no column 'month'"),
    ("complete_column", "is_complete", "lives_in.complete_column", "fct_nps_monthly has no column 'is_complete'"),
])
def test_lives_in_must_name_a_model_and_its_columns(good, key, value, field, problem):
    manifest, semantic = good
    fx.governance(manifest, "nps")["lives_in"][key] = value
    violation = only(run(manifest, semantic), "lives_in", "nps", field)
    assert violation.problem == problem


def test_the_lives_in_table_must_list_the_metric(good):
    manifest, semantic = good
    fx.model(manifest, "fct_nps_monthly")["config"]["meta"]["governance"]["metrics"].remove("nps")
    violation = only(run(manifest, semantic), "lives_in", "nps", "lives_in.table")
    assert violation.problem == "fct_nps_monthly does not list nps"


def test_a_decomposition_names_metrics_whose_values_can_be_read(good):
    manifest, semantic = good
    fx.governance(manifest, "dau_mau_ratio")["decomposition"] = {"operation": "ratio", "metrics": ["dau", "mau"]}
    assert run(manifest, semantic).ok
    fx.governance(manifest, "revenue_usd")["decomposition"] = {"operation": "sum", "metrics": ["orders", "nope"]}
    result = run(manifest, semantic)
    assert {v.rule for v in result.violations} == {"decomposition"}
    assert [v.problem for v in found(result, "decomposition", "revenue_usd")] == [
        "orders has no lives_in: its values cannot be read", "'nope' is not a metric"]


@pytest.mark.parametrize("value, problem", [
    ({"operation": "difference", "metrics": ["dau", "mau"]}, "decomposition.operation is 'difference'"),
    ({"operation": "ratio", "metrics": ["dau", "mau", "nps"]}, "a ratio decomposition names 3 metrics"),
    ({"operation": "sum", "metrics": ["dau"]}, "decomposition.metrics is ['dau'], not a list of two"),
    ({"operation": "sum", "metrics": ["dau", "dau_mau_ratio"]}, "names a metric twice, or the metric itself"),
    (["dau", "mau"], "not an {operation, metrics} mapping"),
])
def test_a_decomposition_has_an_operation_and_its_metrics(good, value, problem):
    manifest, semantic = good
    fx.governance(manifest, "dau_mau_ratio")["decomposition"] = value
    violation = only(run(manifest, semantic), "invalid_field", "dau_mau_ratio", "decomposition")
    assert problem in violation.problem


# --- targets (var product_metrics__metric_targets; meta targets are fields) ---------------------

def test_the_targets_var_names_known_metrics_with_valid_targets(good):
    manifest, semantic = good
    registry = fx.registry(manifest, semantic)
    assert check(registry, today=TODAY, targets_var={"nps": [{"value": 40, "by": "2027-03-31"}]}).ok
    result = check(registry, today=TODAY, targets_var={"net_promoter": [{"value": 40, "by": "2027-03-31"}],
                                                       "nps": [{"value": "forty", "by": "2027-03-31"}]})
    assert [(v.rule, v.subject, v.problem) for v in result.violations] == [
        ("targets", "nps", "targets[0].value is 'forty', not a number"),
        ("targets", "var product_metrics__metric_targets", "'net_promoter' is not a metric")]
    fx.governance(manifest, "nps")["targets"] = [{"value": 40, "by": "2027-03-31", "set_on": "2027-04-01"}]
    violation = only(run(manifest, semantic), "invalid_field", "nps", "targets")
    assert violation.problem == "targets[0].by 2027-03-31 is not after set_on 2027-04-01"


# --- the contract and the rule list ---------------------------------------------------------------

def test_parse_governance_reads_every_field():
    governance = parse_governance("dau_mau_ratio", fx.governance(fx.load_good()[0], "dau_mau_ratio"))
    assert not governance.problems
    assert (governance.owner.name, governance.owner.email) == ("Growth Analytics", "growth-analytics@example.com")
    assert governance.guardrails == ("nps", "refund_rate")
    assert governance.last_reviewed == dt.date(2026, 10, 1) and governance.version == 1
    assert (governance.warn, governance.alert) == (0.2, 0.15)
    assert governance.lives_in.complete_column == "is_full_window"


def test_every_rule_is_documented_and_tested():
    source = "".join((Path(__file__).parent / name).read_text()
                     for name in ("test_rules.py", "test_versions.py", "test_models.py"))
    for rule in RULES:
        assert f'"{rule}"' in source, f"no test names rule {rule}"


def test_decisions_convention():
    decisions = Decisions("### 2026-12-01 — NPS v2: latest response only\n- `dau_mau_ratio` v3 — window\n"
                          "mau_ratio v4\nk_factor v10.\n")
    assert decisions.entry_for("nps", 2) and decisions.entry_for("dau_mau_ratio", 3)
    assert decisions.entry_for("k_factor", 10) and decisions.entry_for("mau_ratio", 4)
    assert not decisions.entry_for("nps", 3) and not decisions.entry_for("mau_ratio", 3)
    assert not decisions.entry_for("k_factor", 1)
