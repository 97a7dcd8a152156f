"""`dbt docs generate` on a built warehouse: it succeeds, and the documentation it generates shows every
semantic-layer metric's definition. A metric is defined once, in its `metric_<name>` docs block (the
`_<folder>__docs.md` beside the metric's yml); the metric's description and the mart column that holds it
reference that block, and its governance description is the block's first line."""

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
MARTS = MODELS / "marts"
SHORT = 120  # characters: a column that holds metrics points to them in a line; their definition is in the blocks
DOC_REF = re.compile(r"""^\{\{\s*doc\(\s*["'](\w+)["']\s*\)\s*\}\}$""")
BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", re.DOTALL)


def docs_blocks(folder: Path = MODELS) -> dict[str, str]:
    text = "".join(p.read_text() for p in sorted(folder.rglob("_*__docs.md")))
    return {name: body.strip() for name, body in BLOCK.findall(text)}


def yml_files() -> list[tuple[Path, dict]]:
    return [(path, yaml.safe_load(path.read_text()) or {}) for path in sorted(MODELS.rglob("*.yml"))]


def metrics() -> dict[str, tuple[Path, dict]]:
    """Metric name → (its yml, the metric as written)."""
    return {metric["name"]: (path, metric) for path, data in yml_files() for metric in data.get("metrics") or []}


def metric_descriptions() -> dict[str, str]:
    """Metric name → its description as written in its yml (a doc() reference)."""
    return {name: (metric.get("description") or "").strip() for name, (_, metric) in metrics().items()}


def block_name(metric: str) -> str:
    """A metric's docs block: `metric_<name>`, without the semantic layer's pm_ prefix."""
    return f"metric_{metric.removeprefix('pm_')}"


def governance(metric: dict) -> dict:
    return ((metric.get("config") or {}).get("meta") or {}).get("governance") or {}


def expected_text(description: str, blocks: dict[str, str]) -> str:
    reference = DOC_REF.match(description)
    return blocks[reference.group(1)] if reference else description


def test_each_metric_is_defined_once_in_its_docs_block():
    found = metrics()
    assert len(found) >= 60
    blocks = docs_blocks()
    for name, (path, metric) in found.items():
        reference = DOC_REF.match((metric.get("description") or "").strip())
        assert reference and reference.group(1) == block_name(name), (
            f"{name}: write its definition in a {{% docs {block_name(name)} %}} block in "
            f"{path.parent.name}/_{path.parent.name}__docs.md and set description: '{{{{ doc(\"{block_name(name)}\") }}}}'")
        assert block_name(name) in docs_blocks(path.parent), f"{block_name(name)}: not in the docs file beside {path}"
    # No definition without its metric: every metric_ block is some metric's.
    orphans = sorted({n for n in blocks if n.startswith("metric_")} - {block_name(n) for n in found})
    assert not orphans, f"docs blocks named for no metric (remove them or name them metric_<metric>): {orphans}"


def test_governance_description_is_the_first_line_of_the_docs_block():
    # The governance contract requires a description and a formula (the catalog shows them): each is one
    # line, and the description is the block's first line, so the two cannot drift apart.
    blocks = docs_blocks()
    for name, (_, metric) in metrics().items():
        meta = governance(metric)
        assert meta, f"{name} has no governance meta"
        for field in ("description", "formula"):
            assert "\n" not in str(meta[field]).strip(), f"{name}: governance {field} is one line"
        first_line = blocks[block_name(name)].split("\n\n")[0]
        assert first_line == meta["description"].strip(), (
            f"{name}: governance description must be the first line of {block_name(name)}:\n"
            f"  {meta['description']!r}\n  {first_line!r}")


def test_mart_columns_are_described_and_point_to_the_metric_they_hold():
    holds: dict[tuple[str, str], set[str]] = {}
    for name, (_, metric) in metrics().items():
        lives_in = governance(metric).get("lives_in")
        if lives_in:
            holds.setdefault((lives_in["table"], lives_in["column"]), set()).add(name)
    blocks = docs_blocks()
    models = [model for path, data in yml_files() if MARTS in path.parents for model in data.get("models") or []]
    assert len(models) >= 15
    for model in models:
        for column in model.get("columns") or []:
            where = f"{model['name']}.{column['name']}"
            text = (column.get("description") or "").strip()
            assert text, f"{where} has no description"
            reference = DOC_REF.match(text)
            if reference:
                assert reference.group(1) in blocks, f"{where}: doc() names a block that does not exist"
            held = holds.get((model["name"], column["name"]), set())
            if held and not reference:
                assert len(text) <= SHORT, f"{where} holds {sorted(held)}: point to them in a line, not a definition"
            if len(held) == 1:
                expected = block_name(next(iter(held)))
                assert reference and reference.group(1) == expected, (
                    f"{where} holds {next(iter(held))}: set description: '{{{{ doc(\"{expected}\") }}}}'")


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
    assert {block_name(n) for n in descriptions} <= doc_names

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
