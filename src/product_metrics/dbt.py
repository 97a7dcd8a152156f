"""Run dbt as a subprocess, the way dagster-dbt does: JSON logs streamed for progress, a
per-run target path, and the run's artifacts (run_results.json) read afterwards.
One dbt invocation per process, never two in one interpreter.

Each run has its own target path, so dbt's partial-parsing state (partial_parse.msgpack, which dbt
reads from and writes to the target path) is carried from run to run here: one saved file per
warehouse and dbt target, copied in before the run and back after it. dbt itself checks that the
saved state fits (dbt version, vars, profile, file hashes) and re-parses what does not, so reusing it
is always safe; it turns a scheduled refresh's ~14 s full parse into a second or two.

Run directories (8-13 MB each) are pruned after every run: the newest PRODUCT_METRICS_KEEP_RUNS (10)
stay, and so does every run a live process still uses (it holds a shared flock on the run's
`.in-use` file until it exits: a refresh's governance check and alerts read the manifest of its dbt
run after dbt has finished). dbt's own log, logs/dbt.log, rotates at DBT_LOG_FILE_MAX_BYTES with 5
old files kept (Project.dbt_env)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

from product_metrics.errors import UserError
from product_metrics.project import Project

FAILED_STATUSES = {"error", "fail", "runtime error"}
_DBT_ERROR_FRAMING = re.compile(r"^(Encountered an error:|\w+ Error( in \w+ \S+ \(.*\))?)$")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
KEPT_PARSE_STATES = 16  # one per warehouse and target; tests make many throw-away warehouses
# Seconds dbt gets to stop after an interrupt before it is killed (dagster-dbt waits as long).
STOP_GRACE_S = 25.0

KEEP_RUNS_ENV = "PRODUCT_METRICS_KEEP_RUNS"
DEFAULT_KEEP_RUNS = 10
RUN_DIR_PATTERN = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")  # what run_dbt names them; nothing else is pruned
IN_USE_FILE = ".in-use"
_HELD_RUNS: dict[Path, IO[str]] = {}  # run directory -> its open .in-use file (the flock ends with the process)


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
    warning_lines: list[str] = field(default_factory=list)  # e.g. a configured event name absent from the data
    full_parse: bool = False  # dbt could not reuse the saved parse (it logs why, at info level)
    timed_out: bool = False  # stopped by the caller's timeout (see Deadline)

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def failed_nodes(self) -> list[NodeResult]:
        return [r for r in self.results if r.status in FAILED_STATUSES]

    def error_summary(self) -> list[str]:
        """dbt's error message lines without its framing ('Encountered an error:', 'Compilation
        Error in operation ...') and macro call stack ('> in macro ...'): for a var refused by the
        on-run-start hook, the one line that names it."""
        lines = [line.strip() for message in self.error_lines for line in message.splitlines()]
        return [line for line in lines
                if line and not line.startswith(">") and not _DBT_ERROR_FRAMING.match(line)]


_MISSING_TABLE = re.compile(r"Table with name \"?([\w.]+)\"? does not exist")


def failure_line(node: NodeResult) -> str:
    """One line for a failed node: its name and the line of dbt's message that says what is wrong
    (dbt's message adds the model's path, the SQL line and hints). A raw table that is missing is
    named as such, with what to do. The project's own messages (`product_metrics: ...`, e.g. a raw
    input not found) are that line already."""
    lines = [line.strip() for line in (node.message or "").splitlines() if line.strip()]
    own = next((line.removeprefix("product_metrics: ") for line in lines if line.startswith("product_metrics: ")), None)
    cause = own or next((line for line in lines if "Error" in line and not line.startswith(("Runtime Error in",
                                                                                              "Database Error in"))),
                        lines[0] if lines else node.status)
    name = node.unique_id.split(".")[-1]
    missing = _MISSING_TABLE.search(cause)
    if missing and name.startswith("base_raw__"):
        cause = (f"the raw table {missing.group(1)} does not exist in the warehouse: load it (schema raw, or "
                 "var product_metrics__raw_schema), or write demo data with `product-metrics demo-data`")
    return f"{name}: {cause}"


def run_dbt(
    project: Project,
    args: Sequence[str],
    *,
    vars: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    timeout_s: float | None = None,
) -> DbtRun:
    """Run `dbt <args>` in the project; returns its results and never raises on a dbt failure.
    `env`: extra environment variables for this run (read by macros at run time, so, unlike
    `vars`, changing them does not cost a full parse). `timeout_s`: dbt is stopped (stop_dbt) when
    it runs longer, and the run is returned failed with `timed_out` set. An interrupt (Ctrl-C, or
    SIGTERM from a scheduler) stops dbt the same way and is raised again as KeyboardInterrupt."""
    target_path = project.root / "target" / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    hold_run(target_path)
    # -W: `python -m dbt.cli.main` makes runpy warn that dbt.cli imported its main module first, a
    # harmless line that would otherwise head every error report.
    command = [sys.executable, "-W", "ignore::RuntimeWarning:runpy", "-m", "dbt.cli.main", "--log-format", "json",
               "--no-use-colors",
               *args, "--target-path", str(target_path)]
    run_env = {**project.dbt_env(), **(env or {})}
    if list(args[:1]) != ["deps"]:
        install_packages(project, run_env)
    if all_vars := {**project.vars, **(vars or {})}:
        command += ["--vars", json.dumps(all_vars)]
    saved_parse = partial_parse_state(project, run_env)
    if saved_parse.is_file():
        shutil.copyfile(saved_parse, target_path / PARTIAL_PARSE_FILE)
    run = DbtRun(args=list(args), returncode=-1, target_path=target_path)
    started = time.perf_counter()
    with (sigterm_as_interrupt(),
          subprocess.Popen(command, cwd=project.root, env=run_env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True) as process,
          Deadline(process, timeout_s) as deadline):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                _handle_log_line(line, run, on_progress)
            run.returncode = process.wait()
        except KeyboardInterrupt:
            stop_dbt(process)
            raise
    run.timed_out = deadline.expired
    run.elapsed_s = time.perf_counter() - started
    run.results = _read_run_results(target_path)
    _save_partial_parse_state(target_path / PARTIAL_PARSE_FILE, saved_parse)
    prune_runs(target_path.parent, keep_runs())
    return run


def stop_dbt(process: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> None:
    """Stop a running dbt the way Ctrl-C does: SIGINT, on which dbt cancels its queries and exits
    (what dagster-dbt sends on a terminated run); killed when still running after `grace_s`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Deadline:
    """Stops a dbt process (stop_dbt, from a timer thread) when it runs longer than `timeout_s`;
    `expired` says whether it did. No timer when `timeout_s` is None."""

    def __init__(self, process: subprocess.Popen, timeout_s: float | None) -> None:
        self.expired = False
        self._process = process
        self._timer = threading.Timer(timeout_s, self._stop) if timeout_s is not None else None
        if self._timer is not None:
            self._timer.daemon = True

    def _stop(self) -> None:
        if self._process.poll() is None:
            self.expired = True
            stop_dbt(self._process)

    def __enter__(self) -> Self:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._timer is not None:
            self._timer.cancel()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A scheduler's SIGTERM is handled like Ctrl-C in the block, so a running dbt is stopped, not
    orphaned. Only where SIGTERM has its default action: a host that handles it (Dagster maps it to
    its own interrupt) keeps its handler; and only in the main thread, where handlers can be set."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def keep_runs() -> int:
    """How many run directories to keep: $PRODUCT_METRICS_KEEP_RUNS (at least 1), default 10."""
    value = os.environ.get(KEEP_RUNS_ENV, "")
    try:
        return max(1, int(value)) if value.strip() else DEFAULT_KEEP_RUNS
    except ValueError:
        from product_metrics.errors import UserError

        raise UserError(f"{KEEP_RUNS_ENV}={value!r} is not a number: set it to how many dbt run directories "
                        "to keep (at least 1).") from None


