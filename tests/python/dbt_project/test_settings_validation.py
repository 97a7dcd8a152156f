"""Vars are checked before anything is built (macros/settings/validate_settings.sql, the first
on-run-start hook): a wrong value stops dbt with one line naming the var, the value and what is
allowed, and leaves every table as it was; an event name absent from the data is a warning.

Every changed var costs dbt a full parse (~15 s). The refused values are therefore run in one
subprocess that parses the project once and gives that manifest to one dbtRunner invocation per
value (dbt's documented programmatic use; vars are read at run time, which is when hooks run).
The real CLI paths (`dbt` through run_dbt, `product-metrics refresh`) are tested on their own.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from product_metrics.dbt import install_packages, run_dbt
from product_metrics.project import Project

from ..conftest import DEMO_PROJECT, REPO_ROOT

MARKED_MODEL = "fct_nps_monthly"  # a small table model: rebuilt by `dbt run -s` unless the hook stops it
MARKER_MONTH = dt.date(1999, 1, 1)

# (vars, the one line dbt must print). The as-of range is the clean demo data's: events from
# 2026-02-01 to 2026-06-30 (DEMO_SIZE), so the cutoff may be 2026-02-02 to 2026-07-01.
REFUSED = [
    ({"product_metrics__mau_window_days": -3},
     "product_metrics__mau_window_days is -3: it must be a whole number of days, at least 1."),
    ({"product_metrics__mau_window_days": 7.5},
     "product_metrics__mau_window_days is 7.5: it must be a whole number of days, at least 1."),
    ({"product_metrics__ltv_lookback_months": 0},
     "product_metrics__ltv_lookback_months is 0: it must be a whole number of months, at least 1."),
    ({"product_metrics__invite_window_days": "thirty"},
     "product_metrics__invite_window_days is 'thirty': it must be a whole number of days, at least 1."),
    ({"product_metrics__invite_conversion_days": 0},
     "product_metrics__invite_conversion_days is 0: it must be a whole number of days, at least 1."),
    ({"product_metrics__customer_conversion_window_days": -30},
     "product_metrics__customer_conversion_window_days is -30: it must be a whole number of days, at least 1."),
    ({"product_metrics__activation_window_days": True},
     "product_metrics__activation_window_days is true: it must be a whole number of days, at least 1."),
    ({"product_metrics__late_arrival_days": -1},
     "product_metrics__late_arrival_days is -1: it must be a whole number of days, 0 or more."),
    ({"product_metrics__north_star_min_core_actions": 0},
     "product_metrics__north_star_min_core_actions is 0: it must be a whole number of core actions, at least 1."),
    ({"product_metrics__latency_decimals": 10},
     "product_metrics__latency_decimals is 10: it must be a whole number from 0 to 9."),
    ({"product_metrics__gross_margin_rate": 0},
     "product_metrics__gross_margin_rate is 0: it must be a number above 0 and at most 1 (0.75 is a 75 % margin)."),
    ({"product_metrics__gross_margin_rate": 1.5},
     "product_metrics__gross_margin_rate is 1.5: it must be a number above 0 and at most 1 (0.75 is a 75 % margin)."),
    ({"product_metrics__reporting_timezone": "Mars/Olympus"},
     ("product_metrics__reporting_timezone is 'Mars/Olympus': it must be a time zone name of the IANA database, "
      "e.g. UTC or America/New_York.")),
    ({"product_metrics__active_event_names": ["page_view", ""]},
     ("product_metrics__active_event_names is ['page_view', '']: it must be a list of event names, e.g. "
      "['page_view', 'core_action'], or [] for every event (a name is non-empty text without quotes).")),
    ({"product_metrics__activation_event_name": ""},
     "product_metrics__activation_event_name is '': it must be an event name (non-empty text without quotes)."),
    ({"product_metrics__core_action_event_name": None},
     "product_metrics__core_action_event_name is null: it must be an event name (non-empty text without quotes)."),
    ({"product_metrics__bi_role": "BI Readers"},
     ("product_metrics__bi_role is 'BI Readers': it must be null (no grants) or a lower-case SQL identifier "
      "(letters, digits, _).")),
    ({"product_metrics__as_of_date": "2026-02-30"},
     ("product_metrics__as_of_date is '2026-02-30': it must be a date written YYYY-MM-DD, or null for the day "
      "after the latest event.")),
    ({"product_metrics__as_of_date": "2030-01-01"},
     ("product_metrics__as_of_date is '2030-01-01': it must be a date from 2026-02-02 to 2026-07-01 (the first day "
      "not counted; the events run from 2026-02-01 to 2026-06-30), or null for the day after the latest event.")),
    ({"product_metrics__as_of_date": "2026-02-01"},
     ("product_metrics__as_of_date is '2026-02-01': it must be a date from 2026-02-02 to 2026-07-01 (the first day "
      "not counted; the events run from 2026-02-01 to 2026-06-30), or null for the day after the latest event.")),
]

# Var product_metrics__experiments (macros/settings/validate_experiments.sql): one line naming the
# experiment (its id, or its place while it has no valid id), the key, the value and what is allowed.
EXPERIMENT = {"id": "larger_model", "hypothesis": "A larger model gets more suggestions accepted",
              "owner": {"name": "Ana Ruiz", "email": "ana@example.com"},
              "start_date": "2026-04-06", "end_date": "2026-05-03",
              "variations": [{"name": "control", "weight": 0.5}, {"name": "larger_model", "weight": 0.5}],
              "goal_metrics": ["pm_ai_acceptance_rate"]}


def _experiments(*changes: dict) -> dict:
    """Var product_metrics__experiments: one EXPERIMENT per mapping of changes (None drops the key)."""
    items = []
    for change in changes:
        item = {**EXPERIMENT, **change}
        items.append({key: value for key, value in item.items() if key not in change or change[key] is not None})
    return {"product_metrics__experiments": items}


CATALOG = ("pm_activation_rate, pm_active_user_days, pm_ai_acceptance_rate, pm_ai_correction_rate, "
           "pm_ai_cost_per_1k_suggestions_usd, pm_ai_hitl_rate, pm_ai_latency_ms_average, pm_ai_suggestions, "
           "pm_core_actions, pm_dormant_users, pm_events, pm_north_star_users, pm_nps, pm_orders, "
           "pm_product_activation_rate, pm_retention_rate, pm_revenue_usd")
EXPERIMENT_KEYS = ("id, hypothesis, owner, start_date, end_date, variations, goal_metrics, guardrail_metrics, "
                   "conversion_window_days, exposure_delay_hours, minimum_runtime_days, cuped_lookback_days, capping, "
                   "retention_week, alpha, correction, sequential_n_star")
PREFIX = "product_metrics__experiments[larger_model]"
REFUSED += [
    ({"product_metrics__experiments": {"id": "larger_model"}},
     ('product_metrics__experiments is {"id": "larger_model"}: it must be a list of experiments (keys: '
      "dbt_project.yml), or [] for none.")),
    ({"product_metrics__experiments": [EXPERIMENT, "larger_model"]},
     ("product_metrics__experiments[1] is 'larger_model': it must be an experiment: a mapping with keys id, "
      "hypothesis, owner, start_date, end_date, variations and goal_metrics.")),
    (_experiments({"id": "Larger-Model"}),
     "product_metrics__experiments[0].id is 'Larger-Model': it must be text of lower-case letters, digits and _ (required)."),
    (_experiments({"id": None}),
     "product_metrics__experiments[0].id is null: it must be text of lower-case letters, digits and _ (required)."),
    (_experiments({}, {}),
     ("product_metrics__experiments[1].id is 'larger_model': it must be unique: experiment 0 of the list has that "
      "id too.")),
    (_experiments({"guardrails": ["pm_nps"]}),
     f"{PREFIX}.guardrails is ['pm_nps']: it must be removed, or a key spelled as one of {EXPERIMENT_KEYS}."),
    (_experiments({"hypothesis": None}), f"{PREFIX}.hypothesis is null: it must be non-empty text (required)."),
    (_experiments({"owner": {"email": "ana@example.com"}}),
     (f'{PREFIX}.owner is {{"email": "ana@example.com"}}: it must be {{name: ..., email: ...}}: a non-empty name '
      "(required), an email or null.")),
    (_experiments({"start_date": "2026-02-30"}),
     f"{PREFIX}.start_date is '2026-02-30': it must be a date written YYYY-MM-DD (required)."),
    (_experiments({"end_date": None}), f"{PREFIX}.end_date is null: it must be a date written YYYY-MM-DD (required)."),
    (_experiments({"end_date": "2026-04-05"}),
     (f"{PREFIX}.end_date is '2026-04-05': it must be on or after start_date 2026-04-06 (the last day exposures "
      "count).")),
    (_experiments({"variations": [{"name": "control", "weight": 1}]}),
     (f'{PREFIX}.variations is [{{"name": "control", "weight": 1}}]: it must be a list of at least 2 variations, '
      "control first, each {name: ..., weight: ...}.")),
    (_experiments({"variations": [{"name": "control", "weight": 1.0}, {"name": "b", "weight": 0}]}),
     f"{PREFIX}.variations[1].weight is 0: it must be a number above 0 (its share of the traffic)."),
    (_experiments({"variations": [{"name": "control", "weight": 0.5}, {"name": "control", "weight": 0.5}]}),
     f"{PREFIX}.variations[1].name is 'control': it must be unique within the experiment."),
    (_experiments({"variations": [{"name": "control", "weight": 0.5}, {"name": "b", "weight": 0.4}]}),
     (f'{PREFIX}.variations is [{{"name": "control", "weight": 0.5}}, {{"name": "b", "weight": 0.4}}]: it must be '
      "weights summing to 1 (these sum to 0.9).")),
    (_experiments({"goal_metrics": []}),
     f"{PREFIX}.goal_metrics is []: it must be a non-empty list of metrics of experiment_metric_catalog ({CATALOG})."),
    (_experiments({"goal_metrics": ["pm_ai_latency_p90_ms"]}),
     (f"{PREFIX}.goal_metrics is ['pm_ai_latency_p90_ms']: it must be a non-empty list of metrics of "
      f"experiment_metric_catalog ({CATALOG}).")),
    (_experiments({"guardrail_metrics": ["pm_cac_usd"]}),
     (f"{PREFIX}.guardrail_metrics is ['pm_cac_usd']: it must be null (the goal metrics' governance guardrails) or "
      f"a list of metrics of experiment_metric_catalog ({CATALOG}).")),
    (_experiments({"conversion_window_days": 0}),
     f"{PREFIX}.conversion_window_days is 0: it must be a whole number of days from 1 to 365."),
    (_experiments({"exposure_delay_hours": 1.5}),
     f"{PREFIX}.exposure_delay_hours is 1.5: it must be a whole number of hours from 0 to 720."),
    (_experiments({"minimum_runtime_days": 366}),
     f"{PREFIX}.minimum_runtime_days is 366: it must be a whole number of days from 1 to 365."),
    (_experiments({"cuped_lookback_days": -1}),
     f"{PREFIX}.cuped_lookback_days is -1: it must be a whole number of days (0 = no CUPED) from 0 to 365."),
    (_experiments({"retention_week": 0}), f"{PREFIX}.retention_week is 0: it must be a whole number of weeks from 1 to 52."),
    (_experiments({"capping": {"type": "percentile", "value": 1}}),
     (f'{PREFIX}.capping is {{"type": "percentile", "value": 1}}: it must be null, {{type: absolute, value: a number '
      "above 0} or {type: percentile, value: a number between 0 and 1, e.g. 0.99}.")),
    (_experiments({"capping": {"type": "winsorize", "value": 50}}),
     (f'{PREFIX}.capping is {{"type": "winsorize", "value": 50}}: it must be null, {{type: absolute, value: a number '
      "above 0} or {type: percentile, value: a number between 0 and 1, e.g. 0.99}.")),
    (_experiments({"alpha": 0}), f"{PREFIX}.alpha is 0: it must be a number above 0 and at most 0.5 (default 0.05)."),
    (_experiments({"alpha": 0.51}), f"{PREFIX}.alpha is 0.51: it must be a number above 0 and at most 0.5 (default 0.05)."),
    (_experiments({"correction": "bonferroni"}),
     f"{PREFIX}.correction is 'bonferroni': it must be holm or benjamini_hochberg (default holm)."),
    (_experiments({"sequential_n_star": -5000}),
     (f"{PREFIX}.sequential_n_star is -5000: it must be null (a fixed horizon) or a number above 0 (sequential "
      "testing, e.g. 5000).")),
]

# Values at the edges of what is allowed, run after the refused ones: the last builds the model.
ACCEPTED = [
    {"product_metrics__late_arrival_days": 0, "product_metrics__latency_decimals": 9,
     "product_metrics__gross_margin_rate": 1, "product_metrics__mau_window_days": "28",
     "product_metrics__as_of_date": "2026-02-02", "product_metrics__reporting_timezone": "America/New_York",
     "product_metrics__bi_role": None, "product_metrics__active_event_names": "page_view"},
    {"product_metrics__as_of_date": "2026-07-01"},
    _experiments({"id": "a1", "owner": {"name": "Ana"}, "start_date": "2026-04-06", "end_date": "2026-04-06",
                  "variations": [{"name": "a", "weight": 0.3}, {"name": "b", "weight": 0.3}, {"name": "c", "weight": 0.4}],
                  "goal_metrics": ["pm_orders", "pm_orders"], "guardrail_metrics": [], "conversion_window_days": 365,
                  "exposure_delay_hours": 720, "minimum_runtime_days": 1, "cuped_lookback_days": 0, "retention_week": 52,
                  "capping": {"type": "percentile", "value": 0.99}, "alpha": 0.5, "correction": "benjamini_hochberg",
                  "sequential_n_star": 1},
                 {"id": "a_2", "guardrail_metrics": None, "capping": {"type": "absolute", "value": 0.01}}),
]

# One parse, then `dbt run -s <MARKED_MODEL>` per vars; prints one JSON line per run with the
# models it ran (hooks are left out).
BATCH = """
import json, sys
from dbt.cli.main import dbtRunner

