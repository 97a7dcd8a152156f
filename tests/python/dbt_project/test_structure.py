"""dbt-project-evaluator's structure rules, read from the package's manifest.

Layers come from the model's name prefix (base_, stg_, int_, fct_), else from its folder, so a model
keeps its layer when its file moves. Base and staging models are one layer (staging): they alone
read sources. A model reads its own layer or earlier ones, never a later one. A staging model reads
only its own source table's models. The fan-out (direct children that are leaves of the DAG) and the
join count (direct parents) stay under dbt-project-evaluator's default thresholds, or the model is
in EXCEPTIONS with the reason it is built that way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT

BIN = Path(sys.executable).parent

# dbt-project-evaluator's defaults: models_fanout_threshold and too_many_joins_threshold
# (a model is flagged at the threshold or above).
FANOUT_THRESHOLD = 3
JOINS_THRESHOLD = 7

LAYERS = ("staging", "intermediate", "marts")
PREFIXES = {"base_": "staging", "stg_": "staging", "int_": "intermediate", "fct_": "marts"}
# Folders of models without a layer prefix. `semantic` holds the views the semantic layer reads;
# `audit` holds rejected_rows, an output for people, like the marts.
FOLDERS = {"staging": "staging", "intermediate": "intermediate", "semantic": "intermediate",
           "marts": "marts", "audit": "marts"}

_USERS_CHECK = ("reads the accepted users: a row of an unknown user or from before the user's signup is "
                "rejected (METRICS_SPEC section 1, reasons unknown_user and before_signup)")
EXCEPTIONS: dict[str, dict[str, str]] = {
    "staging_reads_other_source": {
        f"base_raw__{table}": _USERS_CHECK
        for table in ("events", "orders", "nps_responses", "invites", "ai_suggestions", "experiment_exposures")
    },
    "fan_out": {
        "int_reporting_cutoff": "the one definition of where the data ends: every model that stops at the "
                                "cutoff reads it instead of computing it again",
    },
    "too_many_joins": {
        "int_days_before_cutoff": "the time spine starts at the earliest date of every fact the semantic "
                                  "layer reads: it reads one minimum date from each",
        "fct_metric_values": "the long BI table: one union of every metric table and its segment models",
        "rejected_rows": "every raw table's rejects in one table: one union of the base models, one per raw table",
    },
}


def layer(node: dict) -> str | None:
    for prefix, name in PREFIXES.items():
        if node["name"].startswith(prefix):
            return name
    folders = Path(node["original_file_path"]).parts[:-1]
    return next((FOLDERS[folder] for folder in reversed(folders) if folder in FOLDERS), None)


def source_table(node: dict) -> str:
    """`stg_raw__events`, `base_raw__events` -> `raw__events`."""
    return node["name"].split("_", 1)[1]


def models_of(manifest: dict) -> dict[str, dict]:
    project = manifest["metadata"]["project_name"]
    return {uid: node for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node["package_name"] == project}


def violations(manifest: dict) -> dict[str, dict[str, str]]:
    """{rule: {model name: what is wrong}} for every rule, exceptions not applied."""
    models = models_of(manifest)
    found: dict[str, dict[str, str]] = {rule: {} for rule in
                                        ("no_layer", "reads_later_layer", "reads_source",
                                         "staging_reads_other_source", "fan_out", "too_many_joins")}
    for node in models.values():
        name, own = node["name"], layer(node)
        if own is None:
            found["no_layer"][name] = "no layer: name it base_/stg_/int_/fct_ or put it in a layer folder"
            continue
        parents = node["depends_on"]["nodes"]
        for parent_id in parents:
            if parent_id.startswith("source.") and own != "staging":
                found["reads_source"][name] = f"a {own} model reads source {parent_id}: read its staging model"
            parent = models.get(parent_id)
            if parent is None or layer(parent) is None:
                continue
            if LAYERS.index(layer(parent)) > LAYERS.index(own):
                found["reads_later_layer"][name] = f"a {own} model reads {parent['name']} ({layer(parent)})"
            elif own == "staging" == layer(parent) and source_table(parent) != source_table(node):
                found["staging_reads_other_source"][name] = f"reads {parent['name']}, another source's model"
        if len(parents) >= JOINS_THRESHOLD:
            found["too_many_joins"][name] = f"{len(parents)} parents (threshold {JOINS_THRESHOLD})"

    # A leaf: a model nothing else reads (tests, unit tests and analyses aside).
    def readers(uid: str) -> list[str]:
        return [child for child in manifest["child_map"].get(uid, [])
                if not child.startswith(("test.", "unit_test.", "analysis."))]

    for uid, node in models.items():
        leaves = sorted(models[child]["name"] for child in readers(uid) if child in models and not readers(child))
        if len(leaves) >= FANOUT_THRESHOLD:
            found["fan_out"][node["name"]] = f"{len(leaves)} leaf children: {', '.join(leaves)}"
    return found


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("structure")
    env = {**os.environ, "DBT_PROFILES_DIR": str(REPO_ROOT / "integration_tests"),
           "DBT_TARGET_PATH": str(target), "PRODUCT_METRICS_DUCKDB_PATH": str(target / "parse.duckdb")}
    result = subprocess.run([str(BIN / "dbt"), "parse", "--quiet"], cwd=REPO_ROOT, env=env,
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target / "manifest.json").read_text())


def test_the_package_follows_the_structure_rules(manifest):
    found = violations(manifest)
    unexcused = [f"{rule}: {model}: {problem}" for rule, models in found.items()
                 for model, problem in sorted(models.items()) if model not in EXCEPTIONS.get(rule, {})]
    assert not unexcused, ("models break dbt-project-evaluator's structure rules (fix the model, or add it "
                           "to EXCEPTIONS with the reason):\n" + "\n".join(unexcused))


def test_every_exception_is_still_needed(manifest):
    found = violations(manifest)
    stale = [f"{rule}: {model}" for rule, models in EXCEPTIONS.items() for model in models
             if model not in found[rule]]
    assert not stale, "these models no longer break the rule: remove them from EXCEPTIONS:\n" + "\n".join(stale)


def _manifest(*models: tuple[str, str, list[str]]) -> dict:
    """A minimal manifest: (name, folder, parent names; `source:x` for a source)."""
    def uid(name: str) -> str:
        return f"source.pkg.{name[7:]}" if name.startswith("source:") else f"model.pkg.{name}"

    nodes = {uid(name): {"name": name, "resource_type": "model", "package_name": "pkg",
                         "original_file_path": f"models/{folder}/{name}.sql",
                         "depends_on": {"nodes": [uid(p) for p in parents]}}
             for name, folder, parents in models}
    child_map: dict[str, list[str]] = {}
    for child, node in nodes.items():
        for parent in node["depends_on"]["nodes"]:
            child_map.setdefault(parent, []).append(child)
    return {"metadata": {"project_name": "pkg"}, "nodes": nodes, "child_map": child_map}


@pytest.mark.parametrize(("models", "rule", "model"), [
    ([("stg_a__x", "staging", ["int_y"]), ("int_y", "intermediate", [])], "reads_later_layer", "stg_a__x"),
    ([("int_y", "intermediate", ["fct_z"]), ("fct_z", "marts", [])], "reads_later_layer", "int_y"),
    # A file in another folder keeps its prefix's layer; a model without a prefix takes its folder's.
    ([("int_y", "semantic", ["summary"]), ("summary", "marts", [])], "reads_later_layer", "int_y"),
    ([("int_y", "intermediate", ["source:raw.x"])], "reads_source", "int_y"),
    ([("stg_a__x", "staging", ["stg_a__y"]), ("stg_a__y", "staging", [])], "staging_reads_other_source",
     "stg_a__x"),
    ([("helper", "misc", [])], "no_layer", "helper"),
    ([("int_y", "intermediate", []), *[(f"fct_{i}", "marts", ["int_y"]) for i in range(3)]], "fan_out", "int_y"),
    ([*[(f"stg_a__{i}", "staging", []) for i in range(7)],
      ("int_y", "intermediate", [f"stg_a__{i}" for i in range(7)])], "too_many_joins", "int_y"),
])
def test_each_rule_catches_its_break(models, rule, model):
    found = violations(_manifest(*models))
    assert model in found[rule]
    assert all(not flagged for other, flagged in found.items() if other != rule)


def test_the_rules_accept_a_well_layered_dag():
    found = violations(_manifest(
        ("base_a__x", "staging/a/base", ["source:a.x"]), ("stg_a__x", "staging/a", ["base_a__x"]),
        ("int_y", "intermediate", ["stg_a__x"]), ("fct_z", "marts", ["int_y", "stg_a__x"]),
        ("fct_w", "marts", ["int_y", "fct_z"])))
    assert not any(found.values()), found
