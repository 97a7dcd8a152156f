"""dbt model governance in `product-metrics governance check`: groups with owners, access, contracts
and versions (rules model_group, model_access, model_contract, model_version), each broken by one
change to the good fixture manifests; and versioned unique ids (`model.<project>.fct_x.v1`) read
everywhere the registry is used."""

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
from product_metrics.governance.definitions import Decisions, definition_parts
from product_metrics.governance.rules import check

TODAY = dt.date.fromisoformat(fx.TODAY)
MARTS_YML = "models/marts/_marts__models.yml"
runner = CliRunner()


@pytest.fixture
def good():
    return fx.load_good()


def run(manifest, semantic):
    return check(fx.registry(manifest, semantic), today=TODAY)


def only(result, rule, subject, field):
    """The single violation of the check: `rule` on `subject` and `field`."""
    assert [(v.rule, v.subject, v.field) for v in result.violations] == [(rule, subject, field)], result.violations
    return result.violations[0]


def unversion(manifest: dict, name: str) -> dict:
    """Make model `name` unversioned, as dbt writes a model without `versions:` (id without `.v1`)."""
    unique_id = next(key for key, node in manifest["nodes"].items() if node["name"] == name)
    node = manifest["nodes"].pop(unique_id)
    node.pop("version"), node.pop("latest_version")
    manifest["nodes"][f"model.{fx.PROJECT}.{name}"] = node
    for entry in [*manifest["nodes"].values(), *manifest["semantic_models"].values(), *manifest["exposures"].values()]:
        nodes = entry.get("depends_on", {}).get("nodes", [])
        entry["depends_on"]["nodes"] = [f"model.{fx.PROJECT}.{name}" if n == unique_id else n for n in nodes]
    return node


# --- the good fixture -----------------------------------------------------------------------------

def test_the_good_fixture_governs_every_model(good):
    registry = fx.registry(*good)
    result = check(registry, today=TODAY)
    assert result.ok, result.violations
    assert result.models == 5
    marts = sorted(m.unique_id for m in registry.models.values() if m.is_mart)
    assert marts == [f"model.{fx.PROJECT}.{name}.v1"
                     for name in ("fct_engagement_daily", "fct_nps_monthly", "fct_revenue_monthly")]
    nps = registry.model_named("fct_nps_monthly")
    assert (nps.group, nps.access, nps.contract_enforced, nps.version, nps.latest_version, nps.alias) == (
        "customer_insights", "public", True, 1, 1, "fct_nps_monthly")
    assert nps.untyped_columns == () and nps.versioned_name == "fct_nps_monthly"
    staging = registry.model_named("stg_daily_activity")
    assert (staging.is_mart, staging.group, staging.access, staging.version) == (
        False, "data_platform", "protected", None)
    assert registry.groups["customer_insights"].owner_email == "customer-insights@example.com"


def test_check_cli_counts_the_models(good, tmp_path):
    directory = fx.write(tmp_path / "good", *good)
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(directory), "--today", fx.TODAY],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "(3 metric tables, 5 models, 2 exposures checked)" in result.output


# --- model_access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("access", ["protected", "private", None])
def test_a_metric_table_that_is_not_public_fails(good, access):
    manifest, semantic = good
    fx.model(manifest, "fct_nps_monthly")["access"] = access
    violation = only(run(manifest, semantic), "model_access", "model fct_nps_monthly", "access")
    assert violation.problem == f"a metric table is {access or 'protected'}, not public: other projects cannot ref it"
    assert "+access: public" in violation.fix


def test_a_public_model_outside_the_marts_fails(good):
    manifest, semantic = good
    fx.model(manifest, "stg_daily_activity")["access"] = "public"
    violation = only(run(manifest, semantic), "model_access", "model stg_daily_activity", "access")
    assert violation.problem.startswith("only metric tables (models/marts/) are public")
    assert violation.fix.startswith("make it protected or private")


# --- model_contract ---------------------------------------------------------------------------------

