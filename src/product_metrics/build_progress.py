"""`dbt build` with a progress bar and a readable result, shared by `demo` and `build`."""

from __future__ import annotations


def dbt_build_with_progress(project, console, vars: dict[str, object] | None = None,
                            args: list[str] | None = None, env: dict[str, str] | None = None):
    """Run `dbt build` showing progress; print the result, and on failure what failed.
    `args`: the dbt arguments (default `build`; refresh adds --full-refresh); `env`: extra
    environment variables for dbt.
    Returns the DbtRun (never raises on a dbt failure)."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from product_metrics import dbt

    with Progress(TextColumn("[bold]dbt build"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def advance(event):
            progress.update(task, total=event.total, completed=event.index, description=event.message[:60])

        # Looked up on the module at call time, so tests can stand in for dbt.
        run = dbt.run_dbt(project, args or ["build"], vars=vars, env=env, on_progress=advance)
    if run.success:
        console.print(f"[green]✓[/] dbt build: {len(run.results)} models, seeds and tests passed "
                      f"in {run.elapsed_s:.1f}s")
        return run
    failed = run.failed_nodes()
    console.print(f"[red]✗ dbt build failed[/] ({len(failed)} failed nodes):")
    for node in failed[:20]:  # one line each, unwrapped: names and paths to copy
        console.print(f"  [red]{node.status}[/] {escape(dbt.failure_line(node))}", soft_wrap=True, highlight=False)
    if not failed:  # dbt stopped before any node ran: its own error lines say why
        for line in run.error_lines[-10:]:
            console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
    console.print(f"  Full logs: {project.root / 'logs' / 'dbt.log'}; artifacts: {run.target_path}")
    return run
