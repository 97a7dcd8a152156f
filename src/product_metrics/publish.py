"""Write-audit-publish on the embedded DuckDB warehouse: `product-metrics build` and `refresh` run
every stage (dbt build, data quality, governance, alerts) on a copy of the warehouse file, and the
copy replaces the live file, in one atomic rename, only when every stage passed.

What BI reads (the `metrics` schema, the audit tables the report reads) is therefore either
yesterday's warehouse or today's whole run, never a half-written or failed one:
- a failed stage, a refused setting or a killed process leaves the live file as it was; the
  failed run's copy stays in `<warehouse dir>/.unpublished/` for inspection until the next run;
- readers keep reading the live file while the run works on the copy (DuckDB lets one writer
  and no reader in at a time: building in place locked BI out for the whole run);
- a reader that has the file open at the rename keeps the snapshot it opened; the next
  connection sees the new warehouse.

The copy is the whole file, so the incremental models keep their state and everything a run
writes (rejected rows, data-quality results, alerts) is published together. Its cost is one
sequential file copy per run (bench/RESULTS.md); the disk holds the warehouse twice while a run
works, three times never.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UNPUBLISHED_DIR = ".unpublished"


class PublishError(RuntimeError):
    """The run's copy cannot be made or published; the message says why and what to do."""


@dataclass(frozen=True)
class FileState:
    """What the live file was when the copy was taken: publishing over a file that changed since
    (a loader wrote raw rows into it) would lose that change."""

    exists: bool
    inode: int = 0
    size: int = 0
    modified_ns: int = 0

    @classmethod
    def of(cls, path: Path) -> FileState:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls(exists=False)
        return cls(exists=True, inode=stat.st_ino, size=stat.st_size, modified_ns=stat.st_mtime_ns)


@dataclass(frozen=True)
class WarehouseCopy:
    """The live warehouse file and the copy a run writes to (same directory tree, so the final
    rename is atomic; same file name, so DuckDB's catalog name — the file's stem, which dbt writes
    into every relation of the manifest — is the live one's)."""

    live: Path

    @property
    def work(self) -> Path:
        return self.live.parent / UNPUBLISHED_DIR / self.live.name

    def prepare(self) -> tuple[FileState, float]:
        """Copy the live file to the work path (an empty work path when there is no live file
        yet). Returns the live file's state and the seconds the copy took."""
        if not self.live.parent.is_dir():
            raise PublishError(f"The warehouse's directory {self.live.parent} does not exist: create it, or point "
                               "PRODUCT_METRICS_DUCKDB_PATH (or --database) at an existing directory.")
        started = time.perf_counter()
        self.work.parent.mkdir(exist_ok=True)
        _remove_database(self.work)
        state = FileState.of(self.live)
        if state.exists:
            with _no_other_writer(self.live):
                if _wal(self.live).exists():
                    _checkpoint(self.live)  # a crashed writer's log: fold it in before copying one file
                    state = FileState.of(self.live)
                shutil.copyfile(self.live, self.work)
        return state, time.perf_counter() - started

    def publish(self, state: FileState) -> None:
        """Replace the live file by the work copy, atomically; refuse when the live file changed
        since the copy was taken or another process has it open for writing."""
        if FileState.of(self.live) != state:
            raise PublishError(f"{self.live} changed while this run worked on its copy (raw data loaded into it?): "
                               f"nothing was published. Run again; the run's copy is in {self.work}.")
        _checkpoint(self.work)  # no write-ahead log left beside the copy: the file alone is the warehouse
        with open(self.work, "rb+") as handle:
            os.fsync(handle.fileno())
        with _no_other_writer(self.live) if state.exists else contextlib.nullcontext():
            os.replace(self.work, self.live)
        _fsync_directory(self.live.parent)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    _wal(path).unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    import duckdb

    try:
        with duckdb.connect(str(path)) as connection:
            connection.execute("checkpoint")
    except duckdb.IOException as error:
        raise PublishError(f"Cannot open {path} to write it: {str(error).splitlines()[0]}") from None


@contextlib.contextmanager
def _no_other_writer(path: Path) -> Iterator[None]:
    """Hold a shared lock of the kind DuckDB takes (fcntl, whole file) while the block runs: it is
    granted while other processes only read the file, refused while one writes it."""
    with open(path, "rb") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            raise PublishError(f"{path} is open for writing in another process (a DuckDB client, a loader, a "
                               "notebook?): close it and run again. Nothing was changed.") from None
        yield


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def file_size_text(path: Path) -> str:
    size = path.stat().st_size if path.exists() else 0
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"
