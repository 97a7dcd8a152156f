"""Typer declaration of `product-metrics experiments`, registered by product_metrics.cli. Only typer
is imported here (the body lives in product_metrics.experiments.commands): `--help` stays instant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def experiments(
    experiment_id: Annotated[str | None, typer.Argument(
        metavar="[EXPERIMENT_ID]", help="Only this experiment (default: every experiment).")] = None,
    write: Annotated[bool, typer.Option(
        "--write", help="Also write metrics.fct_experiment_results, fct_experiment_daily and "
                        "fct_experiment_decisions (after a plain `dbt build`; `product-metrics build` and "
                        "`refresh` write them).")] = False,
    database: Annotated[Path | None, typer.Option(
        "--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                           "else the path of the dbt profile's DuckDB target).")] = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="SQLAlchemy URL of a server warehouse instead of the DuckDB file "
                      "(default: $PRODUCT_METRICS_WAREHOUSE_URL).")] = None,
    manifest_dir: Annotated[Path | None, typer.Option(
        "--manifest-dir", exists=True, file_okay=False,
        help="Read manifest.json from this directory instead of running `dbt parse` first.")] = None,
) -> None:
    """The readout of each experiment: units per arm and the sample-ratio check, each goal and guardrail
    metric's effect with its interval and p-value, and the decision (ship, do not ship, keep running,
    invalid) with its reason. Computed from the experiment marts dbt built."""
    from product_metrics.console import make_console
    from product_metrics.experiments.commands import run_experiments

    code = run_experiments(experiment_id=experiment_id, write=write, database=database, url=url,
                           manifest_dir=manifest_dir, console=make_console())
    if code:
        raise typer.Exit(code)