@pytest.mark.parametrize("contract", [{"enforced": False}, None])
def test_a_metric_table_without_an_enforced_contract_fails(good, contract):
    manifest, semantic = good
    node = fx.model(manifest, "fct_revenue_monthly")
    node.pop("contract") if contract is None else node.update(contract=contract)
    violation = only(run(manifest, semantic), "model_contract", "model fct_revenue_monthly", "contract")
    assert violation.problem.startswith("the contract is not enforced")
    assert violation.fix == (f"set config: contract: {{enforced: true}} and a data_type on every column ({MARTS_YML})")


def test_a_contracted_column_without_a_data_type_fails(good):
    manifest, semantic = good
    columns = fx.model(manifest, "fct_revenue_monthly")["columns"]
    columns["refund_rate"]["data_type"] = None
    del columns["orders"]["data_type"]
    violation = only(run(manifest, semantic), "model_contract", "model fct_revenue_monthly", "columns.data_type")
    assert violation.problem == "columns without a data_type: orders, refund_rate"
    assert violation.fix.endswith(MARTS_YML)


def test_an_uncontracted_model_outside_the_marts_passes(good):
    manifest, semantic = good
    fx.model(manifest, "stg_daily_activity").pop("contract", None)
    fx.model(manifest, "stg_daily_activity")["columns"] = {"dau": {"name": "dau"}}
    assert run(manifest, semantic).ok


# --- model_group --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fct_engagement_daily", "stg_daily_activity", "time_spine_daily"])
def test_a_model_without_a_group_fails(good, name):
    manifest, semantic = good
    fx.model(manifest, name)["group"] = None
    violation = only(run(manifest, semantic), "model_group", f"model {name}", "group")
    assert violation.problem == "the model belongs to no group: nobody answers for it"
    assert violation.fix == "assign it a group of models/_groups.yml (dbt_project.yml: +group: <group> on its folder)"


@pytest.mark.parametrize(("owner", "problem"), [
    ({"name": "Finance Analytics"}, "the owner has no email: nobody to ask about its models"),
    ({"email": "finance-analytics@example.com"}, "the owner has no name: nobody to ask about its models"),
])
def test_a_group_owner_without_name_or_email_fails(good, owner, problem):
    manifest, semantic = good
    manifest["groups"][f"group.{fx.PROJECT}.finance_analytics"]["owner"] = owner
    violation = only(run(manifest, semantic), "model_group", "group finance_analytics", "owner")
    assert violation.problem == problem
    assert "models/_groups.yml" in violation.fix


# --- model_version ----------------------------------------------------------------------------------

def test_an_unversioned_metric_table_fails(good):
    manifest, semantic = good
    unversion(manifest, "fct_engagement_daily")
    violation = only(run(manifest, semantic), "model_version", "model fct_engagement_daily", "versions")
    assert violation.problem.startswith("the metric table has no version")
    assert violation.fix == ("add latest_version: 1 and versions: [{v: 1, defined_in: fct_engagement_daily, config: "
                             "{alias: fct_engagement_daily}}] in models/marts/_marts__models.yml (the alias keeps the "
                             "relation name)")


def test_the_check_cli_names_model_field_and_fix(good, tmp_path):
    manifest, semantic = good
    fx.model(manifest, "fct_nps_monthly")["access"] = "protected"
    unversion(manifest, "fct_revenue_monthly")
    directory = fx.write(tmp_path / "bad", manifest, semantic)
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(directory), "--today", fx.TODAY],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    for text in ("model fct_nps_monthly", "access", "set access: public", "model_access",
                 "model fct_revenue_monthly", "versions", "add latest_version: 1", "model_version"):
        assert text in result.output
    assert "2 problems in 2" in result.output


# --- versioned unique ids -------------------------------------------------------------------------

