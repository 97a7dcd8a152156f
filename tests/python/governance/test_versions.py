"""`governance check --state`: a definition change (the metric's YAML, or the SQL of a model or
project macro it depends on, transitively) needs a version bump AND a DECISIONS.md entry."""

from __future__ import annotations

import copy
import datetime as dt
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "governance"))
import fixture_manifests as fx

from product_metrics.cli import app
from product_metrics.governance.definitions import Decisions
from product_metrics.governance.rules import check

TODAY = dt.date.fromisoformat(fx.TODAY)
NO_DECISIONS = Decisions("")
NPS_V2 = Decisions("## 2026-12-01\n### nps v2: only the latest response per respondent counts\n")
runner = CliRunner()


@pytest.fixture
def previous():
    return fx.load_good()


@pytest.fixture
def current(previous):
    return copy.deepcopy(previous)


def compare(current, previous, decisions=NO_DECISIONS):
    return check(fx.registry(*current), today=TODAY, previous=fx.registry(*previous), decisions=decisions)


def subjects(result, rule):
    return sorted(v.subject for v in result.violations if v.rule == rule)


def edit_sql(manifest, model, old, new):
    node = fx.model(manifest, model)
    assert old in node["raw_code"]
    node["raw_code"] = node["raw_code"].replace(old, new)
    node["checksum"]["checksum"] = "changed"


def test_unchanged_manifests_pass(current, previous):
    assert compare(current, previous).ok


def test_a_changed_metric_definition_needs_a_version_bump(current, previous):
    _, semantic = current
    fx.semantic_metric(semantic, "nps")["type_params"]["expr"] = "100.0 * (promoters - detractors) / nps_responses"
    result = compare(current, previous)
    assert subjects(result, "unversioned_change") == ["nps"] and len(result.violations) == 1
    violation = result.violations[0]
    assert violation.problem == "definition changed (metric nps) but version is still 1"
    assert violation.fix.startswith("set version: 2 and add a DECISIONS.md entry 'nps v2'")


def test_a_bump_without_a_decisions_entry_fails(current, previous):
    manifest, semantic = current
    fx.semantic_metric(semantic, "nps")["type_params"]["expr"] = "100.0 * (promoters - detractors) / nps_responses"
    fx.governance(manifest, "nps")["version"] = 2
    result = compare(current, previous)
    assert subjects(result, "missing_decision") == ["nps"] and len(result.violations) == 1
    assert result.violations[0].problem == "version 1 → 2 has no DECISIONS.md entry naming 'nps v2'"
    assert compare(current, previous, NPS_V2).ok
    assert not compare(current, previous, Decisions("### nps v3: later\n### nps_responses v2\n")).ok


def test_a_bump_without_a_change_still_needs_its_entry(current, previous):
    fx.governance(current[0], "nps")["version"] = 2
    assert subjects(compare(current, previous), "missing_decision") == ["nps"]
    assert compare(current, previous, NPS_V2).ok


def test_a_version_going_down_fails(current, previous):
    fx.governance(previous[0], "nps")["version"] = 3
    fx.governance(current[0], "nps")["version"] = 2
    result = compare(current, previous, NPS_V2)
    assert subjects(result, "unversioned_change") == ["nps"]
    assert result.violations[0].problem == "version went down from 3 to 2"


def test_a_changed_lives_in_model_sql_changes_its_metrics(current, previous):
    edit_sql(current[0], "fct_nps_monthly", "100.0 *", "100 *")
    result = compare(current, previous)
    # nps reads it (semantic model and lives_in); promoters/detractors/nps_responses through the semantic model
    assert subjects(result, "unversioned_change") == ["detractors", "nps", "nps_responses", "promoters"]
    nps = next(v for v in result.violations if v.subject == "nps")
    assert "model fct_nps_monthly" in nps.problem


def test_an_upstream_model_change_counts_transitively(current, previous):
    edit_sql(current[0], "stg_daily_activity", "('2026-06-03', 40, 400)", "('2026-06-03', 41, 400)")
    result = compare(current, previous)
    assert subjects(result, "unversioned_change") == ["active_user_days_7d", "dau", "dau_mau_ratio", "mau"]
    assert "model stg_daily_activity" in result.violations[0].problem


