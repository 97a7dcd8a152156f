"""What a metric is built from, and whether that changed since a previous manifest.

Lineage
-------
A metric's input metrics are those its type_params name (derived `metrics`, ratio `numerator` /
`denominator`, cumulative `metric`, conversion `base_metric` / `conversion_metric`), its manifest
`depends_on` metrics, and — for cumulative and conversion metrics, which in the legacy spec name
measures — the simple metrics built on the same measure without a filter.

Definition fingerprint
----------------------
A metric's definition is the set of parts below, each hashed; a part that differs, appears or
disappears between two manifests is a definition change:

- `metric <name>`: the MetricFlow definition (type, type_params, filter, time_granularity) of the
  metric and, recursively, of every input metric;
- `governance <name>`: its governance `formula`, `unit` and `grain` (compared only when both
  manifests carry governance, so annotating a metric for the first time is not a change);
- `measure <semantic model>.<measure>`: the measures it aggregates (agg, expr, agg_params,
  non_additive_dimension, agg_time_dimension);
- `model <name>`: the SQL of every model (and snapshot) it reads — the semantic models' models, the
  `lives_in` table — and, transitively, of everything upstream of them. Comments and whitespace
  are ignored (a hash of the SQL without them; the file checksum when the SQL is not in the
  manifest). A versioned model's latest version keeps the model's name (giving a table versions is
  not a change); an older version it reads is `model <name>.v<N>`;
- `macro <name>`: the project's own macros those models call, transitively, with their
  adapter-dispatched implementations (`default__x`, `duckdb__x`, … of a macro `x`). Macros of
  dbt itself and of packages are not part of a definition (a dbt upgrade is not a metric change).

Descriptions, labels, owners, review dates, status and thresholds are not part of a definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from product_metrics.governance.registry import Metric, Registry, digest

MEASURE_TYPES = ("cumulative", "conversion")


def input_metrics(registry: Registry, metric: Metric) -> list[str]:
    """The metrics `metric` is computed from, directly (names of metrics in the registry)."""
    names = [name for name in metric.input_metrics if name in registry.metrics and name != metric.name]
    if metric.type in MEASURE_TYPES:
        for other in registry.metrics.values():
            params = other.definition.get("type_params") or {}
            measure = (params.get("measure") or {}) if isinstance(params.get("measure"), dict) else {}
            if (other.type == "simple" and other.name != metric.name and not other.definition.get("filter")
                    and not measure.get("filter") and measure.get("name") in metric.input_measures):
                names.append(other.name)
    return list(dict.fromkeys(names))


def upstream_metrics(registry: Registry, name: str) -> dict[str, list[str]]:
    """Every metric `name` depends on, transitively, with the path that leads to it."""
    paths: dict[str, list[str]] = {}
    queue = [(name, [name])]
    while queue:
        current, path = queue.pop(0)
        metric = registry.metrics.get(current)
        if metric is None:
            continue
        for upstream in input_metrics(registry, metric):
            if upstream not in paths and upstream != name:
                paths[upstream] = [*path, upstream]
                queue.append((upstream, [*path, upstream]))
    return paths


def _semantic_models_of(registry: Registry, metric: Metric):
    by_id = [registry.semantic_models[n] for n in metric.depends_on if n in registry.semantic_models]
    by_measure = [sm for sm in registry.semantic_models.values()
                  if any(measure in sm.measures for measure in metric.input_measures)]
    return list({sm.unique_id: sm for sm in by_id + by_measure}.values())


def _upstream_models(registry: Registry, model_ids: set[str]) -> set[str]:
    seen: set[str] = set()
    queue = list(model_ids)
    while queue:
        unique_id = queue.pop()
        if unique_id in seen or unique_id not in registry.models:
            continue
        seen.add(unique_id)
        queue.extend(registry.models[unique_id].depends_on)
    return seen


def _project_macros(registry: Registry, macro_ids: set[str]) -> set[str]:
    by_name: dict[str, list[str]] = {}
    for macro in registry.macros.values():
        if macro.package == registry.project_name:
            by_name.setdefault(macro.name.split("__", 1)[-1] if "__" in macro.name else macro.name,
                               []).append(macro.unique_id)
    seen: set[str] = set()
    queue = list(macro_ids)
    while queue:
        unique_id = queue.pop()
        macro = registry.macros.get(unique_id)
        if unique_id in seen or macro is None or macro.package != registry.project_name:
            continue
        seen.add(unique_id)
        queue.extend(macro.macros)
        queue.extend(by_name.get(macro.name, ()))  # its dispatched implementations
    return seen


def definition_parts(registry: Registry, name: str) -> dict[str, str]:
    """The hashed parts of metric `name`'s definition (see the module docstring)."""
    root = registry.metrics[name]
    parts: dict[str, str] = {}
    model_ids: set[str] = set()
    for metric_name in [name, *upstream_metrics(registry, name)]:
        metric = registry.metrics[metric_name]
        parts[f"metric {metric_name}"] = digest(metric.definition)
        for semantic_model in _semantic_models_of(registry, metric):
            for measure in metric.input_measures:
                if measure in semantic_model.measures:
                    parts[f"measure {semantic_model.name}.{measure}"] = digest(semantic_model.measures[measure])
            if semantic_model.model:
                model_ids.add(semantic_model.model)
    governance = root.governance
    if governance is not None:
        parts[f"governance {name}"] = digest({"formula": governance.raw.get("formula"),
                                              "unit": governance.raw.get("unit"),
                                              "grain": governance.raw.get("grain")})
        if governance.lives_in and (table := registry.model_named(governance.lives_in.table)):
            model_ids.add(table.unique_id)
    macro_ids: set[str] = set()
    for unique_id in _upstream_models(registry, model_ids):
        model = registry.models[unique_id]
        parts[f"model {model.versioned_name}"] = model.fingerprint
        macro_ids.update(model.macros)
    for unique_id in _project_macros(registry, macro_ids):
        macro = registry.macros[unique_id]
        parts[f"macro {macro.name}"] = macro.fingerprint
    return parts


def changed_parts(current: dict[str, str], previous: dict[str, str]) -> list[str]:
    """Parts that differ, appeared or disappeared; a governance part only when both sides have one."""
    keys = set(current) | set(previous)
    changed = [key for key in keys if current.get(key) != previous.get(key)
               and not (key.startswith("governance ") and (key not in current or key not in previous))]
    order = ("metric", "governance", "measure", "model", "macro")
    return sorted(changed, key=lambda key: (order.index(key.split(" ", 1)[0]), key))


# --- DECISIONS.md -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decisions:
    """The text of DECISIONS.md, searched for `<metric> v<version>` entries (case-insensitive)."""

    text: str
    path: Path | None = None

    @classmethod
    def read(cls, path: Path) -> Decisions:
        return cls(path.read_text() if path.is_file() else "", path)

    def entry_for(self, metric: str, version: int) -> str | None:
        pattern = re.compile(rf"(?<!\w)`?{re.escape(metric)}`?\s+v{version}(?!\w|\.\d)", re.IGNORECASE)
        return next((line.strip() for line in self.text.splitlines() if pattern.search(line)), None)
