"""``runlab create`` and ``runlab run-one``: alchemie's ``alc.py create`` and ``alc.py run``."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

import click

from runlab.cli import cli


@cli.command("create", short_help="Draw configs from an alchemie module into numbered folders.")
@click.argument("location", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--from",
    "module",
    required=True,
    metavar="MODULE",
    help="The experiment module: a .py file or a dotted module name.",
)
@click.option(
    "--amount",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many configurations to draw.",
)
def create_command(location: Path, module: str, amount: int) -> None:
    """Draw configurations with MODULE's draw_pars and write one folder for each.

    Folders are numbered from 1 and each holds cfg.py: the module's preamble(K)
    (comments, e.g. #SBATCH lines), then the drawn pars. Creating again adds folders
    after the last one and leaves the old ones alone. Each folder is a queued run of
    the store LOCATION, to train with runlab run-one LOCATION/K.

    \b
    Examples:
      runlab create experiments --from exp.py --amount 20
      sbatch --array=1-20 --wrap 'exec runlab run-one experiments/$SLURM_ARRAY_TASK_ID'
      runlab --store experiments ls
    """
    from runlab.compat.alchemie import Experiment, create

    made = create(location, Experiment.load(module), amount=amount)
    ids = [int(run_dir.id) for run_dir in made]
    noun = "configuration" if len(ids) == 1 else "configurations"
    click.echo(f"created {len(ids)} {noun} in {location}: {_ranges(ids)}")


@cli.command("run-one", short_help="Run or continue one alchemie config folder.")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--module",
    default=None,
    metavar="MODULE",
    help="The experiment module (default: the one runlab create recorded).",
)
@click.pass_context
def run_one_command(ctx: click.Context, folder: Path, module: str | None) -> None:
    """Train config FOLDER, continuing from its checkpoint when it has one.

    The module's functions run with FOLDER as working directory. On SIGINT or SIGTERM
    the trainer stops after its current iteration, is checkpointed, the interim report
    is written (report-<attempt>.json and reports/<attempt>.json) and the exit code is
    9: run the same command again to continue. When training ends the report is
    report-last.json (reports/<attempt>.json marked final) and the exit code 0; a
    completed folder is left untouched. Failures exit with 1.

    \b
    Examples:
      runlab run-one experiments/3
      runlab run-one experiments/3 --module exp_fixed.py
      runlab --store experiments show 3
    """
    from runlab.compat.alchemie import Experiment, is_complete, read_config, run_one
    from runlab.compat.alchemie.configs import module_source
    from runlab.compat.alchemie.runner import after
    from runlab.record.status import RunStatus

    if is_complete(folder):
        _already_complete(folder)
        return
    read_config(folder)  # a folder that is no config, or a broken cfg.py: say so first
    experiment = Experiment.load(module or module_source(folder))
    outcome = run_one(folder, experiment)
    if outcome.done:
        _already_complete(folder)
        return
    report = f": {folder / outcome.report.name}" if outcome.report is not None else ""
    if outcome.status is RunStatus.COMPLETED:
        note = f"run {outcome.run_id} completed{after(outcome.iterations)}{report}"
    elif outcome.status is RunStatus.INTERRUPTED:
        again = shlex.join(["runlab", "run-one", str(folder)])
        note = f"run {outcome.run_id} {outcome.error}{report}; continue with: {again}"
    else:
        note = f"run {outcome.run_id} failed: {outcome.error}"
    click.echo(f"runlab: {note}", err=True)
    ctx.exit(outcome.exit_code)


def _already_complete(folder: Path) -> None:
    click.echo(f"run {folder} is already complete: nothing to do")


def _ranges(ids: Sequence[int]) -> str:
    """``1, 2, 3, 7`` as ``1-3, 7``."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(ids):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)
