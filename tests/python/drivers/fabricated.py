"""A small fabricated warehouse for the change drivers: metrics.fct_metric_segment_cells written by
hand (the contract's columns), the lifecycle tables the metric tree reads through lives_in, and a
manifest + registry that place them and carry the metrics' governance (unit, grain, lives_in,
decomposition).

The numbers, and what they give (each worked out by hand in the tests):
- pm_average_dau (summable, users), weeks 2026-06-08 (W24) and 2026-06-15 (W25), cut by country
  (BR, US, DE) and platform (android, ios): every cell 100, except BR × android 40 in W25:
  600 -> 540 (−10 %). W23 (2026-06-01) has cells too; W26 (2026-06-22) is not complete.
- pm_retention_rate (ratio), weeks W24 and W25, cut by country only (the other dimensions 'all'):
  BR 20/100 -> 10/100, US 60/100 -> 80/150: 0.4 -> 0.36.
- pm_north_star_users (summable), W24 and W25: BR 250 -> 200, US 250 -> 205 (500 -> 405); its tree
  (fct_north_star_weekly, fct_user_lifecycle_weekly): weekly actives 1000 -> 900 (new 200 -> 260,
  returning 600 -> 540, resurrecting 200 -> 100), share of actives 0.5 -> 0.45.
- pm_signups (summable), months 2026-04 and 2026-05 (complete), 2026-06 (not complete).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import duckdb

from product_metrics.governance.registry import Registry, build_registry

W23, W24, W25, W26 = (dt.date(2026, 6, 1) + dt.timedelta(days=7 * i) for i in range(4))
APRIL, MAY, JUNE = dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)

CELLS_COLUMNS = ("metric_name text, period_grain text, period_start date, country text, platform text, "
                 "acquisition_channel text, signup_cohort_month text, numerator double precision, "
                 "denominator double precision, is_complete boolean")


def _dau_cells() -> list[tuple]:
    rows = []
    for week, complete in ((W23, True), (W24, True), (W25, True), (W26, False)):
        for country in ("BR", "US", "DE"):
            for platform in ("android", "ios"):
                value = 40.0 if (week == W25 and country == "BR" and platform == "android") else 100.0
                rows.append(("pm_average_dau", "week", week, country, platform, "organic", "2026-01-01", value, None,
                             complete))
    return rows


CELLS: list[tuple] = [
    *_dau_cells(),
    ("pm_retention_rate", "week", W24, "BR", "all", "all", "all", 20.0, 100.0, True),
    ("pm_retention_rate", "week", W24, "US", "all", "all", "all", 60.0, 100.0, True),
    ("pm_retention_rate", "week", W25, "BR", "all", "all", "all", 10.0, 100.0, True),
    ("pm_retention_rate", "week", W25, "US", "all", "all", "all", 80.0, 150.0, True),
    ("pm_north_star_users", "week", W24, "BR", "unknown", "unknown", "unknown", 250.0, None, True),
    ("pm_north_star_users", "week", W24, "US", "unknown", "unknown", "unknown", 250.0, None, True),
    ("pm_north_star_users", "week", W25, "BR", "unknown", "unknown", "unknown", 200.0, None, True),
    ("pm_north_star_users", "week", W25, "US", "unknown", "unknown", "unknown", 205.0, None, True),
    ("pm_signups", "month", APRIL, "BR", "ios", "paid", "2026-04-01", 30.0, None, True),
    ("pm_signups", "month", APRIL, "US", "ios", "paid", "2026-04-01", 70.0, None, True),
    ("pm_signups", "month", MAY, "BR", "ios", "paid", "2026-05-01", 60.0, None, True),
    ("pm_signups", "month", MAY, "US", "ios", "paid", "2026-05-01", 70.0, None, True),
    ("pm_signups", "month", JUNE, "BR", "ios", "paid", "2026-06-01", 5.0, None, False),
]

LIFECYCLE = [(W24, "new", 200.0), (W24, "returning", 600.0), (W24, "resurrecting", 200.0), (W24, "dormant", 50.0),
             (W25, "new", 260.0), (W25, "returning", 540.0), (W25, "resurrecting", 100.0), (W25, "dormant", 80.0)]
NORTH_STAR = [(W24, 500.0, 1000.0, 0.5, True), (W25, 405.0, 900.0, 0.45, True)]


def create_tables(path: Path, cells: list[tuple] = CELLS, schema: str = "metrics") -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {schema}.fct_metric_segment_cells ({CELLS_COLUMNS})")
        if cells:
            con.executemany(f"insert into {schema}.fct_metric_segment_cells values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            cells)
        con.execute(f"create or replace table {schema}.fct_user_lifecycle_weekly "
                    "(week_start date, lifecycle_status text, users bigint, is_complete boolean)")
        con.executemany(f"insert into {schema}.fct_user_lifecycle_weekly values (?, ?, ?, true)", LIFECYCLE)
        con.execute(f"create or replace table {schema}.fct_north_star_weekly (week_start date, north_star_users "
                    "bigint, weekly_active_users bigint, north_star_share_of_active double, is_complete boolean)")
        con.executemany(f"insert into {schema}.fct_north_star_weekly values (?, ?, ?, ?, ?)", NORTH_STAR)
    return path


def _lives_in(table: str, column: str, where: str | None = None) -> dict:
    found = {"table": table, "column": column, "time_column": "week_start", "complete_column": "is_complete"}
    return found | ({"where": where} if where else {})


def _lifecycle(status: str) -> dict:
    return {"unit": "users", "grain": "week",
            "lives_in": _lives_in("fct_user_lifecycle_weekly", "users", f"lifecycle_status = '{status}'")}


GOVERNANCE: dict[str, dict] = {
    "pm_average_dau": {"unit": "users", "grain": "day"},
    "pm_retention_rate": {"unit": "ratio", "grain": "cohort_week"},
    "pm_signups": {"unit": "users", "grain": "month"},
    "pm_north_star_users": {
        "unit": "users", "grain": "week", "lives_in": _lives_in("fct_north_star_weekly", "north_star_users"),
        "decomposition": {"operation": "product",
                          "metrics": ["pm_weekly_active_users", "pm_north_star_share_of_active"]}},
    "pm_weekly_active_users": {
        "unit": "users", "grain": "week", "lives_in": _lives_in("fct_north_star_weekly", "weekly_active_users"),
        "decomposition": {"operation": "sum",
                          "metrics": ["pm_new_users", "pm_returning_users", "pm_resurrecting_users"]}},
    "pm_north_star_share_of_active": {
        "unit": "ratio", "grain": "week",
        "lives_in": _lives_in("fct_north_star_weekly", "north_star_share_of_active")},
    "pm_new_users": _lifecycle("new"),
    "pm_returning_users": _lifecycle("returning"),
    "pm_resurrecting_users": _lifecycle("resurrecting"),
}


def manifest(schema: str = "metrics", *, with_cells: bool = True) -> dict:
    tables = ["fct_user_lifecycle_weekly", "fct_north_star_weekly"] + (["fct_metric_segment_cells"] if with_cells
                                                                       else [])
    nodes = {f"model.product_metrics.{name}": {
        "unique_id": f"model.product_metrics.{name}", "name": name, "resource_type": "model",
        "package_name": "product_metrics", "schema": schema, "database": None, "alias": name,
        "original_file_path": f"models/marts/x/{name}.sql", "config": {"materialized": "table"}}
        for name in tables}
    metrics = {f"metric.product_metrics.{name}": {
        "name": name, "package_name": "product_metrics", "type": "simple", "label": name,
        "config": {"meta": {"governance": copy.deepcopy(governance)}}, "depends_on": {"nodes": []}}
        for name, governance in GOVERNANCE.items()}
    return {"metadata": {"project_name": "product_metrics"}, "nodes": nodes, "metrics": metrics, "sources": {}}


def registry(schema: str = "metrics", *, with_cells: bool = True) -> Registry:
    return build_registry(manifest(schema, with_cells=with_cells), {}, source="fabricated")


def write_manifest(directory: Path, schema: str = "metrics", *, with_cells: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest(schema, with_cells=with_cells), default=str))
    return directory
