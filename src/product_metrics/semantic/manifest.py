"""The semantic manifest MetricFlow reads: `dbt parse` writes it as semantic_manifest.json.

`mf` only looks for `<project>/target/semantic_manifest.json`. The product-metrics commands do
not touch that shared path: they run `dbt parse` as a subprocess with a per-run target path (see
product_metrics.dbt) and read the manifest from there.
"""

from __future__ import annotations

from pathlib import Path

from product_metrics.project import Project
from product_metrics.semantic.engine import SEMANTIC_MANIFEST, SemanticLayerError


def parse_semantic_manifest(project: Project) -> Path:
    """Run `dbt parse` for the project's warehouse and return the semantic_manifest.json it wrote
    (one parse per process: product_metrics.relations.parsed_manifest_dir)."""
    from product_metrics.relations import RelationsError, parsed_manifest_dir

    try:
        path = parsed_manifest_dir(project) / SEMANTIC_MANIFEST
    except RelationsError as error:
        raise SemanticLayerError(str(error)) from None
    if not path.is_file():
        raise SemanticLayerError(f"`dbt parse` did not write {path}; fix the project and retry.")
    return path
