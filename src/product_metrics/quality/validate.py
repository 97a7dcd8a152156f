"""Run the data-quality gate: generated suites → one GX checkpoint on the warehouse (every check is
SQL executed there) → results in `audit.dq_results` → Data Docs (static HTML)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from product_metrics.quality.results import CheckResult, ValidationReport, store_results
from product_metrics.quality.rules import OPTIONAL_RAW_SOURCES
from product_metrics.quality.settings import QualitySettings
from product_metrics.quality.suites import SuitePlan, plan_suites, to_gx_suite
from product_metrics.quality.warehouse import ChecksWarehouse, Session, capture_all_statements

SAMPLE_RAW_SCHEMA = "raw_sample"
EXAMPLES = 5


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int = 0
    total: int = 0


def validate_warehouse(
    warehouse: ChecksWarehouse,
    settings: QualitySettings | None = None,
    *,
    docs_dir: Path | None = None,
    store: bool = True,
    last_included_date: dt.date | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    session: Session | None = None,
) -> ValidationReport:
    """Validate every suite on the warehouse; never raises on failing data (only on an unusable setup)."""
    started = time.perf_counter()
    settings = settings or QualitySettings()
    notify = on_progress or (lambda progress: None)
    own_session = session is None
    session = session or warehouse.connect()
    report = ValidationReport(run_id=f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
                              run_at=dt.datetime.now(dt.UTC), warehouse=warehouse.label)
    try:
        notify(Progress("reading the warehouse"))
        report.last_included_date = last_included_date or _last_included_date(session, settings)
        raw_schema = _raw_schema(session, settings)
        plans = plan_suites(settings, report.last_included_date, raw_schema,
                            _optional_inputs_present(session, settings, raw_schema))
        present, missing = _split_missing(session, plans)
        report.results += [_missing_table(plan) for plan in missing]
        if report.last_included_date is None and "metrics" in settings.include_layers:
            report.results.append(CheckResult(
                suite="context", table=f"{settings.schemas.intermediate}.int_reporting_cutoff",
                rule="cutoff_known", expectation="cutoff_known", success=False, severity="warning",
                error="No reporting cutoff: freshness checks skipped (run dbt build first)."))
        if present:
            session.check_reflection(present[0].schema, present[0].table)
            validation_started = time.perf_counter()
            # DuckDB sessions log every statement in their cursors; elsewhere SQLAlchemy's events do.
            capture = nullcontext() if session.dialect == "duckdb" else capture_all_statements(session.log)
            with capture:
                report.results += _run_checkpoint(session, present, docs_dir, report, notify)
            report.validation_s = time.perf_counter() - validation_started
        if store:
            notify(Progress("storing results"))
            report.stored_in = store_results(session, report, settings.schemas.audit)
    finally:
        if own_session:
            session.close()
    report.elapsed_s = time.perf_counter() - started
    return report


def _last_included_date(session: Session, settings: QualitySettings) -> dt.date | None:
    schema = settings.schemas.intermediate
    if "int_reporting_cutoff" not in session.table_names(schema):
        return None
    value = session.scalar(f"select max(last_included_date) from {schema}.int_reporting_cutoff")
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _raw_schema(session: Session, settings: QualitySettings) -> str:
    """The raw schema, or the sample seeds' schema when dbt built from them (no raw `users`). Only
    for settings that do not name the relations the build read (QualitySettings.raw_inputs)."""
    if settings.raw_inputs:
        return settings.schemas.raw
    if "users" not in session.table_names(settings.schemas.raw) and "users" in session.table_names(SAMPLE_RAW_SCHEMA):
        return SAMPLE_RAW_SCHEMA
    return settings.schemas.raw


def _optional_inputs_present(session: Session, settings: QualitySettings, raw_schema: str) -> set[str]:
    """The optional raw inputs whose table exists (where the build read it, else in the raw schema)."""
    if "raw" not in settings.include_layers:
        return set()
    read = {table: (schema, identifier) for table, schema, identifier in settings.raw_inputs}
    present = set()
    for source in OPTIONAL_RAW_SOURCES:
        schema, identifier = read.get(source.name, (raw_schema, source.name))
        if identifier in session.table_names(schema):
            present.add(source.name)
    return present


def _split_missing(session: Session, plans: list[SuitePlan]) -> tuple[list[SuitePlan], list[SuitePlan]]:
    tables: dict[str, set[str]] = {}
    present: list[SuitePlan] = []
    missing: list[SuitePlan] = []
    for plan in plans:
        names = tables.setdefault(plan.schema, session.table_names(plan.schema))
        (present if plan.table in names else missing).append(plan)
    return present, missing


def _missing_table(plan: SuitePlan) -> CheckResult:
    severity = "warning" if plan.layer == "raw" else "critical"
    return CheckResult(suite=plan.name, table=f"{plan.schema}.{plan.table}", rule="table_exists",
                       expectation="table_exists", success=False, severity=severity,
                       error=f"{plan.schema}.{plan.table} does not exist.")


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    # Loaded with GX itself, so the first validation does not pay for them (bench/bench_validate.py).
    import great_expectations.checkpoint
    import great_expectations.data_context.types.base

    # GX logs every metric it could not compute at ERROR level too; the result carries it.
    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    return gx


def _run_checkpoint(session: Session, plans: list[SuitePlan], docs_dir: Path | None, report: ValidationReport,
                    notify: Callable[[Progress], None]) -> list[CheckResult]:
    gx = _gx()
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    notify(Progress("preparing suites", 0, len(plans)))
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions: list[Any] = []
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site("product_metrics", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=["product_metrics"]))
    if session.dialect == "postgresql":
        datasource = context.data_sources.add_postgres(name="warehouse", connection_string=session.connection_string)
    else:
        datasource = context.data_sources.add_sql(name="warehouse", connection_string=session.connection_string,
                                                  kwargs=session.engine_kwargs)
    definitions = []
    by_suite: dict[str, SuitePlan] = {}
    for plan in plans:
        with warnings.catch_warnings():
            # GX would have the schema in the connection; one warehouse holds several layers' schemas.
            warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
            asset = datasource.add_table_asset(name=plan.name, table_name=plan.table, schema_name=plan.schema)
        batch = asset.add_batch_definition_whole_table("whole_table")
        suite = context.suites.add(to_gx_suite(plan))
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=plan.name, data=batch, suite=suite)))
        by_suite[plan.name] = plan
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name="product_metrics_quality_gate", validation_definitions=definitions, actions=actions,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES},
    ))
    notify(Progress("validating", 0, len(plans)))
    result = checkpoint.run(run_id=gx.RunIdentifier(run_name=report.run_id))
    results: list[CheckResult] = []
    for suite_result in result.run_results.values():
        plan = by_suite[suite_result.suite_name]
        results += [_with_examples(session, plan, _check_result(plan, r)) for r in suite_result.results]
    if docs_dir is not None:
        index = docs_dir / "index.html"
        report.docs_index = str(index) if index.is_file() else None
        _prune_validation_pages(docs_dir)
    return results


def _prune_validation_pages(docs_dir: Path) -> None:
    """Each run adds a page per suite under validations/<layer>/<suite>/<run id>/, and the index
    (an ephemeral GX context) links only the latest run's: keep as many runs as of dbt's run
    directories (PRODUCT_METRICS_KEEP_RUNS), so a daily schedule does not fill the disk."""
    from product_metrics.dbt import keep_runs, prune_runs

    for suite_dir in docs_dir.glob("validations/*/*"):
        if suite_dir.is_dir():
            prune_runs(suite_dir, keep_runs())


def _check_result(plan: SuitePlan, result) -> CheckResult:
    config = result.expectation_config
    meta = config.meta or {}
    payload = result.result or {}
    details = payload.get("details") or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = str(result.exception_info.get("exception_message"))
    elif result.exception_info and not payload:
        messages = [str(info.get("exception_message")) for info in result.exception_info.values()
                    if isinstance(info, dict) and info.get("raised_exception")]
        error = "; ".join(messages) or None
    examples: tuple[Any, ...] = ()
    if details.get("unexpected_rows"):
        examples = tuple(details["unexpected_rows"][:EXAMPLES])
    elif payload.get("partial_unexpected_list"):
        examples = tuple(payload["partial_unexpected_list"][:EXAMPLES])
    unexpected = payload.get("unexpected_count")
    observed = payload.get("observed_value")
    if config.type == "unexpected_rows_expectation":
        unexpected = observed if isinstance(observed, int) else unexpected
    severity = getattr(config, "severity", None) or "critical"
    return CheckResult(
        suite=plan.name, table=meta.get("table") or f"{plan.schema}.{plan.table}",
        rule=meta.get("rule") or config.type, expectation=config.type,
        success=bool(result.success) and error is None,
        severity=str(getattr(severity, "value", severity)), column=meta.get("column") or config.kwargs.get("column"),
        observed_value=observed, unexpected_count=unexpected, examples=examples, error=error,
    )


def _with_examples(session: Session, plan: SuitePlan, result: CheckResult) -> CheckResult:
    """GX's SUMMARY results leave out the rows a SQL check found; fetch a few, in SQL, with a limit."""
    if result.success or result.error or result.examples or result.expectation != "unexpected_rows_expectation":
        return result
    check = next((c for c in plan.checks if c.rule == result.rule and c.column == result.column), None)
    if check is None:
        return result
    query = check.kwargs["unexpected_rows_query"].replace("{batch}", f"{plan.schema}.{plan.table}")
    try:
        rows = session.rows(f"select * from ({query}) failing limit {EXAMPLES}")
    except Exception:  # noqa: BLE001 - examples are a courtesy; the check's own result stands
        return result
    return replace(result, examples=tuple(rows))
