"""Analysis commands: ``best`` run per group, pymake's ``table``; ``tag`` and ``note`` runs.

``best`` and ``table`` filter like ``ls`` (``--where``, ``--search``), print a terminal
table and write files with ``--export`` (.md .csv .json .tex .html .parquet). ``tag``
and ``note`` annotate a run; both are found by ``ls --search``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runlab.cli import cli
from runlab.cli.common import STORE_ARG, names, pass_store, warnings_as_lines
from runlab.cli.terminal import export_table, print_table, report
from runlab.store import Store

if TYPE_CHECKING:
    from runlab.query import Runs

_WHERE = click.option(
    "-w", "--where", multiple=True, metavar="EXPR", help="Keep the runs where EXPR holds."
)
_SEARCH = click.option(
    "-S", "--search", metavar="WORDS", help="Keep the runs whose text holds every word."
)
_EXPORT = click.option(
    "-o",
    "--export",
    "export_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the table to FILE: .csv .json .md .tex .parquet .html (by suffix).",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the table as JSON records.")
_MODE = click.option(
    "--mode",
    type=click.Choice(["max", "min"]),
    default="max",
    show_default=True,
    help="Which end of the metric is best.",
)


def _selected(
    store: Store, store_path: Path | None, where: tuple[str, ...], search: str | None
) -> Runs:
    from runlab.query import load

    runs = load(store_path if store_path is not None else store)
    for condition in where:
        runs = runs.where(condition)
    return runs.search(search) if search else runs


@cli.command("best", short_help="Show the best run, overall or per group.")
@STORE_ARG
@click.option("-m", "--metric", required=True, metavar="COL", help="The metric to rank by.")
@_MODE
@click.option("-b", "--by", metavar="COL[,COL]", help="One best run per distinct value of these.")
@_WHERE
@_SEARCH
@_EXPORT
@_JSON
@pass_store
def best(
    store: Store,
    store_path: Path | None,
    metric: str,
    mode: str,
    by: str | None,
    where: tuple[str, ...],
    search: str | None,
    export_path: Path | None,
    as_json: bool,
) -> None:
    """Show the run with the best METRIC, overall or per group of --by.

    Columns: the --by keys, id, name, status, the params that vary, the metrics. Runs
    missing the metric are skipped; ties go to the first run in id order.

    \b
    Examples:
      runlab best --metric val_loss --mode min
      runlab best --metric acc --by params.model --export best.md
    """
    with warnings_as_lines():
        runs = _selected(store, store_path, where, search)
        table = runs.best(metric, mode=mode, by=names(by))
        export_table(table, export_path)
    report(
        table,
        export_path=export_path,
        as_json=as_json,
        empty="no runs with that metric",
        show=lambda: print_table(table, grouped=False),
    )


@cli.command("table", short_help="Tabulate a metric by rows x columns, mean±std over seeds.")
@STORE_ARG
@click.option("-r", "--rows", required=True, metavar="COL[,COL]", help="One row per value.")
@click.option("-c", "--cols", required=True, metavar="COL", help="One column per value.")
@click.option("-v", "--value", required=True, metavar="COL", help="What the cells hold.")
@click.option(
    "--reduce",
    default="mean±std",
    show_default=True,
    metavar="mean±std|mean|max|min|count",
    help="How a cell sums up its runs (mean+-std works too).",
)
@click.option(
    "--over", metavar="COL", help="The samples (seeds): rows also split by other varying params."
)
@click.option("--ignore", metavar="COL[,COL]", help="With --over: params that are not keys.")
@_MODE
@click.option("--digits", type=click.IntRange(0, 12), help="Decimals shown (default: auto).")
@_WHERE
@_SEARCH
@_EXPORT
@_JSON
@pass_store
def table(
    store: Store,
    store_path: Path | None,
    rows: str,
    cols: str,
    value: str,
    reduce: str,
    over: str | None,
    ignore: str | None,
    mode: str,
    digits: int | None,
    where: tuple[str, ...],
    search: str | None,
    export_path: Path | None,
    as_json: bool,
) -> None:
    """Tabulate VALUE with one row per --rows value and one column per --cols value.

    Each cell reduces its runs: mean±std (0.91±0.02), mean, max, min or count. The
    best cell of each row (--mode) is bold in .md, .tex and .html files and marked
    with * here. With --over the rows also split by every other varying param, so
    a cell never pools runs whose settings differ.

    \b
    Examples:
      runlab table --rows params.model --cols params.lr --value metrics.acc --over params.seed
      runlab table -r model -c lr -v val_loss --mode min --reduce mean --export table.tex
    """
    with warnings_as_lines():
        runs = _selected(store, store_path, where, search)
        pivot = runs.pivot(
            rows=names(rows),
            cols=cols,
            value=value,
            reduce=reduce,
            over=over,
            ignore=names(ignore),
            mode=mode,
            digits=digits,
        )
        data = pivot.table()
        if export_path is not None:
            pivot.export(export_path)

    def show() -> None:
        print_table(_marked(pivot), grouped=False)
        if pivot.best:
            click.echo(f"* best in its row ({'highest' if mode == 'max' else 'lowest'})")

    report(
        data,
        export_path=export_path,
        as_json=as_json,
        empty="no runs match" if where or search else "no runs",
        show=show,
    )


def _marked(pivot: Any) -> Any:
    """The pivot as a table of its texts, each row's best cell followed by ``*``."""
    from runlab.query.table import Column, RunTable
    from runlab.query.types import DType

    styled = pivot.styled()
    columns = tuple(
        Column(name, "pivot", DType.FLOAT if right else DType.STR)
        for name, right in zip(pivot.names, styled.right, strict=True)
    )
    marked = {j for _, j in styled.marks}
    # unmarked cells of a marked column get a blank where the * goes: digits stay aligned
    texts = [
        [
            t + ("*" if (i, j) in styled.marks else " ") if t and j in marked else t
            for j, t in enumerate(row)
        ]
        for i, row in enumerate(styled.texts)
    ]
    data = tuple(tuple(r[j] or None for r in texts) for j in range(len(columns)))
    return RunTable(columns, data)