target_path, model, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
parsed = dbtRunner().invoke(["parse", "--quiet", "--target-path", target_path])
assert parsed.success, parsed.exception
for case in cases:
    messages = []
    def keep(event):
        if event.info.level in ("error", "warn"):
            messages.append(event.info.msg)
    run = dbtRunner(manifest=parsed.result, callbacks=[keep]).invoke(
        ["run", "-s", model, "--quiet", "--target-path", target_path, "--vars", json.dumps(case)])
    nodes = [r.node.unique_id for r in (run.result.results if run.result is not None else [])
             if r.node.resource_type == "model"]
    print(json.dumps({"success": run.success, "messages": messages, "nodes_run": nodes}))
"""


def _marker_rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from metrics.{MARKED_MODEL} where month_start = ?",
                           [MARKER_MONTH]).fetchone()[0]


@pytest.fixture(scope="module")
def warehouse(clean_demo_warehouse, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("settings") / "warehouse.duckdb"
    shutil.copy(clean_demo_warehouse, path)
    return path


@pytest.fixture(scope="module")
def batch(warehouse, tmp_path_factory) -> dict:
    """Every refused then every accepted vars, on a warehouse whose MARKED_MODEL table holds a row
    no build would write: it is still there after the refused runs, gone after the accepted ones."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"insert into metrics.{MARKED_MODEL} (month_start) values (?)", [MARKER_MONTH])
    cases = [refused for refused, _ in REFUSED]
    cases_json = json.dumps(cases)
    project = Project(root=DEMO_PROJECT, duckdb_path=warehouse)
    target = tmp_path_factory.mktemp("settings_target")
    refused_runs = _run_batch(project, target, cases_json)
    marker_after_refused = _marker_rows(warehouse)
    accepted_runs = _run_batch(project, target, json.dumps(ACCEPTED))
    return {"refused": refused_runs, "accepted": accepted_runs, "marker_after_refused": marker_after_refused,
            "marker_after_accepted": _marker_rows(warehouse)}


