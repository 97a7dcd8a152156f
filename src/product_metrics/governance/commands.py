"""Bodies of `product-metrics governance check`, `catalog` and `alerts`: read the manifests, run
the rules / build the catalog / evaluate thresholds, print with rich, return an exit code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from product_metrics.governance.registry import ManifestError, Registry, load_registry, parse_project
from product_metrics.warehouse import Warehouse, WarehouseError, WarehouseMissing

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _project():
    from product_metrics.project import Project, ProjectNotFound

    try:
        return Project.locate()
    except ProjectNotFound:
        return None


def current_manifest_dir(manifest_dir: Path | None, console: Console) -> Path:
    """`manifest_dir`, or the directory of a fresh `dbt parse` of the project (once per process)."""
    if manifest_dir is not None:
        return manifest_dir
    project = _project()
    if project is None:
        raise ManifestError("no product_metrics dbt project here: run from the project or pass --manifest-dir")
    with console.status("dbt parse (manifest and semantic manifest)…"):
        return parse_project(project)


def load_current(manifest_dir: Path | None, console: Console) -> Registry:
    """The registry of `manifest_dir`, or of a fresh `dbt parse` of the project."""
    return load_registry(current_manifest_dir(manifest_dir, console))


def targets_var(project, registry: Registry) -> object:
    """Var product_metrics__metric_targets as dbt resolves it for `project`, when `registry` is that
    project's manifest (None: no project, another project's manifest, or unset)."""
    from product_metrics.governance.targets import targets_var_for

    return targets_var_for(project, registry)


def _relations(manifest_dir: Path):
    """Where dbt built the tables, from the same manifest as the registry (product_metrics.relations)."""
    from product_metrics.relations import Relations

    return Relations.load(manifest_dir)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# --- governance check ---------------------------------------------------------------------------

def run_check(*, manifest_dir: Path | None, state: Path | None, today: dt.date, decisions: Path | None,
              console: Console, strict: bool = False) -> int:
    """Exit 0 when no rule fails, 1 on a violation, 2 when the manifests cannot be read. Findings
    only the calendar brings (CALENDAR_RULES: an overdue review) are warnings; `strict` fails on them."""
    return check_and_print(manifest_dir=manifest_dir, state=state, today=today, decisions=decisions,
                           console=console, warn_rules=frozenset() if strict else None)[0]


def check_and_print(*, manifest_dir: Path | None, state: Path | None, today: dt.date, decisions: Path | None,
                    console: Console, warn_rules: frozenset[str] | None = None) -> tuple[int, int]:
    """The exit code of run_check and the number of warnings: violations of `warn_rules` (default:
    CALENDAR_RULES) are printed one line each but do not fail the check."""
    from product_metrics.governance.definitions import Decisions
    from product_metrics.governance.rules import CALENDAR_RULES, check

    warn_rules = CALENDAR_RULES if warn_rules is None else warn_rules
    try:
        registry = load_current(manifest_dir, console)
        previous = load_registry(state) if state is not None else None
    except ManifestError as error:
        console.print(f"[red]✗ governance check could not read the manifests:[/] {error}")
        return EXIT_ERROR, 0
    project = _project()
    if decisions is None:
        decisions = (project.root if project else Path.cwd()) / "DECISIONS.md"
    result = check(registry, today=today, previous=previous, decisions=Decisions.read(decisions),
                   targets_var=targets_var(project, registry))
    compared = f"; definitions compared with {result.compared_with}" if result.compared_with else ""
    checked = (f"{result.tables} metric tables, {result.models} models, {result.exposures} exposures "
               f"checked{compared}")
    failing = [v for v in result.violations if v.rule not in warn_rules]
    warnings = [v for v in result.violations if v.rule in warn_rules]
    if failing:
        table = Table(title="Governance check", title_justify="left", show_lines=False, expand=False)
        for column, style in (("metric", "bold"), ("field", "cyan"), ("problem", ""), ("what to do", "green"),
                              ("rule", "dim")):
            table.add_column(column, style=style or None, overflow="fold")
        for violation in failing:
            table.add_row(violation.subject, violation.field, violation.problem, violation.fix, violation.rule)
        console.print(table)
    print_warnings(warnings, console)
    if not result.violations:
        console.print(f"[green]✓[/] {result.metrics} metrics, all rules pass ({checked})")
        return EXIT_OK, 0
    if warnings:
        rules = ", ".join(sorted({v.rule for v in warnings}))
        console.print(f"[yellow]![/] {len(warnings)} warnings ({rules}), not failures: "
                      "`product-metrics governance check --strict` fails on them")
    if failing:
        subjects = len({v.subject for v in failing})
        rules = ", ".join(sorted({v.rule for v in failing}))
        console.print(f"[red]✗[/] {len(failing)} problems in {subjects} of {result.metrics} metrics, tables "
                      f"and exposures (rules: {rules}){compared}")
        return EXIT_FAILED, len(warnings)
    console.print(f"[green]✓[/] {result.metrics} metrics, no rule fails ({checked})")
    return EXIT_OK, len(warnings)


def print_warnings(violations, console: Console) -> None:
    """One line per finding shown as a warning, e.g. `review overdue: dau (owner: …) was due …`."""
    for violation in violations:
        console.print(f"[yellow]![/] {escape(violation.line)}", highlight=False, soft_wrap=True)


def print_overdue_reviews(registry: Registry, today: dt.date, console: Console) -> int:
    """The overdue reviews as warnings (catalog, alerts); returns how many."""
    from product_metrics.governance.rules import review_rules

    overdue = review_rules(registry, today)
    print_warnings(overdue, console)
    return len(overdue)


def _check_warehouse(database: Path | None, url: str | None, *, read_only: bool, missing_ok: bool = True) -> None:
    """Open and close the warehouse before the slow `dbt parse`: a wrong path, file or URL fails at once."""
    try:
        Warehouse.open(database, url, read_only=read_only).close()
    except WarehouseMissing:
        if not missing_ok:
            raise


# --- catalog ------------------------------------------------------------------------------------

def default_catalog_dir() -> Path:
    project = _project()
    return (project.root if project else Path.cwd()) / "target" / "metric_catalog"


def _registry_and_schema(command: str, database: Path | None, url: str | None, manifest_dir: Path | None,
                         schema: str | None, layer: Literal["metrics", "audit"], *, read_only: bool,
                         missing_ok: bool, console: Console) -> tuple[Registry, str] | int:
    """What a warehouse command reads first: the registry and the schema it writes to (`schema`, or
    the `layer` schema dbt built), the warehouse checked; or the exit code, the error printed."""
    try:
        _check_warehouse(database, url, read_only=read_only, missing_ok=missing_ok)
        manifest_dir = current_manifest_dir(manifest_dir, console)
        registry = load_registry(manifest_dir)
        if not schema:
            relations = _relations(manifest_dir)
            schema = relations.metrics_schema if layer == "metrics" else relations.audit_schema
        return registry, schema
    except ManifestError as error:
        console.print(f"[red]✗ {command} could not read the manifests:[/] {error}")
        return EXIT_ERROR
    except WarehouseError as error:
        console.print(f"[red]✗ {command} could not use the warehouse:[/] {error}")
        return error.exit_code


def run_catalog(*, database: Path | None, url: str | None, manifest_dir: Path | None, out: Path | None,
                schema: str | None, write_table: bool, console: Console, today: dt.date | None = None) -> int:
    from product_metrics.governance.catalog import CATALOG_TABLE, catalog_entries, write_catalog_table
    from product_metrics.governance.catalog_html import CATALOG_FILE, render_catalog_html, write_catalog_html
    from product_metrics.governance.latest_values import read_latest_values
    from product_metrics.governance.targets import evaluate_targets, statuses_by_metric

    inputs = _registry_and_schema("catalog", database, url, manifest_dir, schema, "metrics",
                                  read_only=not write_table, missing_ok=True, console=console)
    if isinstance(inputs, int):
        return inputs
    registry, schema = inputs
    built_at = _utc_now()
    today = today or built_at.date()
    try:
        with Warehouse.open(database, url, read_only=not write_table) as warehouse:
            latest = read_latest_values(warehouse, registry)
            targets = evaluate_targets(registry, warehouse, _project())
            entries = catalog_entries(registry, latest, statuses_by_metric(targets))
            if write_table:
                rows = write_catalog_table(warehouse, entries, built_at=built_at, schema=schema, today=today)
                console.print(f"[green]✓[/] {schema}.{CATALOG_TABLE}: {rows} metrics written to {warehouse.label}")
    except WarehouseMissing as error:  # the page still shows every definition; nothing is created
        console.print(f"[yellow]![/] {error} The catalog page has the definitions only, no latest values.")
        latest, entries = {}, catalog_entries(registry, {})
    except WarehouseError as error:
        console.print(f"[red]✗ catalog could not use the warehouse:[/] {error}")
        return error.exit_code
    path = write_catalog_html((out or default_catalog_dir()) / CATALOG_FILE,
                              render_catalog_html(registry, entries, built_at=built_at, today=today))
    unread = [value for value in latest.values() if value.error]
    console.print(f"[green]✓[/] HTML catalog: {path} ({len(entries)} metrics)")
    if unread:
        console.print(f"[yellow]![/] {len(unread)} metrics have no latest value (is the warehouse built?): "
                      + "; ".join(f"{v.metric}: {v.error}" for v in unread[:5]))
    print_overdue_reviews(registry, today, console)
    return EXIT_OK


# --- alerts -------------------------------------------------------------------------------------

_TARGET_STYLE = {"on_track": "green", "met": "green", "off_track": "yellow", "missed": "yellow", "no_value": "dim"}


def print_targets(targets, console: Console) -> None:
    """One line per dated target, its summary (off-track and missed ones are recorded as alerts)."""
    if not targets:
        return
    console.print("Targets" + (f" ({sum(1 for t in targets if t.is_alert)} off track or missed, recorded as "
                               "alerts of kind target)" if any(t.is_alert for t in targets) else ""))
    for target in targets:
        mark = "!" if target.is_alert else "·"
        console.print(f"[{_TARGET_STYLE[target.status]}]{mark}[/] {escape(target.summary)}", highlight=False,
                      soft_wrap=True)


_LEVEL_STYLE = {"alert": "bold red", "warn": "yellow", "ok": "green", "no_value": "dim", "error": "red"}


def print_anomalies(scan, explained: dict, console: Console) -> None:
    """The anomalies of the latest complete periods, one line each with its top drivers below it."""
    if not scan.anomalies:
        if scan.series_checked:
            console.print(f"[green]✓[/] no anomaly in the latest complete periods ({scan.series_checked} series "
                          "checked)")
    else:
        console.print(f"Anomalies in the latest complete periods ({len(scan.anomalies)} of {scan.series_checked} "
                      "series, recorded as alerts of kind anomaly)")
        for anomaly in scan.anomalies:
            console.print(f"[yellow]![/] {escape(anomaly.detail())}", highlight=False, soft_wrap=True)
            drivers = explained.get(anomaly)
            if drivers:
                console.print(f"    [dim]top drivers:[/] {escape(drivers)}", highlight=False, soft_wrap=True)
    for line in scan.unread:
        console.print(f"[yellow]![/] anomaly series not read: {escape(line)}", highlight=False, soft_wrap=True)


def run_alerts(*, database: Path | None, url: str | None, manifest_dir: Path | None, fail_on: str,
               today: dt.date | None, schema: str | None, console: Console,
               evaluations_out: list | None = None, quality_settings=None) -> int:
    """Evaluate, record and print the thresholds, the dated targets and the anomalies of the
    latest complete periods; `evaluations_out` receives each metric's evaluation, for a caller that
    reports them elsewhere (the Dagster checks). `schema`: where metric_alerts is written (default:
    the audit schema dbt built, from the manifest). `quality_settings`: the anomaly k, window and
    tables of the data-quality gate (default: its defaults)."""
    from product_metrics.drivers.explain import alert_explainer
    from product_metrics.formatting import format_value, noun_of
    from product_metrics.governance.alerts import ALERTS_TABLE, evaluate, exit_code, record_breaches
    from product_metrics.governance.anomalies import anomaly_explainer, latest_anomalies
    from product_metrics.governance.targets import evaluate_targets

    inputs = _registry_and_schema("alerts", database, url, manifest_dir, schema, "audit",
                                  read_only=False, missing_ok=False, console=console)
    if isinstance(inputs, int):
        return inputs
    registry, schema = inputs
    units = {m.name: m.governance.unit for m in registry.governed()}
    try:
        with Warehouse.open(database, url) as warehouse:
            evaluations = evaluate(registry, warehouse, before=today)
            targets = evaluate_targets(registry, warehouse, _project(), before=today)
            scan = latest_anomalies(warehouse, registry, quality_settings, before=today)
            explain_anomaly = anomaly_explainer(warehouse, registry)
            explained = {anomaly: explain_anomaly(anomaly) for anomaly in scan.anomalies}
            written = record_breaches(warehouse, evaluations, run_at=_utc_now(), schema=schema, targets=targets,
                                      units=units, explain=alert_explainer(warehouse, registry),
                                      anomalies=scan.anomalies, explain_anomaly=explained.get)
    except WarehouseError as error:
        console.print(f"[red]✗ alerts could not use the warehouse:[/] {error}")
        return error.exit_code
    # Overdue reviews are warnings here as everywhere: shown, never part of the exit code.
    print_overdue_reviews(registry, today or dt.date.today(), console)
    if evaluations_out is not None:
        evaluations_out.extend(evaluations)
    # Targets and anomalies are news, not a gate: shown and recorded, never part of the exit code.
    print_targets(targets, console)
    print_anomalies(scan, explained, console)
    if not evaluations:
        recorded = f"; {written} alerts recorded in {schema}.{ALERTS_TABLE}" if written else ""
        console.print(f"No live metric has thresholds and lives_in: no threshold to evaluate{recorded}.")
        return EXIT_OK
    table = Table(title="Metric thresholds" + (f" as of {today}" if today else ""), title_justify="left")
    for column in ("metric", "period", "value", "warn", "alert", "direction", "level", "note"):
        table.add_column(column, justify="right" if column in {"value", "warn", "alert"} else "left",
                         overflow="fold")
    nouns = {m.name: noun_of(m.label) for m in registry.governed()}  # what a count counts
    for e in evaluations:
        unit, noun = units.get(e.metric), nouns.get(e.metric)
        table.add_row(e.metric, str(e.latest.period or "—"), format_value(e.latest.value, unit, e.metric, noun=noun),
                      format_value(e.warn, unit, e.metric, noun=noun), format_value(e.alert, unit, e.metric, noun=noun),
                      e.direction.replace("_", " "),
                      f"[{_LEVEL_STYLE[e.level]}]{e.level}[/]", e.latest.error or e.latest.note or "")
    console.print(table)
    counts = {level: sum(1 for e in evaluations if e.level == level) for level in _LEVEL_STYLE}
    console.print(f"{counts['alert']} alert, {counts['warn']} warn, {counts['ok']} ok, {counts['no_value']} without "
                  f"a value, {counts['error']} unreadable; {written} breaches recorded in {schema}.{ALERTS_TABLE}")
    code = exit_code(evaluations, fail_on)
    if code == EXIT_FAILED:
        console.print(f"[red]✗[/] threshold breached at or above --fail-on {fail_on}")
    elif code == EXIT_ERROR:
        console.print("[red]✗[/] some metrics could not be read; build the warehouse or fix lives_in")
    return code
