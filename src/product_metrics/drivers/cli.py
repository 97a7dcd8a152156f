"""`product-metrics explain METRIC --from P --to P`, registered by product_metrics.cli. Only typer is
imported at module level (the warehouse, the manifests and rich load inside the command):
`product-metrics --help` stays instant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from product_metrics.governance.cli import DatabaseOption, ManifestDirOption, UrlOption

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from product_metrics.drivers.explain import Explanation


def explain(
    metric: Annotated[str, typer.Argument(
        metavar="METRIC", help="The metric, e.g. pm_average_dau (the pm_ prefix may be left out).")],
    from_period: Annotated[str, typer.Option(
        "--from", help="The period compared with: 2026-W24 (ISO week), 2026-05 (month) or the date it starts on.")],
    to_period: Annotated[str, typer.Option(
        "--to", help="The period explained, of the same grain as --from.")],
    by: Annotated[str, typer.Option(
        "--by", help="Dimensions to cut by, comma-separated: country, platform, acquisition_channel, "
                     "signup_cohort (default: all four).")] = "country,platform,acquisition_channel,signup_cohort_month",
    grain: Annotated[str | None, typer.Option(
        "--grain", help="week or month, for periods given as dates (default: week).")] = None,
    depth: Annotated[int, typer.Option("--depth", min=1, max=4, help="Dimensions combined per segment.")] = 2,
    top: Annotated[int, typer.Option("--top", min=1, help="Drivers shown per analysis.")] = 10,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the rows of metrics.fct_metric_change_drivers' shape as JSON.")] = False,
    database: DatabaseOption = None,
    url: UrlOption = None,
    manifest_dir: ManifestDirOption = None,
) -> None:
    """Why a metric moved between two periods: the segments that moved unlike the rest (summable
    metrics), the mix and rate effects per dimension (ratios), and its drivers along the metric tree."""
    from product_metrics.console import make_console

    run_explain(metric, from_period, to_period, by=by, grain=grain, depth=depth, top=top, as_json=as_json,
                database=database, url=url, manifest_dir=manifest_dir, console=make_console())


def run_explain(metric: str, from_period: str, to_period: str, *, by: str, grain: str | None, depth: int, top: int,
                as_json: bool, database: Path | None, url: str | None, manifest_dir: Path | None,
                console: Console) -> None:
    """The command's body; a UserError (unknown metric, period, dimension) is printed by product_metrics.cli."""
    from product_metrics.drivers.explain import explain as explain_change
    from product_metrics.drivers.periods import parse_range
    from product_metrics.governance.commands import current_manifest_dir
    from product_metrics.governance.registry import ManifestError, load_registry
    from product_metrics.warehouse import Warehouse

    before, after = parse_range(from_period, to_period, grain)
    dimensions = [d for d in by.split(",") if d.strip()]
    Warehouse.open(database, url, read_only=True).close()  # a wrong path fails before the slow parse
    try:
        registry = load_registry(current_manifest_dir(manifest_dir, console))
    except ManifestError as error:
        from product_metrics.errors import UserError

        raise UserError(f"explain could not read the manifests: {error}") from None
    with Warehouse.open(database, url, read_only=True) as warehouse:
        explanation = explain_change(warehouse, registry, metric, before, after, dimensions, depth=depth)
    if as_json:
        from product_metrics.drivers.tables import DRIVERS_COLUMNS

        rows = [{name: row[name] for name, _ in DRIVERS_COLUMNS} for row in explanation.rows()
                if row["driver_rank"] <= top]
        typer.echo(json.dumps(rows, default=str, indent=1))
        return
    print_explanation(explanation, console, top)


def print_explanation(explanation: Explanation, console: Console, top: int = 10) -> None:
    """The headline, the notes, the ranked segments or the mix and rate per dimension, the tree."""
    from rich.markup import escape
    from rich.table import Table

    from product_metrics.drivers.explain import segment_text
    from product_metrics.formatting import format_share

    value, change = explanation.value_text, explanation.change_text
    console.print(f"[bold]{escape(explanation.headline())}[/]", highlight=False)
    for note in explanation.notes:
        console.print(f"[yellow]![/] {escape(note)}", highlight=False)
    if explanation.segments:
        table = Table(title=f"Segments by {', '.join(explanation.dimensions)}", title_justify="left", show_edge=False)
        for column in ("#", "segment", "from", "to", "difference", "expected", "unexpected", "support"):
            table.add_column(column, justify="left" if column == "segment" else "right", overflow="fold")
        for d in explanation.segments[:top]:
            table.add_row(str(d.rank), escape(segment_text(d.segment, " × ")), value(d.before), value(d.after),
                          change(d.difference), value(d.expected_after), change(d.unexpected_difference),
                          format_share(d.support))
        console.print(table)
    for dimension, drivers in explanation.mix_rate.items():
        table = Table(title=f"Mix and rate by {dimension}", title_justify="left", show_edge=False)
        for column in ("segment", "share", "rate", "mix", "rate effect", "total"):
            table.add_column(column, justify="left" if column == "segment" else "right", overflow="fold")
        ranked = sorted(drivers, key=lambda x: -abs(x.total_effect))[:top]
        for m in ranked:
            table.add_row(escape(segment_text(m.segment)),
                          f"{format_share(m.before_share)} → {format_share(m.after_share)}",
                          f"{value(m.before_rate)} → {value(m.after_rate)}",
                          change(m.mix_effect), change(m.rate_effect), change(m.total_effect))
        console.print(table)
    tree = explanation.tree_text()
    if tree:
        console.print(f"Metric tree ({explanation.tree_operation}): {escape(tree)}", highlight=False, soft_wrap=True)