def add_version_2(manifest: dict, name: str, raw_code: str) -> dict:
    """A second version of `name`, now the latest (its own SQL file and relation `<name>_v2`)."""
    v1 = fx.model(manifest, name)
    v2 = {**copy.deepcopy(v1), "version": 2, "alias": f"{name}_v2", "raw_code": raw_code,
          "original_file_path": f"models/marts/{name}_v2.sql"}
    for node in manifest["nodes"].values():
        if node["name"] == name:
            node["latest_version"] = 2
    v2["latest_version"] = 2
    manifest["nodes"][f"model.{fx.PROJECT}.{name}.v2"] = v2
    for entry in [*manifest["semantic_models"].values(), *manifest["exposures"].values()]:  # ref() is v2 now
        nodes = entry["depends_on"]["nodes"]
        entry["depends_on"]["nodes"] = [f"model.{fx.PROJECT}.{name}.v2" if n == f"model.{fx.PROJECT}.{name}.v1"
                                        else n for n in nodes]
    return v2


def test_a_second_version_is_governed_and_lives_in_reads_the_latest(good):
    manifest, semantic = good
    add_version_2(manifest, "fct_nps_monthly", "select 1 as nps")
    registry = fx.registry(manifest, semantic)
    latest = registry.model_named("fct_nps_monthly")
    assert (latest.unique_id, latest.alias, latest.versioned_name) == (
        f"model.{fx.PROJECT}.fct_nps_monthly.v2", "fct_nps_monthly_v2", "fct_nps_monthly")
    assert registry.models[f"model.{fx.PROJECT}.fct_nps_monthly.v1"].versioned_name == "fct_nps_monthly.v1"
    assert check(registry, today=TODAY).ok

    fx.model(manifest, "fct_nps_monthly")["access"] = "protected"  # the latest version only
    violation = only(run(manifest, semantic), "model_access", "model fct_nps_monthly", "access")
    assert "protected" in violation.problem
    manifest["nodes"][f"model.{fx.PROJECT}.fct_nps_monthly.v1"]["group"] = None
    result = run(manifest, semantic)
    assert [(v.rule, v.subject) for v in result.violations] == [
        ("model_group", "model fct_nps_monthly.v1"), ("model_access", "model fct_nps_monthly")]


def test_giving_a_table_a_version_is_not_a_definition_change(good):
    previous = copy.deepcopy(good)
    unversion(previous[0], "fct_nps_monthly")  # the manifest before the table had versions
    current_parts = definition_parts(fx.registry(*good), "nps")
    assert "model fct_nps_monthly" in current_parts
    assert current_parts == definition_parts(fx.registry(*previous), "nps")
    result = check(fx.registry(*good), today=TODAY, previous=fx.registry(*previous), decisions=Decisions(""))
    assert result.ok, result.violations


def test_a_new_latest_version_with_other_sql_is_a_definition_change(good):
    previous = copy.deepcopy(good)
    manifest, semantic = good
    add_version_2(manifest, "fct_nps_monthly",
                  fx.model(manifest, "fct_nps_monthly")["raw_code"].replace("100.0 *", "-100.0 *"))
    result = check(fx.registry(manifest, semantic), today=TODAY, previous=fx.registry(*previous),
                   decisions=Decisions(""))
    # ref('fct_nps_monthly') is v2 now: every metric of the semantic model nps_months reads other SQL.
    changed = [v for v in result.violations if v.rule == "unversioned_change"]
    assert [v.subject for v in changed] == ["detractors", "nps", "nps_responses", "promoters"]
    assert all("model fct_nps_monthly" in v.problem for v in changed)


def test_an_exposure_on_a_versioned_table_sees_its_deprecated_metric(good):
    manifest, semantic = good
    exposure = manifest["exposures"][f"exposure.{fx.PROJECT}.finance_dashboard"]
    assert f"model.{fx.PROJECT}.fct_revenue_monthly.v1" in exposure["depends_on"]["nodes"]
    fx.governance(manifest, "refund_rate")["status"] = "deprecated"
    problems = [v.problem for v in run(manifest, semantic).violations
                if v.rule == "deprecated_dependency" and v.subject == "exposure finance_dashboard"]
    assert problems == ["reads table fct_revenue_monthly, which holds deprecated metric refund_rate"]
