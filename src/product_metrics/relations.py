"""Where the package's tables are, as dbt built them: read from the manifest, never assumed.

In the demo project the custom schemas are exact (`metrics`, `audit`, ...); in a user's project
dbt's default generate_schema_name makes them `<target schema>_metrics`, `<target schema>_audit`,
and a raw input may be one of the user's own models (var product_metrics__<table>_relation) or a
table in another schema (product_metrics__raw_schema / _identifier). The manifest says which:

- the relation of each product_metrics model, by model name (nodes with package_name
  product_metrics; of a versioned model, its latest version);
- the schema of the metric tables (models/marts/, logical name `metrics`), of the audit tables
  (models/audit/, `audit`: Python writes dq_results and metric_alerts next to rejected_rows), of
  staging and of intermediate;
- the relation each raw input was read from: what base_raw__<table> depends on (a source, or a
  model or seed of the user's project);
- the incremental models and their refresh-window configs (refresh_window_column, _grain, _state,
  _reach_days; macros/incremental/refresh_window.sql), and which of them have data tests that an
  incremental refresh windows (a test with the argument refresh_window_date).

A command that is part of a run (build, refresh) reads the manifest of its dbt run; a command on
its own runs `dbt parse` (once per process) with the project's profile, target and vars.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from product_metrics.errors import UserError
from product_metrics.warehouse import quote

PACKAGE = "product_metrics"
MANIFEST = "manifest.json"
# experiment_exposures is optional: its base model reads no rows when the table does not exist.
RAW_TABLES = ("users", "events", "orders", "marketing_spend", "nps_responses", "invites", "ai_suggestions",
              "model_predictions", "experiment_exposures")
# Logical schema name -> the package folder whose models define it (dbt_project.yml's +schema).
LAYERS = {"metrics": "models/marts/", "audit": "models/audit/", "staging": "models/staging/",
          "intermediate": "models/intermediate/"}
# The demo project's exact schemas: what code reads when no manifest is given (and no project exists).
DEFAULT_SCHEMAS = {name: name for name in LAYERS}


class RelationsError(UserError):
    """The manifest does not say where a table is; the message names the fix."""


@dataclass(frozen=True)
class Relation:
    database: str | None
    schema: str
    identifier: str
    relation_name: str | None = None  # as dbt renders it, database included (adapter quoting)

    @property
    def sql(self) -> str:
        """`"schema"."identifier"`: the name within the connected database (the DuckDB file's catalog
        is its file name, which a copy of the warehouse keeps; PostgreSQL connects to one database)."""
        return f"{quote(self.schema)}.{quote(self.identifier)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.identifier}"


@dataclass(frozen=True)
class IncrementalModel:
    """An incremental product_metrics model and its refresh-window configs, as the manifest has them."""

    relation: Relation
    column: str  # refresh_window_column: the model's date column
    grain: str = "day"  # refresh_window_grain: "week" when the column holds the week's Monday
    state: str | None = None  # refresh_window_state: what says how far the model was derived (default: column)
    reach_days: int = 0  # refresh_window_reach_days
    windowed_tests: bool = False  # some of its data tests window on refresh_window_date


@dataclass(frozen=True)
class Relations:
    """The relations of one manifest (see the module docstring)."""

    models: Mapping[str, Relation] = field(default_factory=dict)  # product_metrics model name -> relation
    schemas: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SCHEMAS))  # logical -> built
    raw_inputs: Mapping[str, Relation] = field(default_factory=dict)  # raw table name -> relation read
    incremental: Mapping[str, IncrementalModel] = field(default_factory=dict)  # model name -> its window configs
    source: str = ""  # the manifest's directory ("" for the defaults)

    @classmethod
    def default(cls) -> Relations:
        """The demo project's layout (exact schemas, raw tables in `raw`), for code given no manifest."""
        return cls(raw_inputs={name: Relation(None, "raw", name) for name in RAW_TABLES})

    @property
    def metrics_schema(self) -> str:
        return self.schemas["metrics"]

    @property
    def audit_schema(self) -> str:
        return self.schemas["audit"]

    @property
    def staging_schema(self) -> str:
        return self.schemas["staging"]

    @property
    def intermediate_schema(self) -> str:
        return self.schemas["intermediate"]

    def model(self, name: str) -> Relation:
        """The relation of product_metrics model `name`; without a manifest, `metrics.<name>` for a metric table."""
        if name in self.models:
            return self.models[name]
        if not self.source:
            return Relation(None, self.metrics_schema, name)
        raise RelationsError(f"{self.source}/{MANIFEST} has no product_metrics model {name!r}: is the package "
                             "installed (`dbt deps`) and the model enabled?")

    def table(self, logical: str) -> str:
        """`metrics.fct_x` / `audit.dq_results` (logical names) -> `main_metrics.fct_x` as built."""
        schema, _, name = logical.partition(".")
        if not name:
            return logical
        if name in self.models and schema in LAYERS:
            return str(self.models[name])
        return f"{self.schemas.get(schema, schema)}.{name}"

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], source: str = "") -> Relations:
        nodes = manifest.get("nodes") or {}
        package_models = [node for node in nodes.values()
                          if node.get("package_name") == PACKAGE and node.get("resource_type") == "model"]
        models: dict[str, Relation] = {}
        for node in sorted(package_models, key=_version_order):  # the latest version last: it wins
            models[node["name"]] = _node_relation(node)
        schemas = dict(DEFAULT_SCHEMAS)
        for layer, folder in LAYERS.items():
            built = sorted({node["schema"] for node in package_models
                            if str(node.get("original_file_path") or "").replace("\\", "/").startswith(folder)})
            if built:
                schemas[layer] = built[0]
        raw_inputs = {}
        for table in RAW_TABLES:
            base = next((n for n in package_models if n["name"] == f"base_raw__{table}"), None)
            if base is not None and (relation := _raw_input(base, manifest)) is not None:
                raw_inputs[table] = relation
        return cls(models=models, schemas=schemas, raw_inputs=raw_inputs, source=source,
                   incremental=_incremental_models(package_models, nodes))

    @classmethod
    def load(cls, directory: Path) -> Relations:
        path = Path(directory) / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise RelationsError(f"Cannot read {path} ({type(error).__name__}): run `dbt parse` or "
                                 "`product-metrics build` first.") from None
        return cls.from_manifest(manifest, source=str(directory))


