"""`dbt build` with a progress bar and a readable result, shared by `demo` and `build`."""

from __future__ import annotations


def dbt_build_with_progress(project, console, vars: dict[str, object] | None = None,
                            args: list[str] | None = None, env: dict[str, str] | None = None,
                            timeout_s: float | None = None):
    """Run `dbt build` showing progress; print the result, and on failure what failed.
    `args`: the dbt arguments (default `build`; refresh adds --full-refresh); `env`: extra
    environment variables for dbt; `timeout_s`: dbt is stopped after it (run_dbt).
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
        run = dbt.run_dbt(project, args or ["build"], vars=vars, env=env, on_progress=advance,
                          **({"timeout_s": timeout_s} if timeout_s is not None else {}))
    for line in run.warning_lines[:10]:
        console.print(f"[yellow]! dbt warning:[/] {line}")
    if run.success:
        console.print(f"[green]✓[/] dbt build: {len(run.results)} models, seeds and tests passed "
                      f"in {run.elapsed_s:.1f}s")
        return run
    if run.timed_out:
        console.print(f"[red]✗ dbt build stopped:[/] it ran longer than the timeout ({timeout_s / 60:g} min) and "
                      "was interrupted.")
        return run
    failed = run.failed_nodes()
    console.print(f"[red]✗ dbt build failed[/] ({len(failed)} failed nodes):" if failed
                  else "[red]✗ dbt build failed[/]:")
    for node in failed[:20]:  # one line each, unwrapped: names and paths to copy
        console.print(f"  [red]{node.status}[/] {escape(dbt.failure_line(node))}", soft_wrap=True, highlight=False)
    if not failed:  # dbt stopped before any node ran: its own error lines say why
        for line in run.error_summary()[-10:]:
            console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
    console.print(f"  Full logs: {project.root / 'logs' / 'dbt.log'}; artifacts: {run.target_path}")
    return run


def failure_detail(project, run) -> tuple[str, list[str]]:
    """A failed dbt build's stage detail and where to see more (`build`, `refresh`). When no node
    failed, dbt stopped before running any (a var refused by the on-run-start hook, a compilation
    error): its error line is the detail, and it wrote no run_results.json to point to."""
    failed = run.failed_nodes()  # read from run_results.json: there is one when a node failed
    logs = f"logs: {project.root / 'logs' / 'dbt.log'}"
    if failed:
        return (f"{len(failed)} failed nodes: {', '.join(n.unique_id for n in failed[:3])}",
                [logs, f"artifacts: {run.target_path / 'run_results.json'}"])
    return " ".join(run.error_summary()[:2]) or f"dbt exited with code {run.returncode}", [logs]
