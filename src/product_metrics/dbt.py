"""Run dbt as a subprocess, the way dagster-dbt does: JSON logs streamed for progress, a
per-run target path, and the run's artifacts (run_results.json) read afterwards.
One dbt invocation per process, never two in one interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from product_metrics.project import Project

FAILED_STATUSES = {"error", "fail", "runtime error"}


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
    on_progress: Callable[[Progress], None] | None = None,
) -> DbtRun:
    """Run `dbt <args>` in the project; returns its results and never raises on a dbt failure."""
    target_path = project.root / "target" / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "dbt.cli.main", "--log-format", "json", "--no-use-colors",
               *args, "--target-path", str(target_path)]
    if vars:
        command += ["--vars", json.dumps(vars)]
    project.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    run = DbtRun(args=list(args), returncode=-1, target_path=target_path)
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=project.root, env=project.dbt_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            _handle_log_line(line, run, on_progress)
        run.returncode = process.wait()
    run.elapsed_s = time.perf_counter() - started
    run.results = _read_run_results(target_path)
    return run


def _handle_log_line(line: str, run: DbtRun, on_progress: Callable[[Progress], None] | None) -> None:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        # Not a dbt event: a crash before logging started. Keep it for the error report.
        if line.strip():
            run.error_lines.append(line.rstrip())
        return
    info, data = event.get("info", {}), event.get("data", {})
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
