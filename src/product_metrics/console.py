"""The rich Console every command prints to, made in one place. rich is imported when a console is
made, not when a command module is imported: `product-metrics --help` stays instant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


def make_console(**options: Any) -> Console:
    """A console on stdout (`stderr=True`: on stderr); `options` are rich.console.Console's
    (`width`, `record`, `soft_wrap`, `highlight`)."""
    from rich.console import Console

    return Console(**options)