def _run_batch(project: Project, target: Path, cases_json: str) -> list[dict]:
    env = project.dbt_env()
    install_packages(project, env)
    done = subprocess.run([sys.executable, "-c", BATCH, str(target), MARKED_MODEL, cases_json], cwd=project.root,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"success"')]


@pytest.mark.parametrize(("index", "line"), [(i, line) for i, (_, line) in enumerate(REFUSED)],
                         ids=[next(iter(refused)).removeprefix("product_metrics__") + "=" + repr(next(iter(
                             refused.values()))) for refused, _ in REFUSED])
def test_a_wrong_var_is_refused_with_one_line_and_nothing_built(batch, index, line):
    run = batch["refused"][index]
    assert not run["success"] and run["nodes_run"] == []
    message_lines = [text.strip() for message in run["messages"] for text in message.splitlines()]
    assert line in message_lines, run["messages"]
    # Exactly one line names a var: the refused one.
    assert [text for text in message_lines if "product_metrics__" in text] == [line]
    assert batch["marker_after_refused"] == 1


def test_values_at_the_edges_are_accepted_and_build(batch):
    """The control: the same runs with allowed values do build the model (the marker row is gone)."""
    assert [run["success"] for run in batch["accepted"]] == [True] * len(ACCEPTED), batch["accepted"]
    assert all(run["nodes_run"] == [f"model.product_metrics.{MARKED_MODEL}.v1"] for run in batch["accepted"])
    assert batch["marker_after_accepted"] == 0


def _metrics_checksums(path: Path) -> dict[str, tuple]:
    """Each metrics table's row count and an order-independent hash of its rows."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'metrics' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
        return {name: con.execute(f'select count(*), sum(hash(t)) from metrics."{name}" as t').fetchone()
                for name in tables}


def test_refresh_as_of_before_the_data_is_refused_and_changes_nothing(warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, path)
    before = _metrics_checksums(path)
    assert len(before) > 10 and all(count > 0 for count, _ in before.values())
    cli = Path(sys.executable).with_name("product-metrics")
    env = {**Project(root=DEMO_PROJECT, duckdb_path=path).dbt_env(), "COLUMNS": "400"}
    done = subprocess.run([str(cli), "refresh", "--as-of", "1900-01-01"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert ("product_metrics__as_of_date is '1900-01-01': it must be a date from 2026-02-02 to 2026-07-01 (the "
            "first day not counted; the events run from 2026-02-01 to 2026-06-30)") in output
    assert "Traceback" not in output and "failed nodes" not in output and "run_results.json" not in output
    assert _metrics_checksums(path) == before


def test_without_raw_events_the_hook_checks_the_vars_and_the_missing_input_stops_the_model(tmp_path):
    """Before the raw events exist (a host's models not built yet) the as-of date cannot be checked
    against them: the hook passes, and the base model that reads a missing input stops the run."""
    path = tmp_path / "warehouse.duckdb"
    project = Project(root=DEMO_PROJECT, duckdb_path=path)
    run = run_dbt(project, ["run", "-s", "base_raw__users"], vars={"product_metrics__as_of_date": "1900-01-01"})
    assert not run.success
    assert [r.unique_id for r in run.failed_nodes()] == ["model.product_metrics.base_raw__users"]
    assert [line for line in run.error_summary() if "product_metrics" in line] == [
        ('product_metrics: raw input users not found: "warehouse"."raw"."users" (vars product_metrics__raw_schema, '
        "product_metrics__users_identifier). Create it or point product_metrics__users_relation at your model.")]
    # The vars themselves are still checked first.
    refused = run_dbt(project, ["run", "-s", "base_raw__users"], vars={"product_metrics__as_of_date": "1900-02-30"})
    assert not refused.success and refused.results == []
    assert refused.error_summary() == [("product_metrics__as_of_date is '1900-02-30': it must be a date written "
                                       "YYYY-MM-DD, or null for the day after the latest event.")]


def test_an_event_name_absent_from_the_data_is_a_warning(warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, path)
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path), ["run", "-s", "stg_raw__users"], vars={
        "product_metrics__active_event_names": ["page_view", "page_veiw"],
        "product_metrics__activation_event_name": "signup_done"})
    assert run.success, run.error_lines
    assert [line.split(",")[0] for line in run.warning_lines] == [
        "product_metrics__active_event_names names event 'page_veiw'",
        "product_metrics__activation_event_name names event 'signup_done'"]
    assert all("never occurs in" in line and "raw" in line for line in run.warning_lines)
