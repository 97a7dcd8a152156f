"""The metric registry as dbt wrote it: metrics, models (with their governance meta, group, access,
contract and version), groups, semantic models, macros and exposures, read from `manifest.json` and
`semantic_manifest.json`.

A versioned model is one node per version (`model.<project>.fct_x.v1`, name `fct_x`, version 1);
`Registry.model_named` finds a model by name and prefers its latest version.

Metric definitions (type, type_params, filter) come from the semantic manifest, MetricFlow's own
validated view; when a directory has no semantic_manifest.json, from manifest.json's metrics (both
are normalised the same way, so the two compare equal). Everything else comes from manifest.json.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from product_metrics.governance.contract import Governance, parse_governance

PACKAGE = "product_metrics"
MANIFEST = "manifest.json"
SEMANTIC_MANIFEST = "semantic_manifest.json"
# Node types whose SQL defines a metric's numbers (seeds and sources are data, not definitions).
DEFINING_RESOURCE_TYPES = ("model", "snapshot")


class ManifestError(RuntimeError):
    """Manifests that cannot be read; the message names the fix."""


def normalise(value: Any) -> Any:
    """Drop nulls and empty containers (recursively): the two manifests spell absent values differently."""
    if isinstance(value, Mapping):
        items = {key: normalise(item) for key, item in value.items()}
        return {key: item for key, item in sorted(items.items()) if item not in (None, [], {})}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    return value


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(normalise(value), sort_keys=True, default=str).encode()).hexdigest()


_SQL_TOKENS = re.compile(
    r"""(?P<keep>'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`)   # quoted text: kept as is
      |(?P<drop>--[^\n]*|/\*.*?\*/|\{\#.*?\#\})          # SQL and Jinja comments
      |(?P<space>\s+)""",
    re.VERBOSE | re.DOTALL,
)


def sql_fingerprint(raw_code: str) -> str:
    """A hash of a model's SQL that ignores comments and whitespace: a reworded comment or a
    reformat does not change a number, so it is not a definition change. Quoted text is kept."""

    def keep(match: re.Match[str]) -> str:
        if match.group("keep") is not None:
            return match.group("keep")
        return " "

    collapsed = " ".join(_SQL_TOKENS.sub(keep, raw_code).split())
    return hashlib.sha256(collapsed.encode()).hexdigest()


@dataclass(frozen=True)
class Metric:
    name: str
    unique_id: str
    label: str | None
    type: str
    description: str | None
    definition: Mapping[str, Any]  # normalised type, type_params, filter, time_granularity
    meta: Mapping[str, Any]
    input_metrics: tuple[str, ...]  # direct inputs, by name
    input_measures: tuple[str, ...]
    depends_on: tuple[str, ...]  # manifest unique ids
    path: str | None
    governance: Governance | None
    package: str = ""
    has_governance_meta: bool = False  # meta.governance is set (even if it is not a valid mapping)


@dataclass(frozen=True)
class Model:
    name: str
    unique_id: str
    resource_type: str
    schema: str | None
    alias: str
    fingerprint: str
    depends_on: tuple[str, ...]
    macros: tuple[str, ...]
    columns: tuple[str, ...]  # documented columns (may be empty: then nothing is known)
    meta: Mapping[str, Any]
    path: str | None
    package: str
    # dbt model governance (absent in manifests of snapshots and of older dbt versions).
    group: str | None = None
    access: str | None = None  # private | protected | public
    contract_enforced: bool = False
    untyped_columns: tuple[str, ...] = ()  # documented columns without a data_type
    version: int | str | None = None
    latest_version: int | str | None = None

    @property
    def governance(self) -> Any:
        return self.meta.get("governance")

    @property
    def listed_metrics(self) -> tuple[str, ...]:
        governance = self.governance
        metrics = governance.get("metrics") if isinstance(governance, Mapping) else None
        return tuple(m for m in metrics if isinstance(m, str)) if isinstance(metrics, list) else ()

    @property
    def is_latest(self) -> bool:
        """Unversioned, or the version `ref('<name>')` resolves to."""
        return self.version is None or self.latest_version is None or str(self.version) == str(self.latest_version)

    @property
    def versioned_name(self) -> str:
        """`fct_x` for an unversioned model or its latest version, `fct_x.v2` for any other version: a
        model keeps its name when it gains versions, so definitions compare across the change."""
        return self.name if self.is_latest else f"{self.name}.v{self.version}"

    @property
    def is_mart(self) -> bool:
        """A metric table: a model whose file lies under a `marts/` folder (models/marts/<domain>/)."""
        return self.resource_type == "model" and self.path is not None \
            and "marts" in PurePosixPath(self.path.replace("\\", "/")).parent.parts


@dataclass(frozen=True)
class Group:
    name: str
    unique_id: str
    owner_name: str | None
    owner_email: str | None
    path: str | None
    package: str = ""


@dataclass(frozen=True)
class SemanticModel:
    name: str
    unique_id: str
    model: str | None  # unique id of the dbt model it reads
    measures: Mapping[str, Mapping[str, Any]]  # normalised measure definitions
    agg_time_dimension: str | None


@dataclass(frozen=True)
class Macro:
    name: str
    unique_id: str
    package: str
    fingerprint: str
    macros: tuple[str, ...]


@dataclass(frozen=True)
class Exposure:
    name: str
    unique_id: str
    type: str | None
    label: str | None
    depends_on: tuple[str, ...]


@dataclass
class Registry:
    project_name: str
    metrics: dict[str, Metric] = field(default_factory=dict)  # by name
    models: dict[str, Model] = field(default_factory=dict)  # by unique id
    groups: dict[str, Group] = field(default_factory=dict)  # by name
    semantic_models: dict[str, SemanticModel] = field(default_factory=dict)  # by unique id
    macros: dict[str, Macro] = field(default_factory=dict)  # by unique id
    exposures: dict[str, Exposure] = field(default_factory=dict)  # by name
    source: str = ""

    def model_named(self, name: str) -> Model | None:
        """The model called `name` (lives_in names a model), as `ref('<name>')` resolves it: the root
        project's first, and of a versioned model its latest version."""
        matches = [m for m in self.models.values() if m.name == name and m.resource_type == "model"]
        matches.sort(key=lambda m: (m.package != self.project_name, not m.is_latest, m.unique_id))
        return matches[0] if matches else None

    def metric_by_id(self, unique_id: str) -> Metric | None:
        return next((m for m in self.metrics.values() if m.unique_id == unique_id), None)

    def tables_listing(self, metric_name: str) -> list[Model]:
        return sorted((m for m in self.models.values() if metric_name in m.listed_metrics), key=lambda m: m.name)

    def governed(self) -> list[Metric]:
        return [m for m in self.metrics.values() if m.governance is not None]

    @property
    def governed_package(self) -> str:
        """Whose metrics and models the rules are for: the product_metrics package when the manifest
        holds it (installed in a user's project, or the demo project), else the root project itself."""
        packages = {m.package for m in self.models.values()} | {m.package for m in self.metrics.values()}
        return PACKAGE if PACKAGE in packages else self.project_name

    def in_scope(self, item: Metric | Model) -> bool:
        """A metric or model the rules apply to: the governed package's, or any other project's that
        carries governance meta (a user's own metric opting in). Never every model of a user's project."""
        if item.package == self.governed_package:
            return True
        return item.has_governance_meta if isinstance(item, Metric) else item.governance is not None

    def scoped_metrics(self) -> list[Metric]:
        return [m for m in self.metrics.values() if self.in_scope(m)]


def _names(items: Any) -> list[str]:
    if isinstance(items, Mapping):
        items = [items]
    return [item["name"] for item in items or [] if isinstance(item, Mapping) and item.get("name")]


def input_names(definition: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(input metric names, input measure names) named by a metric's type_params."""
    params = definition.get("type_params") or {}
    metrics = _names(params.get("metrics")) + _names(params.get("numerator")) + _names(params.get("denominator"))
    cumulative = params.get("cumulative_type_params") or {}
    conversion = params.get("conversion_type_params") or {}
    metrics += _names(cumulative.get("metric"))
    metrics += _names(conversion.get("base_metric")) + _names(conversion.get("conversion_metric"))
    measures = _names(params.get("input_measures")) + _names(params.get("measure"))
    measures += _names(conversion.get("base_measure")) + _names(conversion.get("conversion_measure"))
    return list(dict.fromkeys(metrics)), list(dict.fromkeys(measures))


def _definition(entry: Mapping[str, Any]) -> dict[str, Any]:
    return normalise({key: entry.get(key) for key in ("type", "type_params", "filter", "time_granularity")})


def _meta(entry: Mapping[str, Any]) -> dict[str, Any]:
    meta = (entry.get("config") or {}).get("meta") or entry.get("meta") or {}
    return dict(meta) if isinstance(meta, Mapping) else {}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ManifestError(f"{path} does not exist: run `dbt parse` (or point at its target directory)") from error
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not valid JSON ({error}): regenerate it with `dbt parse`") from error


def load_registry(directory: Path) -> Registry:
    """Read `<directory>/manifest.json` and, when present, `<directory>/semantic_manifest.json`."""
    directory = Path(directory)
    manifest = _read_json(directory / MANIFEST)
    semantic_path = directory / SEMANTIC_MANIFEST
    semantic = _read_json(semantic_path) if semantic_path.is_file() else {}
    return build_registry(manifest, semantic, source=str(directory))


def build_registry(manifest: Mapping[str, Any], semantic: Mapping[str, Any] | None = None,
                   *, source: str = "") -> Registry:
    if "nodes" not in manifest or "metadata" not in manifest:
        raise ManifestError(f"{source or 'the manifest'} is not a dbt manifest.json (no nodes/metadata)")
    project = manifest["metadata"].get("project_name") or ""
    registry = Registry(project_name=project, source=source)
    semantic_metrics = {m["name"]: m for m in (semantic or {}).get("metrics", []) if m.get("name")}

    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") not in DEFINING_RESOURCE_TYPES:
            continue
        raw_code = node.get("raw_code")
        fingerprint = (sql_fingerprint(raw_code) if isinstance(raw_code, str)
                       else (node.get("checksum") or {}).get("checksum", ""))
        depends = node.get("depends_on") or {}
        config = node.get("config") or {}
        columns = node.get("columns") or {}
        registry.models[unique_id] = Model(
            name=node["name"], unique_id=unique_id, resource_type=node["resource_type"],
            schema=node.get("schema"), alias=node.get("alias") or node["name"], fingerprint=fingerprint,
            depends_on=tuple(depends.get("nodes") or ()), macros=tuple(depends.get("macros") or ()),
            columns=tuple(columns), meta=_meta(node),
            path=node.get("original_file_path"), package=node.get("package_name") or project,
            group=node.get("group") or config.get("group"), access=node.get("access") or config.get("access"),
            contract_enforced=bool((node.get("contract") or config.get("contract") or {}).get("enforced")),
            untyped_columns=tuple(name for name, column in columns.items()
                                  if not (isinstance(column, Mapping) and column.get("data_type"))),
            version=node.get("version"), latest_version=node.get("latest_version"))

    for unique_id, group in (manifest.get("groups") or {}).items():
        owner = group.get("owner") or {}
        registry.groups[group["name"]] = Group(
            name=group["name"], unique_id=unique_id, owner_name=owner.get("name"), owner_email=owner.get("email"),
            path=group.get("original_file_path"), package=group.get("package_name") or project)

    for unique_id, macro in (manifest.get("macros") or {}).items():
        registry.macros[unique_id] = Macro(
            name=macro["name"], unique_id=unique_id, package=macro.get("package_name") or "",
            fingerprint=sql_fingerprint(macro.get("macro_sql") or ""),
            macros=tuple((macro.get("depends_on") or {}).get("macros") or ()))

    for unique_id, model in (manifest.get("semantic_models") or {}).items():
        model_ids = [n for n in (model.get("depends_on") or {}).get("nodes") or () if n.startswith("model.")]
        default_time = (model.get("defaults") or {}).get("agg_time_dimension")
        measures = {
            measure["name"]: normalise({
                "agg": measure.get("agg"), "expr": measure.get("expr") or measure["name"],
                "agg_params": measure.get("agg_params"), "non_additive_dimension": measure.get("non_additive_dimension"),
                "agg_time_dimension": measure.get("agg_time_dimension") or default_time,
            })
            for measure in model.get("measures") or ()
        }
        registry.semantic_models[unique_id] = SemanticModel(
            name=model["name"], unique_id=unique_id, model=model_ids[0] if model_ids else None,
            measures=measures, agg_time_dimension=default_time)

    for unique_id, entry in (manifest.get("metrics") or {}).items():
        name = entry["name"]
        definition_entry = semantic_metrics.get(name, entry)
        definition = _definition(definition_entry)
        input_metrics, input_measures = input_names(definition)
        depends_on = tuple((entry.get("depends_on") or {}).get("nodes") or ())
        input_metrics += [n.split(".")[-1] for n in depends_on
                          if n.startswith("metric.") and n.split(".")[-1] not in input_metrics]
        meta = _meta(entry) or _meta(definition_entry)
        registry.metrics[name] = Metric(
            name=name, unique_id=unique_id, label=entry.get("label"), type=entry.get("type") or "",
            description=entry.get("description"), definition=definition, meta=meta,
            input_metrics=tuple(input_metrics), input_measures=tuple(input_measures), depends_on=depends_on,
            path=entry.get("original_file_path"), governance=parse_governance(name, meta.get("governance")),
            package=entry.get("package_name") or project, has_governance_meta=meta.get("governance") is not None)

    for unique_id, exposure in (manifest.get("exposures") or {}).items():
        registry.exposures[exposure["name"]] = Exposure(
            name=exposure["name"], unique_id=unique_id, type=exposure.get("type"), label=exposure.get("label"),
            depends_on=tuple((exposure.get("depends_on") or {}).get("nodes") or ()))
    return registry


def parse_project(project) -> Path:
    """Run `dbt parse` into a fresh target path (see product_metrics.dbt) and return that directory;
    one parse per process and project settings (product_metrics.relations.parsed_manifest_dir)."""
    from product_metrics.relations import RelationsError, parsed_manifest_dir

    try:
        return parsed_manifest_dir(project)
    except RelationsError as error:
        raise ManifestError(str(error)) from None
