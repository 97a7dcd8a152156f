"""Bodies of `product-metrics experiments` and of the `experiments` stage of build and refresh:
read the marts, compute the readouts, print them with rich, write the result tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from product_metrics.errors import UserError
from product_metrics.experiments import decisions
from product_metrics.experiments.readout import ExperimentReadout, MetricResult
from product_metrics.experiments.tables import DAILY_TABLE, DECISIONS_TABLE, RESULTS_TABLE

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

NO_EXPERIMENTS = ("No experiments are defined: list them in var product_metrics__experiments of your "
                  "dbt_project.yml (README, Experiments) and run `product-metrics build`.")
_DECISION_STYLE = {decisions.SHIP: "bold green", decisions.DO_NOT_SHIP: "bold red",
                   decisions.INVALID: "bold magenta", decisions.KEEP_RUNNING: "bold yellow"}


def compute_readouts(warehouse, relations) -> list[ExperimentReadout]:
    """Every experiment's readout from the marts of `warehouse` (product_metrics.warehouse.Warehouse)
    where `relations` (product_metrics.relations.Relations) says dbt built them."""
    from product_metrics.experiments.readout import read_out
    from product_metrics.experiments.tables import read_marts

    return read_out(read_marts(warehouse, relations))


def write_readouts(warehouse, relations, readouts: Sequence[ExperimentReadout]) -> tuple[str, int, int]:
    """Replace the three result tables next to the marts; returns (schema, results rows, daily rows)
    (fct_experiment_decisions has one row per readout)."""
    from product_metrics.experiments.readout import daily_rows, decision_rows, result_rows
    from product_metrics.experiments.tables import results_schema, write_results

    schema = results_schema(relations)
    results, daily, _ = write_results(warehouse, schema, result_rows(readouts), daily_rows(readouts),
                                      decision_rows(readouts))
    return schema, results, daily


def summary(readouts: Sequence[ExperimentReadout]) -> str:
    """`3 experiments: 1 ship, 1 keep_running, 1 invalid` (in the order of decisions.DECISIONS)."""
    counts = Counter(r.verdict.decision for r in readouts)
    decided = ", ".join(f"{counts[d]} {d}" for d in decisions.DECISIONS if counts[d])
    return f"{len(readouts)} experiment{'' if len(readouts) == 1 else 's'}" + (f": {decided}" if decided else "")


def read_out_and_write(database: Path | None, url: str | None, relations) -> tuple[list[ExperimentReadout], str]:
    """The stage's work: compute every readout and write both tables; returns them and a one-line detail."""
    from product_metrics.warehouse import Warehouse

    with Warehouse.open(database, url) as warehouse:
        readouts = compute_readouts(warehouse, relations)
        schema, results, daily = write_readouts(warehouse, relations, readouts)
    return readouts, (f"{summary(readouts)}; {results} rows in {schema}.{RESULTS_TABLE}, {daily} in "
                      f"{schema}.{DAILY_TABLE}")


# --- product-metrics experiments ---------------------------------------------------------------

def run_experiments(*, experiment_id: str | None, write: bool, database: Path | None, url: str | None,
                    manifest_dir: Path | None, console: Console) -> int:
    """Print the readout of every experiment (or of `experiment_id`); `write` also replaces the result
    tables. Errors a user can fix are raised as UserError (product_metrics.cli prints them)."""
    from product_metrics.warehouse import Warehouse

    Warehouse.open(database, url, read_only=not write).close()  # a wrong path fails before the slow parse
    relations = _relations(database, manifest_dir, console)
    with Warehouse.open(database, url, read_only=not write) as warehouse:
        readouts = compute_readouts(warehouse, relations)
        if experiment_id is not None:
            known = [r.experiment.experiment_id for r in readouts]
            if experiment_id not in known:
                raise UserError(f"No experiment {experiment_id!r}: the known ids are "
                                f"{', '.join(known) if known else 'none (' + NO_EXPERIMENTS + ')'}.")
        shown = [r for r in readouts if experiment_id in (None, r.experiment.experiment_id)]
        written = write_readouts(warehouse, relations, readouts) if write else None
    if not readouts:
        console.print(NO_EXPERIMENTS)
    for readout in shown:
        print_readout(readout, console)
    if written is not None:
        schema, results, daily = written
        console.print(f"[green]✓[/] {results} rows written to {schema}.{RESULTS_TABLE}, {daily} to "
                      f"{schema}.{DAILY_TABLE}, {len(readouts)} to {schema}.{DECISIONS_TABLE}", highlight=False)
    return 0