def hold_run(target_path: Path) -> None:
    """Create the run directory and mark it in use by this process (a shared flock, released when the
    process exits), so no pruning, by this process or another, removes it while it may be read. A
    long-lived process holds only its newest runs (as many as are kept): it is done with older ones."""
    target_path.mkdir(parents=True, exist_ok=True)
    handle = (target_path / IN_USE_FILE).open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _HELD_RUNS[target_path] = handle
    while len(_HELD_RUNS) > keep_runs():
        release_run(next(iter(_HELD_RUNS)))


def release_run(target_path: Path) -> None:
    """Let pruning remove the run directory (a long-lived process that is done with a run calls it)."""
    handle = _HELD_RUNS.pop(target_path, None)
    if handle is not None:
        handle.close()


def prune_runs(runs_dir: Path, keep: int, pattern: re.Pattern[str] = RUN_DIR_PATTERN,
               age: Callable[[Path], Any] = lambda path: path.name) -> list[Path]:
    """Remove the run directories (named as `pattern` says) beyond the newest `keep` that no live
    process holds; returns the removed ones. `age` orders them: by default the name, which starts
    with the run's start time (dagster-dbt's names do not: its runs are ordered by modification time)."""
    runs = sorted((path for path in runs_dir.iterdir() if path.is_dir() and pattern.match(path.name)),
                  key=age, reverse=True) if runs_dir.is_dir() else []
    removed = []
    for run_dir in runs[keep:]:
        if run_dir in _HELD_RUNS:
            continue
        try:
            with (run_dir / IN_USE_FILE).open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while another process holds it
                shutil.rmtree(run_dir, ignore_errors=True)
        except OSError:  # held by another process, removed meanwhile, or not ours to remove: never fail a run
            continue
        removed.append(run_dir)
    return removed


