"""Errors a user can cause, and the exit codes of every command.

A problem the user can fix (a wrong path, a file that is not a warehouse, a lock held by another
process, a server that does not answer) is raised as a `UserError` where it is found, with a message
that says what is wrong, where, and what to do. The command line prints it in one or two lines and
exits with its code (product_metrics.cli); `--debug` shows the traceback instead. The warehouse errors
of the quality and governance modules are UserErrors too.

Only the standard library is imported here: the command line imports this module at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1       # a check failed: dbt build, data quality, governance, a threshold (--fail-on)
EXIT_CANNOT_RUN = 2   # the command could not run: a wrong path, option, file or connection
EXIT_LOCKED = 3       # the warehouse is busy (another refresh, or another process holds DuckDB's lock)
EXIT_INTERNAL = 4     # an unexpected error: a bug; `--debug` shows the traceback

DUCKDB_PATH_HINT = "--database or PRODUCT_METRICS_DUCKDB_PATH"


class UserError(RuntimeError):
    """A problem the user can fix; the message says what is wrong, where, and what to do."""

    exit_code = EXIT_CANNOT_RUN

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def first_line(error: BaseException | str) -> str:
    """The first non-empty line of an error's message (drivers append hints and links below it)."""
    text = str(getattr(error, "orig", None) or error)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)


def bad_url(url: str, error: BaseException) -> str:
    url = re.sub(r"(//[^:/@]+:)[^@/]*@", r"\1***@", url)  # never print a password
    return (f"{url} is not a warehouse URL this installation can use ({first_line(error)}). Pass --url (or "
            "PRODUCT_METRICS_WAREHOUSE_URL) as a SQLAlchemy URL, e.g. postgresql+psycopg2://user@host/db.")


def missing_warehouse(path: Path) -> str:
    where = "" if path.parent.is_dir() else f" (its directory {path.parent} does not exist either)"
    return (f"No DuckDB warehouse at {path}{where}. Check {DUCKDB_PATH_HINT}; "
            "to make one: `product-metrics demo` (demo data, built) or load your raw tables and run "
            "`product-metrics build`.")


def not_a_database(path: Path) -> str:
    return f"{path} is not a DuckDB database. Check {DUCKDB_PATH_HINT}: it must name the warehouse file."


def _has_duckdb_header(path: Path) -> bool:
    """DuckDB's file magic ("DUCK" after an 8-byte checksum); an empty file is a new database."""
    with path.open("rb") as file:
        head = file.read(12)
    return not head or head[8:12] == b"DUCK"


def require_warehouse(path: Path, error: type[UserError] = UserError) -> None:
    """For commands that read a warehouse: it must exist (never create one on a mistyped path)."""
    if not path.is_file():
        raise error(missing_warehouse(path))


def require_directory(path: Path, error: type[UserError] = UserError) -> None:
    """For commands that may create the warehouse file: its directory must exist already, so a
    mistyped path never creates directories."""
    if not path.parent.is_dir():
        raise error(f"The directory of the warehouse {path} does not exist. Check {DUCKDB_PATH_HINT}, "
                    f"or create it: mkdir -p {path.parent}")


def duckdb_open_error(path: Path, error: Exception, cls: type[UserError] = UserError) -> UserError:
    """A DuckDB error on opening `path`, explained: locked, not a database, not writable, or other."""
    message = first_line(error)
    lowered = message.lower()
    if "could not set lock" in lowered or "conflicting lock" in lowered:
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
        who = f"process {holder.group(2)} ({holder.group(1)})" if holder else "another process"
        return cls(f"The warehouse {path} is in use: {who} holds DuckDB's lock (one writer, or readers "
                   "without a writer). Nothing was done; run again when it has finished.",
                   exit_code=EXIT_LOCKED)
    if "not a valid duckdb database" in lowered:
        return cls(not_a_database(path))
    if "version" in lowered and "storage" in lowered:
        return cls(f"{path} cannot be opened by this DuckDB ({message}).")
    if "permission denied" in lowered or "read-only file system" in lowered or "operation not permitted" in lowered:
        return cls(f"{path} cannot be opened for writing ({message}). Give this user write access to "
                   f"the file and its directory, or point {DUCKDB_PATH_HINT} at a writable copy.")
    if "does not exist" in lowered or "no such file" in lowered:
        return cls(missing_warehouse(path))
    return cls(f"Cannot open the warehouse {path}: {message}")


def open_duckdb(path: Path, *, read_only: bool = True, error: type[UserError] = UserError):
    """A DuckDB connection to an existing warehouse file, or a UserError saying why there is none."""
    import duckdb

    require_warehouse(path, error)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as failure:
        raise duckdb_open_error(path, failure, error) from failure


def check_duckdb_warehouse(path: Path, *, write: bool, create: bool = False, connect: bool = True,
                           error: type[UserError] = UserError) -> None:
    """Before a command that runs dbt or writes: the warehouse opens (read-write when `write`), or a
    UserError says why not. `create`: a missing file is fine (the command creates it; its directory
    must exist). Opens and closes the file at once, holding no lock afterwards; `connect=False`
    checks without opening it (without DuckDB's lock: path, permissions, file header)."""
    import os

    if not path.exists():
        if not create:
            raise error(missing_warehouse(path))
        require_directory(path, error)
        if not os.access(path.parent, os.W_OK):
            raise error(f"Cannot create the warehouse {path}: its directory is not writable. Give this "
                        f"user write access, or point {DUCKDB_PATH_HINT} elsewhere.")
        return
    if path.is_dir():
        raise error(f"{path} is a directory, not a DuckDB file. Check {DUCKDB_PATH_HINT}.")
    if write and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        unwritable = "the file" if not os.access(path, os.W_OK) else f"its directory {path.parent}"
        raise error(f"{path} cannot be written: {unwritable} is read-only for this user. Give this user "
                    f"write access, or point {DUCKDB_PATH_HINT} at a writable copy.")
    if not _has_duckdb_header(path):
        raise error(not_a_database(path))
    if not connect:
        return
    import duckdb

    try:
        duckdb.connect(str(path), read_only=not write).close()
    except duckdb.Error as failure:
        raise duckdb_open_error(path, failure, error) from failure