def _version_order(node: Mapping[str, Any]) -> tuple:
    version, latest = node.get("version"), node.get("latest_version")
    return (version is not None and latest is not None and str(version) == str(latest), str(version or ""))


def _node_relation(node: Mapping[str, Any]) -> Relation:
    return Relation(node.get("database"), node["schema"], node.get("alias") or node.get("identifier") or node["name"],
                    node.get("relation_name"))


def _raw_input(base: Mapping[str, Any], manifest: Mapping[str, Any]) -> Relation | None:
    """What base_raw__<table> read: of the sources and the user's models and seeds it depends on,
    the one its compiled SQL names (a run's manifest); in a parse's manifest, the only one, else the
    relation handed over (var product_metrics__<table>_relation: a model or seed) over the source."""
    candidates: list[tuple[str, Mapping[str, Any]]] = []
    for unique_id in (base.get("depends_on") or {}).get("nodes") or ():
        node = (manifest.get("sources") or {}).get(unique_id) or (manifest.get("nodes") or {}).get(unique_id)
        kind = (node or {}).get("resource_type")
        # The package's own models it reads (stg_raw__users, to find unknown users) are not inputs.
        if kind == "source" or (kind in ("model", "seed", "snapshot") and node.get("package_name") != PACKAGE):
            candidates.append((unique_id, node))
    if not candidates:
        return None
    compiled = _normalised(base.get("compiled_code") or "")
    if compiled:
        named = [node for _, node in candidates
                 if node.get("relation_name") and _normalised(node["relation_name"]) in compiled]
        if len(named) == 1:
            return _node_relation(named[0])
    if len(candidates) == 1:
        return _node_relation(candidates[0][1])
    handed_over = [node for _, node in candidates if node.get("resource_type") != "source"]
    return _node_relation((handed_over or [candidates[0][1]])[0])


def _incremental_models(package_models: list[Mapping[str, Any]], nodes: Mapping[str, Any]
                        ) -> dict[str, IncrementalModel]:
    windowed = {test.get("attached_node") for test in nodes.values() if test.get("resource_type") == "test"
                and "refresh_window_date" in ((test.get("test_metadata") or {}).get("kwargs") or {})}
    incremental = {}
    for node in package_models:
        config = node.get("config") or {}
        if config.get("materialized") != "incremental" or not config.get("refresh_window_column"):
            continue
        incremental[node["name"]] = IncrementalModel(
            _node_relation(node), config["refresh_window_column"], config.get("refresh_window_grain") or "day",
            config.get("refresh_window_state"), int(config.get("refresh_window_reach_days") or 0),
            windowed_tests=node["unique_id"] in windowed)
    return incremental


def _normalised(sql: str) -> str:
    return sql.replace('"', "").replace("`", "").lower()


# --- the manifest of a command that is not part of a run ---------------------------------------

_PARSED: dict[tuple, Path] = {}


def parse_key(project) -> tuple:
    env = project.dbt_env()
    return (str(project.root), json.dumps(dict(project.vars), sort_keys=True, default=str),
            *(env.get(name, "") for name in ("DBT_PROFILES_DIR", "DBT_TARGET", "PRODUCT_METRICS_DUCKDB_PATH",
                                             "PRODUCT_METRICS_POSTGRES_SCHEMA", "PRODUCT_METRICS_PUBLISH_SUFFIX")))


def parsed_manifest_dir(project) -> Path:
    """A fresh `dbt parse` of the project (its profile, target, vars and warehouse) into a run
    directory of its own; parsed once per process. Raises RelationsError when dbt cannot parse."""
    key = parse_key(project)
    if key in _PARSED and (_PARSED[key] / MANIFEST).is_file():
        return _PARSED[key]
    from product_metrics.dbt import run_dbt

    run = run_dbt(project, ["parse"])
    if not run.success or not (run.target_path / MANIFEST).is_file():
        details = "\n".join(run.error_summary()[-5:] or run.error_lines[-5:])
        raise RelationsError(f"`dbt parse` failed in {project.root}, so the tables' locations are unknown: fix "
                             f"the project (`dbt parse` shows the error) and retry.\n{details}".rstrip())
    _PARSED[key] = run.target_path
    return run.target_path


def relations_for(project=None, manifest_dir: Path | None = None) -> Relations:
    """The relations of `manifest_dir` (a run's target path), else of a fresh parse of `project`,
    else (no project) the demo layout."""
    if manifest_dir is not None:
        return Relations.load(manifest_dir)
    if project is None:
        return Relations.default()
    return Relations.load(parsed_manifest_dir(project))