def test_comments_and_whitespace_are_not_a_definition_change(current, previous):
    edit_sql(current[0], "fct_engagement_daily", "    dau,\n", "    dau,  -- daily active users\n\n")
    edit_sql(current[0], "stg_daily_activity", "-- Daily active users", "/* reworded */ -- Daily actives")
    assert compare(current, previous).ok


def test_a_changed_project_macro_changes_the_metrics_whose_models_call_it(current, previous):
    macro = current[0]["macros"][f"macro.{fx.PROJECT}.default__safe_divide"]
    macro["macro_sql"] = macro["macro_sql"].replace("nullif(", "coalesce(")
    result = compare(current, previous)
    # every model computing a ratio calls safe_divide, so every metric reading those models moved
    assert set(subjects(result, "unversioned_change")) >= {"dau_mau_ratio", "nps", "refund_rate"}
    assert "macro default__safe_divide" in next(v for v in result.violations if v.subject == "nps").problem


def test_a_changed_input_measure_changes_the_metrics_built_on_it(current, previous):
    manifest, _ = current
    measures = manifest["semantic_models"][f"semantic_model.{fx.PROJECT}.nps_months"]["measures"]
    next(m for m in measures if m["name"] == "nps_promoters")["expr"] = "promoters + passives"
    result = compare(current, previous)
    assert subjects(result, "unversioned_change") == ["nps", "promoters"]
    assert "measure nps_months.nps_promoters" in result.violations[0].problem


def test_formula_unit_and_grain_are_definition_but_descriptions_are_not(current, previous):
    fx.governance(current[0], "nps")["description"] = "NPS, reworded."
    fx.governance(current[0], "nps")["owner"] = {"name": "Research", "email": "research@example.com"}
    fx.governance(current[0], "nps")["thresholds"] = {"warn": 25, "alert": 5}
    assert compare(current, previous).ok
    fx.governance(current[0], "nps")["formula"] = "100 * (promoters - detractors) / respondents"
    assert subjects(compare(current, previous), "unversioned_change") == ["nps"]


def test_new_and_newly_governed_metrics_are_the_baseline(current, previous):
    del fx.governance(previous[0], "nps")["version"]  # an invalid old version: nothing to compare with
    for name in ("refund_rate", "revenue_usd"):
        del fx.metric(previous[0], name)["config"]["meta"]["governance"]
        fx.semantic_metric(previous[1], name)["config"]["meta"] = {}
    fx.semantic_metric(current[1], "refund_rate")["type_params"]["denominator"] = {"name": "refunds"}
    fx.semantic_metric(current[1], "nps")["type_params"]["expr"] = "promoters - detractors"
    fx.add_metric(*current, {"name": "dau_twice", "type": "derived",  # new: absent from the previous manifest
                             "type_params": {"expr": "2 * dau", "metrics": [{"name": "dau"}]},
                             "config": {"meta": {"governance": {**fx.governance(current[0], "dau"), "version": 3}}}})
    result = compare(current, previous)
    assert not subjects(result, "unversioned_change") and not subjects(result, "missing_decision")
    assert "dau_twice" in fx.registry(*current).metrics


def test_deprecated_metrics_are_not_compared(current, previous):
    fx.governance(current[0], "nps")["status"] = "deprecated"
    fx.semantic_metric(current[1], "nps")["type_params"]["expr"] = "promoters - detractors"
    assert not subjects(compare(current, previous), "unversioned_change")


def test_check_cli_with_state_and_decisions(current, previous, tmp_path):
    manifest, semantic = current
    fx.semantic_metric(semantic, "nps")["type_params"]["expr"] = "100.0 * (promoters - detractors) / nps_responses"
    state = fx.write(tmp_path / "state", *previous)
    changed = fx.write(tmp_path / "changed", manifest, semantic)
    decisions = tmp_path / "DECISIONS.md"
    decisions.write_text("# Decisions\n")
    args = ["governance", "check", "--manifest-dir", str(changed), "--state", str(state), "--today", fx.TODAY,
            "--decisions", str(decisions)]
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 1 and "unversioned_change" in result.output and "set version: 2" in result.output

    fx.governance(manifest, "nps")["version"] = 2
    fx.write(changed, manifest, semantic)
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 1 and "missing_decision" in result.output

    decisions.write_text("# Decisions\n\n### 2026-12-01 — nps v2: latest response per respondent\n")
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "12 metrics, all rules pass" in result.output and "compared with" in result.output
