"""`dbt docs generate` on a built warehouse: it succeeds, and the documentation it generates shows every
semantic-layer metric's definition — long ones written once in docs blocks (the `_<folder>__docs.md` beside the metric's yml)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from product_metrics.dbt import run_dbt
from product_metrics.project import Project

from ..conftest import DEMO_PROJECT, REPO_ROOT

MODELS = REPO_ROOT / "models"
LONG = 120  # characters: a description longer than a line lives in a docs block
DOC_REF = re.compile(r"""^\{\{\s*doc\(\s*["'](\w+)["']\s*\)\s*\}\}$""")


def docs_blocks() -> dict[str, str]:
    text = "".join(p.read_text() for p in sorted(MODELS.rglob("_*__docs.md")))
    return {name: body.strip() for name, body in
            re.findall(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", text, re.DOTALL)}


def metric_descriptions() -> dict[str, str]:
    """Metric name → its description as written in its yml (text or a doc() reference)."""
    found = {}
    for path in sorted(MODELS.rglob("*.yml")):
        for metric in (yaml.safe_load(path.read_text()) or {}).get("metrics") or []:
            found[metric["name"]] = (metric.get("description") or "").strip()
    return found


def expected_text(description: str, blocks: dict[str, str]) -> str:
    reference = DOC_REF.match(description)
    return blocks[reference.group(1)] if reference else description


def test_long_metric_descriptions_come_from_docs_blocks():
    blocks, descriptions = docs_blocks(), metric_descriptions()
    assert len(descriptions) >= 60
    too_long = sorted(name for name, text in descriptions.items() if not DOC_REF.match(text) and len(text) > LONG)
    assert not too_long, f"move these descriptions into a docs block in their folder's _<folder>__docs.md: {too_long}"
    references = {name: DOC_REF.match(text).group(1) for name, text in descriptions.items() if DOC_REF.match(text)}
    assert len(references) >= 14
    missing = sorted(ref for ref in references.values() if ref not in blocks)
    assert not missing, f"doc() names a block that does not exist: {missing}"
    # One block per metric, named after it (without the semantic layer's pm_ prefix).
    assert all(block == f"metric_{name.removeprefix('pm_')}" for name, block in references.items())
    assert all(len(blocks[block]) > LONG for block in references.values())


@pytest.fixture(scope="module")
def docs_target(sample_warehouse) -> Path:
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=sample_warehouse), ["docs", "generate", "--static"],
                  vars={"sample_data": True})
    assert run.success, "\n".join(run.error_lines[-20:])
    return run.target_path


def test_docs_generate_shows_every_metric_definition(docs_target):
    manifest = json.loads((docs_target / "manifest.json").read_text())
    blocks, descriptions = docs_blocks(), metric_descriptions()
    metrics = {m["name"]: m for m in manifest["metrics"].values()}
    assert set(metrics) == set(descriptions)
    for name, metric in metrics.items():
        text = metric["description"].strip()
        assert text, f"{name} has no description"
        assert "{{" not in text and "doc(" not in text, f"{name}: the doc() reference was not rendered"
        assert text == expected_text(descriptions[name], blocks), name
        governance = (metric.get("config", {}).get("meta") or metric.get("meta") or {}).get("governance")
        if governance:  # the governed definition travels with it (shown in the docs site's meta)
            assert governance["description"] and governance["formula"], name
    # The docs blocks themselves are in the manifest, where the docs site finds them.
    doc_names = {d["name"] for d in manifest["docs"].values() if d["package_name"] == "product_metrics"}
    assert {f"metric_{n.removeprefix('pm_')}" for n, t in descriptions.items() if DOC_REF.match(t)} <= doc_names

    # The static site (one file) carries every definition's text.
    site = (docs_target / "static_index.html").read_text()
    for name, metric in metrics.items():
        assert json.dumps(metric["description"])[1:-1] in site, f"{name}: definition not in static_index.html"

    # catalog.json: the warehouse's tables and columns, read after the build.
    catalog = json.loads((docs_target / "catalog.json").read_text())
    tables = {node["metadata"]["name"]: node for node in catalog["nodes"].values()}
    for table, columns in {"fct_stickiness_daily": {"dau", "wau", "mau", "dau_mau_ratio"},
                           "fct_nps_monthly": {"nps", "nps_margin_of_error_95"},
                           "fct_k_factor_monthly": {"k_factor"}}.items():
        assert table in tables, f"{table} not in catalog.json"
        assert columns <= set(tables[table]["columns"]), table
