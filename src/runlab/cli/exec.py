"""``runlab exec``: record any command as a run without changing its code."""

from __future__ import annotations

import click

from runlab.cli import cli
from runlab.cli.common import pass_store
from runlab.record.command import child_env, parse_pairs, parse_params, run_command
from runlab.record.run import Run
from runlab.store import STORE_ENV, Store
from runlab.tracking import RUN_DIR_ENV, RUN_ID_ENV, start


@cli.command(
    "exec",
    context_settings={"allow_interspersed_args": False},
    short_help="Record any command as a run.",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A param of the run; the value is read as YAML (0.1, 3, true, null; else text).",
)
@click.option("--name", default=None, help="A readable name for the run (default: its id).")
@click.option("--description", default="", help="What this run is for.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (text value).")
@click.option("--run-id", default=None, help="Reuse (or create) the run with this id.")
@click.option(
    "--require-clean", is_flag=True, help="Refuse to run with uncommitted changes in git."
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_store
@click.pass_context
def exec_command(
    ctx: click.Context,
    store: Store,
    params: tuple[str, ...],
    name: str | None,
    description: str,
    tags: tuple[str, ...],
    run_id: str | None,
    require_clean: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND and record it as a run: params, output, exit code, git, times, status.

    The command runs without a shell. Its output still reaches the terminal and is
    also saved in the run's stdout.log and stderr.log. runlab exits with the
    command's exit code (128+n when signal n killed it). Inside the command,
    runlab.current() is this run, so a Python script can log metrics into it.

    \b
    Examples:
      runlab exec -p lr=0.1 -p layers=2 -- python train.py --lr 0.1 --layers 2
      runlab exec --name baseline --tag team=nlp -- ./train.sh
      runlab show baseline
    """
    run = start(
        parse_params(params, option="-p"),
        store=store,
        name=name,
        description=description,
        tags=parse_pairs(tags, option="--tag"),
        run_id=run_id,
        require_clean=require_clean,
        command=list(command),
        capture=True,
    )
    assert isinstance(run, Run)  # only record=False gives a NullRun
    env = child_env({RUN_DIR_ENV: str(run.dir), RUN_ID_ENV: run.id, STORE_ENV: str(store.root)})
    outcome = run_command(run, command, env=env)
    note = f"runlab: run {run.id} {outcome.status.value}"
    if outcome.error:
        note += f": {outcome.error}"
    click.echo(note, err=True)
    ctx.exit(outcome.exit_code)