@cli.command("tag", short_help="Set or remove tags of a run.")
@click.argument("run")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--remove", multiple=True, metavar="KEY", help="Remove this tag (repeat).")
@pass_store
def tag(store: Store, run: str, pairs: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Set KEY=VALUE tags on RUN (an id or a name), or remove them.

    Values are typed as for -p (0.1 is a number, true a bool, anything else text).
    Tags show as tags.KEY columns and are found by ls --search. A queued or running
    run is refused: it would overwrite them.

    \b
    Examples:
      runlab tag 7 stage=final reviewer=ana
      runlab tag best --remove draft
    """
    from runlab.errors import UsageError
    from runlab.query.annotate import set_tags
    from runlab.record.command import parse_params

    if not pairs and not remove:
        raise UsageError("tag: give KEY=VALUE pairs or --remove KEY")
    tags = set_tags(store, run, parse_params(pairs, option="tag"), remove=remove)
    shown = ", ".join(f"{k}={v}" for k, v in tags.items()) or "none"
    click.echo(f"run {store.resolve(run).id} tags: {shown}")


@cli.command("note", short_help="Append a note to a run's notes.md.")
@click.argument("run")
@click.argument("text")
@pass_store
def note(store: Store, run: str, text: str) -> None:
    """Append TEXT, dated, to the notes.md of RUN (an id or a name).

    Notes are markdown in the run folder, for people and for ls --search. Works on
    running runs too: the run itself never writes notes.md.

    \b
    Examples:
      runlab note 7 "diverged after epoch 40: lr too high"
      runlab ls --search diverged
    """
    from runlab.query.annotate import add_note

    path = add_note(store, run, text)
    click.echo(f"noted in {path}")
