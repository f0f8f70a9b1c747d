"""``runlab run``, ``runlab plan`` and ``runlab status``: launch a sweep and watch it."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from runlab.cli import cli
from runlab.cli.common import pass_store
from runlab.cli.complete import complete_designs, complete_tasks
from runlab.errors import UsageError
from runlab.store import Store


def _duration(text: str | None) -> float | None:
    from runlab.design.sweep import parse_timeout

    return parse_timeout(text, what="duration") if text is not None else None


def _sweep_options(fn: Any) -> Any:
    options = [
        click.argument("sweep", shell_complete=complete_designs),
        click.argument("overrides", nargs=-1),
        click.option(
            "-x",
            "--task",
            shell_complete=complete_tasks,
            help="Python task module:function (for designs without one).",
        ),
        click.option("--only", help="Run only these plan positions: 0,3 or 2-5."),
        click.option("--force", is_flag=True, help="Run completed configs again too."),
        click.option("-t", "--title", help="Only the sweep documents with this _title."),
        click.option(
            "--store",
            "store_dir",
            type=click.Path(file_okay=False),
            help="Store folder (overrides the sweep file's store:).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _prepare(
    store: Store,
    sweep_ref: str,
    overrides: tuple[str, ...],
    *,
    task: str | None,
    only: str | None,
    force: bool,
    title: str | None,
    store_dir: str | None,
) -> Any:
    from runlab.launch.sweeps import load, plan_sweep

    sweep = load(sweep_ref, task=task, title=title)
    ctx = click.get_current_context()
    group_store_given = ctx.parent is not None and ctx.parent.get_parameter_source("store") not in (
        click.core.ParameterSource.DEFAULT,
        None,
    )
    if store_dir is not None:
        store = Store.at(store_dir)
    elif sweep.store and not group_store_given:
        store = Store.at(sweep.store)
    plan = plan_sweep(sweep, store, overrides=overrides, only=only, force=force)
    return sweep, store, plan


def _print_plan(plan: Any, *, as_json: bool) -> None:
    import json

    if as_json:
        click.echo(json.dumps(plan.to_json(), indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sweep {plan.sweep}", show_lines=False)
    for column in ("#", "state", "run", "commands"):
        table.add_column(column, overflow="fold")
    for entry in plan.entries:
        commands = "\n".join(f"{n}: {c}" for n, c in entry.commands) or (
            entry.task.identity() if entry.task else ""
        )
        table.add_row(str(entry.position), entry.state.value, entry.run_id, commands)
    console = Console()
    console.print(table)
    counts = {k: v for k, v in plan.counts().items() if v}
    dropped = f", {len(plan.dropped)} dropped by the design" if plan.dropped else ""
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + dropped)


@cli.command("plan")
@_sweep_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@pass_store
def plan_command(
    store: Store,
    sweep: str,
    overrides: tuple[str, ...],
    task: str | None,
    only: str | None,
    force: bool,
    title: str | None,
    store_dir: str | None,
    as_json: bool,
) -> None:
    """Show what `runlab run` would do, and write nothing.

    Every config with its run folder, the exact commands, and whether it is new, done
    (skipped), failed or interrupted (will re-run), or changed.

    \b
    Examples:
      runlab plan params.yaml
      runlab plan params.yaml lr=0.1,0.01 ~dropout --json
      runlab plan designs.py:svm_grid -x tasks:fit --only 0,3
    """
    _, _, plan = _prepare(
        store, sweep, overrides, task=task, only=only, force=force, title=title, store_dir=store_dir
    )
    _print_plan(plan, as_json=as_json)


@cli.command("run")
@_sweep_options
@click.option(
    "-w", "--workers", type=int, help="Parallel CPU slots (default: the sweep's, else 1)."
)
@click.option(
    "-r",
    "--resources",
    multiple=True,
    help="A slot of device ids, repeatable: -r 0,1 -r 2,3 is two slots of two GPUs.",
)
@click.option("--timeout", help="Per-run time limit: 30s, 10m, 2h.")
@click.option("--retries", type=int, help="Re-run a failed run up to N times.")
@click.option(
    "--grace",
    default="10s",
    show_default=True,
    help="After Ctrl-C/SIGTERM, how long runs get before SIGKILL.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and run nothing (= runlab plan).")
@pass_store
def run_command(
    store: Store,
    sweep: str,
    overrides: tuple[str, ...],
    task: str | None,
    only: str | None,
    force: bool,
    title: str | None,
    store_dir: str | None,
    workers: int | None,
    resources: tuple[str, ...],
    timeout: str | None,
    retries: int | None,
    grace: str,
    dry_run: bool,
) -> None:
    """Run a sweep: every config not already completed, in parallel on the slots.

    Re-running the same command after any crash does exactly what is missing: completed
    runs are skipped, failed, interrupted and lost ones run again in their folders.
    Exits 1 if any run failed.

    \b
    Examples:
      runlab run params.yaml
      runlab run params.yaml lr=0.1,0.01 --workers 2
      runlab run params.yaml -r 0 -r 1            # two GPU slots
      runlab run designs.py:svm_grid -x tasks:fit --timeout 10m --retries 1
    """
    from runlab.launch.local import LocalLauncher
    from runlab.launch.slots import make_slots
    from runlab.launch.sweeps import run_after, runs_table, sweep_hooks

    spec, store, plan = _prepare(
        store, sweep, overrides, task=task, only=only, force=force, title=title, store_dir=store_dir
    )
    if dry_run:
        _print_plan(plan, as_json=False)
        return
    slots = make_slots(
        list(resources) or list(spec.resources) or None,
        workers
        if workers is not None
        else (None if (resources or spec.resources) else spec.workers),
    )
    progress = _Progress(len(plan.to_run), len(plan.entries) - len(plan.to_run), len(slots))
    launcher = LocalLauncher(
        store,
        slots,
        timeout=_duration(timeout) if timeout else spec.timeout,
        retries=retries if retries is not None else spec.retries,
        grace=_duration(grace) or 0.0,
        force=force,
        metrics=spec.metrics,
        on_event=progress.event,
    )

    def stop(signum: int, frame: Any) -> None:
        progress.note(f"{signal.Signals(signum).name}: stopping runs (grace {grace})")
        launcher.cancel()

    first, last = sweep_hooks(spec.task)
    if first is not None:
        first(runs_table(store, plan))
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with progress:
            result = launcher.launch(plan, sweep=plan.sweep)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    progress.report(result, store)
    if last is not None:
        last(runs_table(store, plan))
    if spec.after:
        code = run_after(spec.after, store, plan)
        if code:
            click.echo(f"warning: after command exited with {code}", err=True)
    if result.interrupted:
        sys.exit(130)
    if result.failed:
        sys.exit(1)


class _Progress:
    """The live line (done / failed / running / left, ETA) and the failure table at the end."""

    def __init__(self, total: int, skipped: int, slots: int) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.total, self.skipped, self.slots = total, skipped, slots
        self.done = self.failed = self.running = 0
        self.started = time.monotonic()
        self.live: Any = None

    def __enter__(self) -> _Progress:
        if self.skipped:
            self.console.print(f"{self.skipped} configs already done or running: skipped")
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                self._line(), console=self.console, refresh_per_second=4, transient=False
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.update(self._line())
            self.live.__exit__(*exc)

    def note(self, text: str) -> None:
        self.console.print(text)

    def _line(self) -> str:
        finished = self.done + self.failed
        left = self.total - finished - self.running
        eta = ""
        if finished and left + self.running:
            per_run = (time.monotonic() - self.started) / finished
            seconds = per_run * (left + self.running)
            hours, rest = divmod(int(seconds), 3600)
            eta = f" · ETA {hours}:{rest // 60:02d}:{rest % 60:02d}"
        return (
            f"done {self.done} · failed {self.failed} · running {self.running} · left {left}{eta}"
        )

    def event(self, event: Any) -> None:
        if event.kind == "start":
            self.running += 1
        elif event.kind == "finish":
            self.running -= 1
            ok = event.outcome.status.value == "completed"
            if ok:
                self.done += 1
            else:
                self.failed += 1
            if self.live is None:
                self.console.print(f"{event.outcome.status.value} {event.entry.run_id}")
        if self.live is not None:
            self.live.update(self._line())

    def report(self, result: Any, store: Store) -> None:
        from rich.table import Table

        self.console.print(self._line())
        failed = {k: o for k, o in result.outcomes.items() if o.status.value != "completed"}
        if not failed:
            return
        table = Table(title="runs that did not complete")
        for column in ("run", "status", "exit", "error", "folder"):
            table.add_column(column, overflow="fold")
        for run_id, outcome in failed.items():
            table.add_row(
                run_id,
                outcome.status.value,
                str(outcome.exit_code),
                outcome.error or "",
                str(Path(store.root) / run_id),
            )
        self.console.print(table)


@cli.command("status")
@click.argument("sweep", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_store
def status_command(store: Store, sweep: str | None, as_json: bool) -> None:
    """Count runs per status (of one sweep, or of the whole store) and list the lost ones.

    \b
    Examples:
      runlab status
      runlab status svm --json
    """
    import json

    index = store.index()
    where, args = ("WHERE sweep = ?", (sweep,)) if sweep else ("", ())
    with index.engine.connect() as conn:
        counts = dict(
            conn.exec_driver_sql(
                f"SELECT status, count(*) FROM runs {where} GROUP BY status ORDER BY status", args
            ).all()
        )
        lost = [
            r[0]
            for r in conn.exec_driver_sql(
                f"SELECT id FROM runs {where + (' AND' if where else 'WHERE')} status = 'lost' "
                "ORDER BY _seq IS NULL, _seq, id",
                args,
            )
        ]
    if sweep and not counts:
        raise UsageError(f"no runs of sweep {sweep!r} in store {store.root}")
    if as_json:
        click.echo(json.dumps({"counts": counts, "lost": lost}))
        return
    for status, n in counts.items():
        click.echo(f"{status:<12} {n}")
    if lost:
        click.echo("lost: " + " ".join(lost))
