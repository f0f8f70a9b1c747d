"""``runlab run``, ``runlab plan`` and ``runlab status``: launch a sweep and watch it."""

from __future__ import annotations

import dataclasses
import re
import signal
import sys
from typing import Any

import click

from runlab.cli import cli
from runlab.cli.common import leave_at_once, pass_store
from runlab.cli.complete import complete_designs, complete_tasks
from runlab.cli.watch import LogEcho, Progress
from runlab.errors import UsageError
from runlab.store import Store

_DEVICES = re.compile(r"^\d+(,\d+)*$")


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
        click.option(
            "-f", "--force", is_flag=True, help="Run completed configs (and commands) again too."
        ),
        click.option("-t", "--title", help="Only the sweep documents with this _title."),
        click.option(
            "-c",
            "--command",
            "commands",
            multiple=True,
            help="Execute only these named commands, as steps of the same runs (overrides "
            "_cmd): -c train -c test or -c train,test.",
        ),
        click.option(
            "--sample",
            type=click.IntRange(min=1),
            help="N configs of each sweep document: the same N on every invocation.",
        ),
        click.option(
            "--sample-seed",
            type=int,
            default=0,
            show_default=True,
            help="Which N configs --sample keeps.",
        ),
        click.option(
            "-o",
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
    commands: tuple[str, ...] = (),
    sample: int | None = None,
    sample_seed: int = 0,
) -> Any:
    from runlab.launch.sweeps import load, plan_sweep

    sweep = load(sweep_ref, task=task, title=title)
    names = [name for text in commands for name in text.split(",")]
    if names:
        sweep = sweep.with_commands(names)
    ctx = click.get_current_context()
    group_store_given = ctx.parent is not None and ctx.parent.get_parameter_source("store") not in (
        click.core.ParameterSource.DEFAULT,
        None,
    )
    if store_dir is not None:
        store = Store.at(store_dir)
    elif sweep.store and not group_store_given:
        store = Store.at(sweep.store)
    plan = plan_sweep(
        sweep,
        store,
        overrides=overrides,
        only=only,
        force=force,
        sample=sample,
        sample_seed=sample_seed,
    )
    return sweep, store, plan


def _print_plan(plan: Any, *, as_json: bool) -> None:
    """Print the plan: one line per run, as text columns or as JSON.

    Plain text, not a rich table, and JSON one run a line through the C encoder
    (``indent=`` would use the pure-Python one): a sweep of 100,000 configs prints in
    a fraction of a second instead of a minute, and the output still reads and greps.
    """
    from runlab.bulk import paused_gc

    with paused_gc():
        text = _plan_json(plan) if as_json else _plan_text(plan)
    click.echo(text, nl=False)


def _plan_json(plan: Any) -> str:
    import json

    from runlab.launch.plan import json_lines

    head = json.dumps({"sweep": plan.sweep, "counts": plan.counts()})
    runs = ",\n".join(json_lines(plan.entries))
    return f'{head[:-1]}, "runs": [\n{runs}\n]}}\n' if runs else f'{head[:-1]}, "runs": []}}\n'


def _plan_text(plan: Any) -> str:
    rows = []
    for entry in plan.entries:
        # An entry that will run lists the commands it executes now: not those it completed.
        shown = [(n, c) for n, c in entry.commands if n in entry.steps] or entry.commands
        commands = [f"{n}: {c}" for n, c in shown] or [entry.task.identity() if entry.task else ""]
        rows.append((str(entry.position), entry.state.value, entry.run_id, commands))
    header = ("#", "state", "run", ["commands"])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    indent = " " * (sum(widths) + 6)
    lines = [f"sweep {plan.sweep}"]
    for position, state, run_id, commands in [header, *rows]:
        first = f"{position:<{widths[0]}}  {state:<{widths[1]}}  {run_id:<{widths[2]}}  "
        lines.append(first + commands[0])
        lines.extend(indent + more for more in commands[1:])
    counts = {k: v for k, v in plan.counts().items() if v}
    dropped = f", {len(plan.dropped)} dropped by the design" if plan.dropped else ""
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items()) + dropped)
    return "\n".join(lines) + "\n"


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
    commands: tuple[str, ...],
    sample: int | None,
    sample_seed: int,
    store_dir: str | None,
    as_json: bool,
) -> None:
    """Show what `runlab run` would do, and write nothing.

    Every config with its run folder, the exact commands, and whether it is new, done
    (skipped), failed or interrupted (will re-run), changed, or partial (has completed
    other commands: will run the selected ones it lacks). An entry that will run lists
    the commands it executes now.

    \b
    Examples:
      runlab plan params.yaml
      runlab plan params.yaml lr=0.1,0.01 ~dropout --json
      runlab plan designs.py:svm_grid -x tasks:fit --only 0,3
      runlab plan params.yaml --sample 3 -c train
    """
    _, _, plan = _prepare(
        store,
        sweep,
        overrides,
        task=task,
        only=only,
        force=force,
        title=title,
        store_dir=store_dir,
        commands=commands,
        sample=sample,
        sample_seed=sample_seed,
    )
    _print_plan(plan, as_json=as_json)
    if len(plan.entries) >= 10_000:
        leave_at_once()  # a plan writes nothing: no need to free its objects one by one


