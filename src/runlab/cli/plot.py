"""Plot commands: ``runlab plot`` (a metric against a parameter) and ``runlab plot curves``.

Thin: options in, one :mod:`runlab.report` call, one line out. ``plot`` is a group
that draws the x-y plot itself when no subcommand follows, so both
``runlab plot --x C --y acc -o f.png`` and ``runlab plot curves --y loss -o c.png`` work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runlab.cli import cli
from runlab.cli.common import pass_store, warnings_as_lines
from runlab.errors import UsageError
from runlab.store import Store

if TYPE_CHECKING:
    from runlab.query import Runs

FORMATS = ".png, .svg, .pdf"  # runlab.report.FORMATS, without importing it for --help


def _figure_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options both plots share: filter, scales, title, output file and resolution."""
    options = [
        click.option(
            "-w",
            "--where",
            multiple=True,
            metavar="EXPR",
            help="Plot only the runs where EXPR holds (repeat: and); as in runlab ls.",
        ),
        click.option("--logx", is_flag=True, help="Log scale on the x axis."),
        click.option("--logy", is_flag=True, help="Log scale on the y axis."),
        click.option("--title", metavar="TEXT", help="Title above the plot."),
        click.option(
            "-o",
            "--output",
            metavar="FILE",
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"Image file to write; its suffix picks the format: {FORMATS}.",
        ),
        click.option(
            "--dpi",
            type=click.IntRange(min=10, max=2400),
            default=150,
            show_default=True,
            help="Resolution of a .png (dots per inch).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _selected(store: Store, where: tuple[str, ...]) -> Runs:
    """The runs of ``store`` where every condition holds; a UsageError when there are none."""
    from runlab.query import load

    runs = load(store)
    for condition in where:
        runs = runs.where(condition)
    if not runs:
        if where:
            raise UsageError(f"no runs match {' and '.join(where)}; nothing written")
        raise UsageError(f"no runs in {store.root}; nothing written")
    return runs


def _require(ctx: click.Context, **values: Any) -> None:
    """Click's own "Missing option" error for the first of ``values`` left unset."""
    for name, value in values.items():
        if value is None:
            param = next(p for p in ctx.command.params if p.name == name)
            raise click.MissingParameter(ctx=ctx, param=param)


@cli.group(
    "plot",
    invoke_without_command=True,
    no_args_is_help=True,
    short_help="Plot a metric against a parameter, or learning curves.",
)
@click.option("--x", "x", metavar="COL", help="Column on the x axis (params.C, or C).")
@click.option("--y", "y", metavar="COL", help="Column on the y axis (metrics.acc, or acc).")
@click.option("--hue", metavar="COL", help="One series per value of this column, with a legend.")
@click.option(
    "--over",
    metavar="COL",
    help="Average over this column (params.seed): mean line and ± std band per series.",
)
@_figure_options
@click.pass_context
def plot(
    ctx: click.Context,
    x: str | None,
    y: str | None,
    hue: str | None,
    over: str | None,
    where: tuple[str, ...],
    logx: bool,
    logy: bool,
    title: str | None,
    output: Path | None,
    dpi: int,
) -> None:
    """Plot column Y against column X of the runs table into an image file.

    One series per value of --hue. With --over, each series is the mean over the
    values of that column (typically the seeds) at each x, with a band of ± one
    standard deviation; without it every run is a point. Axis labels are the column
    names without their params./metrics. prefix. `runlab plot curves` draws the
    logged step series instead.

    \b
    Examples:
      runlab plot --x params.C --y metrics.acc --hue params.kernel --logx -o fig.png
      runlab plot --x C --y acc --hue kernel --over seed --logx -o acc.svg
      runlab plot --x lr --y acc --where "status == 'completed'" -o acc.pdf
      runlab plot curves --y loss --hue params.lr -o curves.pdf
    """
    if ctx.invoked_subcommand is not None:
        given = [
            p.opts[-1]
            for p in ctx.command.params
            if ctx.get_parameter_source(p.name or "") is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            sub = ctx.invoked_subcommand
            what = "is an option" if len(given) == 1 else "are options"
            raise UsageError(
                f"{', '.join(given)} {what} of the x-y plot; put the options of '{sub}' after it"
            )
        return
    _require(ctx, x=x, y=y, output=output)
    assert x is not None and y is not None and output is not None
    from runlab.report import plot_xy

    with warnings_as_lines():
        runs = _selected(ctx.obj, where)
        plot_xy(
            runs,
            x=x,
            y=y,
            hue=hue,
            over=over,
            logx=logx,
            logy=logy,
            title=title,
            path=output,
            dpi=dpi,
        )
    click.echo(f"wrote {output}", err=True)


@plot.command("curves", short_help="Learning curves: a logged key against step, per run.")
@click.option("--y", "y", required=True, metavar="KEY", help="Logged key on the y axis (loss).")
@click.option(
    "--x",
    "x",
    default="step",
    show_default=True,
    metavar="KEY",
    help="step, time (seconds since the run's first log) or another logged key.",
)
@click.option(
    "--hue",
    metavar="COL",
    help="One line per value of this column: mean ± std over its runs (the seeds).",
)
@_figure_options
@pass_store
def curves(
    store: Store,
    y: str,
    x: str,
    hue: str | None,
    where: tuple[str, ...],
    logx: bool,
    logy: bool,
    title: str | None,
    output: Path | None,
    dpi: int,
) -> None:
    """Plot the learning curves of the runs: a logged key against step, one line per run.

    With --hue, one line per value of that column: the mean over its runs at each
    step, with a band of ± one standard deviation.

    \b
    Examples:
      runlab plot curves --y loss -o curves.png
      runlab plot curves --y loss --where "params.kernel == 'rbf'" --hue params.lr -o loss.svg
      runlab plot curves --y acc --x time --logy -o acc.pdf
    """
    _require(click.get_current_context(), output=output)
    from runlab.report import plot_curves

    with warnings_as_lines():
        runs = _selected(store, where)
        plot_curves(
            runs, y=y, x=x, hue=hue, logx=logx, logy=logy, title=title, path=output, dpi=dpi
        )
    click.echo(f"wrote {output}", err=True)
