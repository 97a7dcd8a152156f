"""Run dbt as a subprocess, the way dagster-dbt does: JSON logs streamed for progress, a
per-run target path, and the run's artifacts (run_results.json) read afterwards.
One dbt invocation per process, never two in one interpreter.

Each run has its own target path, so dbt's partial-parsing state (partial_parse.msgpack, which dbt
reads from and writes to the target path) is carried from run to run here: one saved file per
warehouse and dbt target, copied in before the run and back after it. dbt itself checks that the
saved state fits (dbt version, vars, profile, file hashes) and re-parses what does not, so reusing it
is always safe; it turns a scheduled refresh's ~14 s full parse into a second or two."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from product_metrics.project import Project

FAILED_STATUSES = {"error", "fail", "runtime error"}
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
KEPT_PARSE_STATES = 16  # one per warehouse and target; tests make many throw-away warehouses


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str | None
    execution_time_s: float


@dataclass(frozen=True)
class Progress:
    """One finished node, as dbt reports it: 'OK created sql table model metrics.fct_x'."""

    index: int
    total: int
    status: str
    message: str


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    target_path: Path
    elapsed_s: float = 0.0
    results: list[NodeResult] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    full_parse: bool = False  # dbt could not reuse the saved parse (it logs why, at info level)

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def failed_nodes(self) -> list[NodeResult]:
        return [r for r in self.results if r.status in FAILED_STATUSES]


def run_dbt(
    project: Project,
    args: Sequence[str],
    *,
    vars: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> DbtRun:
    """Run `dbt <args>` in the project; returns its results and never raises on a dbt failure.
    `env`: extra environment variables for this run (read by macros at run time, so, unlike
    `vars`, changing them does not cost a full parse)."""
    target_path = project.root / "target" / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "dbt.cli.main", "--log-format", "json", "--no-use-colors",
               *args, "--target-path", str(target_path)]
    if vars:
        command += ["--vars", json.dumps(vars)]
    run_env = {**project.dbt_env(), **(env or {})}
    saved_parse = partial_parse_state(project, run_env)
    if saved_parse.is_file():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved_parse, target_path / PARTIAL_PARSE_FILE)
    run = DbtRun(args=list(args), returncode=-1, target_path=target_path)
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=project.root, env=run_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            _handle_log_line(line, run, on_progress)
        run.returncode = process.wait()
    run.elapsed_s = time.perf_counter() - started
    run.results = _read_run_results(target_path)
    _save_partial_parse_state(target_path / PARTIAL_PARSE_FILE, saved_parse)
    return run


def partial_parse_state(project: Project, env: dict[str, str]) -> Path:
    """Where the parse state of runs on this warehouse and dbt target is kept between runs."""
    key = "|".join([env.get("DBT_TARGET", "duckdb"), str(project.duckdb_path),
                    *(env.get(name, "") for name in ("PRODUCT_METRICS_POSTGRES_SCHEMA", "PRODUCT_METRICS_SPARK_DIR"))])
    return project.root / "target" / "partial_parse" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.msgpack"


def _save_partial_parse_state(written: Path, saved: Path) -> None:
    """Copy the run's parse state back, atomically: a concurrent run reads the old file or the new."""
    if not written.is_file():
        return
    saved.parent.mkdir(parents=True, exist_ok=True)
    temporary = saved.with_name(f"{saved.name}.{os.getpid()}.tmp")
    shutil.copyfile(written, temporary)
    os.replace(temporary, saved)
    states = sorted(saved.parent.glob(f"*{Path(PARTIAL_PARSE_FILE).suffix}"), key=_modified, reverse=True)
    for stale in states[KEPT_PARSE_STATES:]:
        stale.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by a concurrent run's pruning
        return 0.0


def _handle_log_line(line: str, run: DbtRun, on_progress: Callable[[Progress], None] | None) -> None:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        # Not a dbt event: a crash before logging started. Keep it for the error report.
        if line.strip():
            run.error_lines.append(line.rstrip())
        return
    info, data = event.get("info", {}), event.get("data", {})
    if info.get("name") == "UnableToPartialParse":
        run.full_parse = True
    if info.get("level") == "error" and info.get("msg"):
        run.error_lines.append(info["msg"])
    # Every "result" event of a node carries its position in the run.
    if on_progress and "total" in data and info.get("name") != "LogStartLine":
        on_progress(Progress(int(data.get("index", 0)), int(data["total"]), str(data.get("status", "")),
                             info.get("msg", "")))


def _read_run_results(target_path: Path) -> list[NodeResult]:
    path = target_path / "run_results.json"
    if not path.is_file():
        return []
    payload = json.loads(path.read_text())
    return [
        NodeResult(r["unique_id"], r["status"], r.get("message"), float(r.get("execution_time") or 0.0))
        for r in payload.get("results", [])
    ]
