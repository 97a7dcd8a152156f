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
from typing import TYPE_CHECKING

from product_metrics.errors import UserError

if TYPE_CHECKING:
    from product_metrics.warehouses.postgres import PostgresSettings

UNPUBLISHED_DIR = ".unpublished"


class PublishError(UserError):
    """The run cannot start aside or be published; the message says why and what to do."""


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
        with self.work.open("rb+") as handle:
            os.fsync(handle.fileno())
        with _no_other_writer(self.live) if state.exists else contextlib.nullcontext():
            self.work.replace(self.live)
        _fsync_directory(self.live.parent)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    _wal(path).unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    import duckdb

    from product_metrics.warehouse import WarehouseError, open_duckdb

    try:
        with open_duckdb(path, read_only=False) as connection:
            connection.execute("checkpoint")
    except WarehouseError as error:
        raise PublishError(str(error)) from None
    except duckdb.IOException as error:
        raise PublishError(f"Cannot checkpoint {path}: {str(error).splitlines()[0]}") from None


@contextlib.contextmanager
def _no_other_writer(path: Path) -> Iterator[None]:
    """Hold a shared lock of the kind DuckDB takes (fcntl, whole file) while the block runs: it is
    granted while other processes only read the file, refused while one writes it."""
    with path.open("rb") as handle:
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


class Publication:
    """How a run writes aside and publishes on its engine: `prepare` before the stages, the stages on
    `working(project)`, then `publish` when every stage passed, else `discard`, which says where the
    failed run's output stays."""

    published: bool = False  # set the moment the swap is done

    def prepare(self) -> None:
        raise NotImplementedError

    def working(self, project):
        raise NotImplementedError

    def publish(self) -> str:
        raise NotImplementedError

    def discard(self) -> str:
        raise NotImplementedError


@dataclass
class FileSwap(Publication):
    """DuckDB: the whole warehouse file, copied aside and renamed over the live one."""

    copy: WarehouseCopy
    state: FileState | None = None
    copy_s: float = 0.0

    def prepare(self) -> None:
        from product_metrics.warehouse import check_duckdb_warehouse

        check_duckdb_warehouse(self.copy.live, write=True)  # DuckDB's own lock: names the process holding it
        self.state, self.copy_s = self.copy.prepare()

    def working(self, project):
        import dataclasses

        return dataclasses.replace(project, duckdb_path=self.copy.work)

    def publish(self) -> str:
        assert self.state is not None, "prepare() first"
        self.copy.publish(self.state)
        self.published = True
        return (f"{self.copy.live.name} replaced atomically by the run's copy ({file_size_text(self.copy.live)}, "
                f"copied in {self.copy_s:.1f}s)")

    def discard(self) -> str:
        return f"{self.copy.live} is unchanged. The failed run's warehouse stays in {self.copy.work} until the next run."


@dataclass
class SchemaSwap(Publication):
    """PostgreSQL: the BI-facing schemas built as pending schemas and swapped in by one transaction
    (product_metrics.warehouses.postgres_publish)."""

    settings: PostgresSettings
    # The live schemas BI reads, as dbt builds them (the manifest's metrics and audit schemas); the
    # run builds each as `<live>__pending` (dbt_project.yml appends PRODUCT_METRICS_PUBLISH_SUFFIX).
    live_schemas: tuple[str, ...] = ("metrics", "audit")
    settings_in_env: bool = True  # False: the settings came from the user's profile (PostgresProject)

    def prepare(self) -> None:
        from product_metrics.warehouses import postgres_publish

        postgres_publish.prepare(self.settings, self.live_schemas)

    def working(self, project):
        import dataclasses

        from product_metrics.warehouses.postgres import PostgresProject
        from product_metrics.warehouses.postgres_publish import PENDING_SUFFIX

        fields = {f.name: getattr(project, f.name) for f in dataclasses.fields(project) if f.init
                  and f.name in ("root", "duckdb_path", "profiles_dir", "target", "vars")}
        return PostgresProject(**fields, postgres=self.settings, publish_suffix=PENDING_SUFFIX,
                               settings_in_env=self.settings_in_env)

    def publish(self) -> str:
        from product_metrics.warehouses import postgres_publish

        published = postgres_publish.publish(self.settings, self.live_schemas)
        self.published = True
        return (f"{len(published.relations)} tables of {', '.join(self.live_schemas)} swapped in "
                f"one transaction ({published.elapsed_s:.2f}s)")

    def discard(self) -> str:
        from product_metrics.warehouses import postgres_publish

        kept = postgres_publish.discard(self.settings, self.live_schemas)
        return (f"schemas {', '.join(self.live_schemas)} of {self.settings.dbname} are unchanged. The "
                f"failed run's tables stay in {', '.join(kept)} (closed to BI) until the next run.")


POSTGRES_TARGET = "postgres"


def is_postgres_target(project=None) -> bool:
    """dbt's target is PostgreSQL: DBT_TARGET=postgres (the demo profile's target, set by the
    PRODUCT_METRICS_POSTGRES_* settings), or a user's profile whose target has type postgres."""
    if os.environ.get("DBT_TARGET") == POSTGRES_TARGET:
        return True
    return project is not None and _profile_type(project) == POSTGRES_TARGET


def _profile_type(project) -> str | None:
    from product_metrics.profile import ProfileError

    if "PRODUCT_METRICS_DUCKDB_PATH" in _profile_text(project):  # the demo's profile: DBT_TARGET decides
        return None
    try:
        return project.profile_target().type
    except ProfileError:
        return None


def _profile_text(project) -> str:
    try:
        return (project.profiles_path / "profiles.yml").read_text()
    except OSError:
        return ""


def check_before_lock(project) -> None:
    """Before `build` or `refresh` takes the warehouse lock (whose file lies beside the DuckDB file):
    the DuckDB warehouse exists and can be written, or a UserError says why, creating nothing. A
    PostgreSQL run finds its problems when it connects (`prepare`)."""
    from product_metrics.warehouse import check_duckdb_warehouse

    if not is_postgres_target(project):
        check_duckdb_warehouse(project.duckdb_path, write=True, connect=False)


def publication_for(project) -> Publication:
    """The target's way to publish: PostgreSQL when dbt's target is `postgres` (DBT_TARGET, as the
    demo's profiles.yml reads it, with the PRODUCT_METRICS_POSTGRES_* settings; or a user's profile
    whose target is PostgreSQL, with its own credentials), else the DuckDB file. The live schemas are
    where dbt builds the metric and audit tables (a parse of the project, product_metrics.relations)."""
    if not is_postgres_target(project):
        return FileSwap(WarehouseCopy(project.duckdb_path))
    from product_metrics.relations import RelationsError, relations_for
    from product_metrics.warehouses.postgres import PostgresSettings

    in_env = os.environ.get("DBT_TARGET") == POSTGRES_TARGET
    try:
        settings = PostgresSettings.from_env() if in_env else project.profile_target().postgres()
        relations = relations_for(project)
    except (ValueError, RelationsError) as error:
        raise PublishError(str(error)) from None
    return SchemaSwap(settings, live_schemas=(relations.metrics_schema, relations.audit_schema),
                      settings_in_env=in_env)
