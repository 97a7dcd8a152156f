"""Errors a user can cause, and the exit codes of every command.

A problem the user can fix (a wrong path, a file that is not a warehouse, a lock held by another
process, a server that does not answer) is raised as a `UserError` where it is found, with a message
that says what is wrong, where, and what to do. The command line prints it in one or two lines and
exits with its code (product_metrics.cli); `--debug` shows the traceback instead. A warehouse that
cannot be opened is a WarehouseError (product_metrics.warehouse), a UserError too.

Only the standard library is imported here: the command line imports this module at start-up.
"""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_FAILED = 1       # a check failed: dbt build, data quality, governance, a threshold (--fail-on)
EXIT_CANNOT_RUN = 2   # the command could not run: a wrong path, option, file or connection
EXIT_LOCKED = 3       # the warehouse is busy (another refresh, or another process holds DuckDB's lock)
EXIT_INTERNAL = 4     # an unexpected error: a bug; `--debug` shows the traceback

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