@cli.command("run")
@_sweep_options
@click.option(
    "-w", "--workers", type=int, help="Parallel CPU slots (default: the sweep's, else 1)."
)
@click.option(
    "-r",
    "--resources",
    multiple=True,
    help="A slot of device ids, repeatable: -r 0,1 -r 2,3 (or -r 0,1 2,3) is two 2-GPU slots.",
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
@click.option(
    "-d",
    "--debug",
    is_flag=True,
    help="Run only the first config of the plan, even if done, its logs also on stdout.",
)
@pass_store
def run_command(
    store: Store,
    sweep: str,
    overrides: tuple[str, ...],
    task: str | None,
    only: str | None,
    force: bool,
    title: str | None,
    commands: tuple[str, ...],
    sample: int | None,
    sample_seed: int,
    store_dir: str | None,
    workers: int | None,
    resources: tuple[str, ...],
    timeout: str | None,
    retries: int | None,
    grace: str,
    dry_run: bool,
    debug: bool,
) -> None:
    """Run a sweep: every config not already completed, in parallel on the slots.

    Re-running the same command after any crash does exactly what is missing: completed
    runs are skipped, failed, interrupted and lost ones run again in their folders.
    Exits 1 if any run failed.

    Named commands are the steps of one run: -c (or a document's _cmd) picks which to
    execute now, and each config executes, in its one folder, the picked commands it
    has not completed (all of them with -f). So -c train today and -c test tomorrow run
    test where train left its files; a failed run starts again from the failed command.
    A run is completed when the commands it was asked to execute completed.

    \b
    Examples:
      runlab run params.yaml
      runlab run params.yaml lr=0.1,0.01 --workers 2
      runlab run params.yaml -r 0 -r 1            # two GPU slots
      runlab run params.yaml -t norm --sample 2 -c train
      runlab run params.yaml -c test              # then test, in the same run folders
      runlab run params.yaml -d                   # the first config only, logs on stdout
      runlab run designs.py:svm_grid -x tasks:fit --timeout 10m --retries 1
    """
    from runlab.launch.local import LocalLauncher
    from runlab.launch.slots import make_slots
    from runlab.launch.sweeps import run_after, runs_table, sweep_hooks

    if resources:
        # mlrunner's spelling -r 0,1 2,3: bare device lists after -r are more slots.
        resources += tuple(o for o in overrides if _DEVICES.match(o))
        overrides = tuple(o for o in overrides if not _DEVICES.match(o))
    spec, store, plan = _prepare(
        store,
        sweep,
        overrides,
        task=task,
        only=only,
        force=force or debug,
        title=title,
        store_dir=store_dir,
        commands=commands,
        sample=sample,
        sample_seed=sample_seed,
    )
    if debug:
        plan = dataclasses.replace(plan, entries=plan.entries[:1])
    if dry_run:
        _print_plan(plan, as_json=False)
        return
    slots = make_slots(
        list(resources) or list(spec.resources) or None,
        workers
        if workers is not None
        else (None if (resources or spec.resources) else spec.workers),
    )
    progress = Progress(len(plan.to_run), len(plan.entries) - len(plan.to_run), len(slots))
    launcher = LocalLauncher(
        store,
        slots,
        timeout=_duration(timeout) if timeout else spec.timeout,
        retries=retries if retries is not None else spec.retries,
        grace=_duration(grace) or 0.0,
        force=force or debug,
        metrics=spec.metrics,
        on_event=LogEcho(store, progress.event) if debug else progress.event,
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