def _relations(database: Path | None, manifest_dir: Path | None, console: Console):
    from product_metrics.project import Project, ProjectNotFound
    from product_metrics.relations import Relations, relations_for

    if manifest_dir is not None:
        return Relations.load(manifest_dir)
    try:
        project = Project.locate(database)
    except ProjectNotFound:
        return Relations.default()
    with console.status("dbt parse (where the experiment marts are)…"):
        return relations_for(project)


def print_readout(readout: ExperimentReadout, console: Console) -> None:
    """One experiment: what it tests, who owns it, when, its arms and SRM, each metric's effect with
    its interval and p-values, the guardrails it cannot measure, the decision and why."""
    experiment = readout.experiment
    style = _DECISION_STYLE.get(readout.verdict.decision, "bold")
    console.rule(f"[bold]{escape(experiment.experiment_id)}[/] · [{style}]{readout.verdict.decision}[/]")
    console.print(escape(experiment.hypothesis or ""), style="italic", highlight=False)
    owner = escape(experiment.owner_name or "—") + (f" <{escape(experiment.owner_email)}>"
                                                     if experiment.owner_email else "")
    state = "ended" if experiment.is_ended else "running"
    console.print(f"owner: {owner} · {experiment.start_date} → {experiment.end_date} · {state}, "
                  f"{experiment.runtime_days} of at least {experiment.minimum_runtime_days} days",
                  highlight=False)
    arms = " · ".join(f"{escape(v.variation)} {v.units:,} (weight {v.weight:g})" for v in readout.variations)
    srm = ("no units yet" if readout.srm_p_value is None else
           f"SRM p = {decisions.format_p(readout.srm_p_value)}"
           + (" [red]mismatch[/]" if readout.srm_p_value < decisions.SRM_P_THRESHOLD else " ok"))
    excluded = (f"; excluded: {experiment.excluded_multiple_variations:,} in several variations, "
                f"{experiment.excluded_outside_dates:,} outside the dates")
    console.print(f"units: {arms} · {srm}{excluded}", highlight=False)
    if readout.results:
        console.print(_results_table(readout.results, experiment.alpha))
    if readout.unmeasured_guardrails:
        console.print(f"[yellow]not measured:[/] {escape(readout.unmeasured_guardrails)} — guardrails the readout "
                      "cannot judge; check them elsewhere", highlight=False)
    console.print(f"[{style}]decision: {readout.verdict.decision}[/] — {escape(readout.verdict.reason)}",
                  highlight=False)


def _results_table(results: Sequence[MetricResult], alpha: float) -> Table:
    level = f"{1 - alpha:.0%}"
    table = Table(title_justify="left", show_edge=False)
    for column in ("variation", "metric", "role", "control", "variation mean", "effect", f"{level} CI", "p",
                   "adjusted p", ""):
        table.add_column(column, justify="right" if column in {"control", "variation mean", "p", "adjusted p"}
                         else "left", overflow="fold")
    for r in results:
        relative = r.relative_effect is not None
        effect = (f"{r.relative_effect:+.1%}" if r.relative_effect is not None else
                  f"{r.absolute_effect:+.4g}" if r.absolute_effect is not None else "—")
        low, high = ((r.relative_ci_lower, r.relative_ci_upper) if relative else
                     (r.absolute_ci_lower, r.absolute_ci_upper))
        interval = (f"{decisions.format_percent(low)} to {decisions.format_percent(high)}" if relative else
                    f"{decisions.format_number(low)} to {decisions.format_number(high)}" if low is not None else "—")
        flag = ("[red]harmed[/]" if r.is_harmful else "[green]significant[/]" if r.is_significant else "")
        table.add_row(r.variation, r.metric_name + (f" ({r.unit})" if r.unit else ""), r.metric_role,
                      _mean(r.control_mean, r.control_units), _mean(r.variation_mean, r.variation_units),
                      effect, interval, decisions.format_p(r.p_value), decisions.format_p(r.adjusted_p_value), flag)
    return table


def _mean(mean: float | None, units: int) -> str:
    return f"{mean:.4g} (n {units:,})" if mean is not None else f"— (n {units:,})"