PACKAGE_FILES = ("packages.yml", "dependencies.yml")
INSTALLED_STAMP = ".installed-from"


def install_packages(project: Project, env: dict[str, str]) -> None:
    """`dbt deps` when the project's package list changed since the last install (or never ran):
    the demo project and a user's project have their packages before their first dbt command."""
    listed = b"".join((project.root / name).read_bytes() for name in PACKAGE_FILES if (project.root / name).is_file())
    if not listed:
        return
    stamp = project.root / "dbt_packages" / INSTALLED_STAMP
    digest = hashlib.sha1(listed).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return
    (project.root / "target").mkdir(parents=True, exist_ok=True)
    with (project.root / "target" / ".deps.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time; the next one finds it done
        if stamp.is_file() and stamp.read_text() == digest:
            return
        result = subprocess.run([sys.executable, "-W", "ignore::RuntimeWarning:runpy", "-m", "dbt.cli.main", "deps"],
                                cwd=project.root, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
            raise UserError(f"`dbt deps` failed in {project.root}: {lines[-1] if lines else 'no output'}")
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)


def partial_parse_state(project: Project, env: dict[str, str]) -> Path:
    """Where the parse state of runs on this warehouse and dbt target is kept between runs."""
    key = "|".join([env.get("DBT_TARGET", "duckdb"), str(project.duckdb_path),
                    *(env.get(name, "") for name in ("PRODUCT_METRICS_POSTGRES_SCHEMA", "PRODUCT_METRICS_SPARK_DIR",
                                                       "PRODUCT_METRICS_PUBLISH_SUFFIX"))])
    return project.root / "target" / "partial_parse" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.msgpack"


def _save_partial_parse_state(written: Path, saved: Path) -> None:
    """Copy the run's parse state back, atomically: a concurrent run reads the old file or the new."""
    if not written.is_file():
        return
    saved.parent.mkdir(parents=True, exist_ok=True)
    temporary = saved.with_name(f"{saved.name}.{os.getpid()}.tmp")
    shutil.copyfile(written, temporary)
    temporary.replace(saved)
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
    if info.get("level") == "warn" and info.get("msg"):
        run.warning_lines.append(info["msg"])
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
