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
    """Run `dbt parse` for the project's warehouse and return the semantic_manifest.json it wrote."""
    from product_metrics.dbt import run_dbt

    run = run_dbt(project, ["parse"])
    path = run.target_path / SEMANTIC_MANIFEST
    if not run.success or not path.is_file():
        details = "\n".join(run.error_lines[-10:])
        raise SemanticLayerError(f"`dbt parse` did not write {path}; fix the project and retry.\n{details}")
    return path
