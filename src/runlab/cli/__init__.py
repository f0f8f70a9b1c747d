"""The ``runlab`` command: one click group, one module per command group, thin commands.

The group builds the :class:`~runlab.store.Store` once from ``--store`` (or
``RUNLAB_STORE``) and passes it down through ``ctx.obj``. Every
:class:`~runlab.errors.RunlabError` is caught here, once, and printed as one line.
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from runlab.cli.common import leaving
from runlab.errors import RunlabError, warning_line
from runlab.store import DEFAULT_STORE, STORE_ENV, Store


class RunlabFailure(click.ClickException):
    """A RunlabError as the CLI shows it: ``error: <one line>``, the error's exit code."""

    def __init__(self, exc: RunlabError) -> None:
        super().__init__(str(exc))
        self.exit_code = exc.exit_code

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class _Group(click.Group):
    """The group that turns every RunlabError of every command into a RunlabFailure.

    Here rather than only in ``main`` so that click's test runner sees the same exit
    code and the same one line a user does.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except RunlabError as exc:
            raise RunlabFailure(exc) from None


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--store",
    envvar=STORE_ENV,
    default=DEFAULT_STORE,
    show_default=True,
    type=click.Path(file_okay=False),
    help=f"Store folder holding the runs (or ${STORE_ENV}, else runlab.toml's store).",
)
@click.version_option(package_name="runlab")
@click.pass_context
def cli(ctx: click.Context, store: str) -> None:
    """Record, launch and query machine-learning runs.

    \b
    Examples:
      runlab exec -p lr=0.1 -- python train.py --lr 0.1
      runlab ls --where "params.lr > 0.01 and status == 'completed'" --sort metrics.acc --desc
      runlab show 7
    """
    warnings.formatwarning = warning_line
    if ctx.get_parameter_source("store") is click.core.ParameterSource.DEFAULT:
        from runlab.project import project_store

        # Neither --store nor $RUNLAB_STORE: the enclosing project's runlab.toml decides.
        store = str(project_store() or store)
    ctx.obj = Store.at(store)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning runlab errors into one line and their exit code."""
    try:
        code = cli.main(args=argv, prog_name="runlab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except RunlabError as exc:  # raised outside a command (the group's own callback)
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()  # `runlab ls | head`: the reader left; not an error
        sys.exit(0)
    if leaving():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0)
    if isinstance(code, int) and code:
        sys.exit(code)


# Command modules register themselves on `cli`; imported last because they import it.
from runlab.cli import alchemie, analyse, exec, importing, launch, parse, plot, project, runs, table  # noqa: E402, F401
