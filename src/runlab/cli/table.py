"""Table commands: ``runlab ls`` lists, groups, sorts and exports runs; ``runlab index``.

``ls`` works on a plain-Python table (no pandas import: the listing of 10,000 runs
costs less than importing pandas would) and filters in SQL; the terminal table it
prints is laid out by :mod:`runlab.cli.terminal`.
"""

from __future__ import annotations

from pathlib import Path

import click

from runlab.cli import cli
from runlab.cli.common import STORE_ARG, names, pass_store, plural, warnings_as_lines
from runlab.cli.terminal import export_table, print_table, report
from runlab.errors import UsageError
from runlab.store import Store

_URL_OPTION = click.option(
    "--url",
    metavar="URL",
    help="A PostgreSQL mirror (postgresql+psycopg://user@host/db) instead of a store folder.",
)


@cli.command("ls")
@STORE_ARG
@click.option(
    "-w",
    "--where",
    multiple=True,
    metavar="EXPR",
    help="Keep the runs where EXPR holds (repeat: and).",
)
@click.option(
    "-g",
    "--groupby",
    metavar="COL[,COL]",
    help="One row per distinct value: numeric columns get _mean, _std, _count; others _count.",
)
@click.option(
    "--over",
    metavar="COL",
    help="Groups are configurations (--groupby plus every other varying param) and COL's "
    "values the samples (--over params.seed): adds _sem, _ci_low, _ci_high (95%), _n.",
)
@click.option(
    "--ignore", metavar="COL[,COL]", help="With --over: params that are not keys (output paths)."
)
@click.option(
    "-S",
    "--search",
    metavar="WORDS",
    help="Keep the runs whose name, description, tags, notes or params hold every word.",
)
@click.option(
    "-s", "--sort", metavar="COL[,COL]", help="Sort by these columns, missing values last."
)
@click.option("--desc", is_flag=True, help="Sort in descending order.")
@click.option(
    "-c",
    "--columns",
    metavar="COL[,COL]",
    help="Show these columns, in this order (after --groupby: metrics.acc_mean, ...).",
)
@click.option(
    "-t",
    "--tail",
    type=click.IntRange(min=0),
    metavar="K",
    help="Keep the last K rows (after sorting).",
)
@click.option(
    "--varying",
    is_flag=True,
    help="Show only the params that differ between the runs, with id, name, status and metrics.",
)
@click.option(
    "-o",
    "--export",
    "export_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the table to FILE: .csv .json .md .tex .parquet .html (by suffix).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON records.")
@_URL_OPTION
@pass_store
def ls(
    store: Store,
    store_path: Path | None,
    url: str | None,
    where: tuple[str, ...],
    groupby: str | None,
    over: str | None,
    ignore: str | None,
    search: str | None,
    sort: str | None,
    desc: bool,
    columns: str | None,
    tail: int | None,
    varying: bool,
    export_path: Path | None,
    as_json: bool,
) -> None:
    """List the runs of STORE (default: --store) as a table.

    \b
    Examples:
      runlab ls
      runlab ls runs --where "params.lr > 0.01 and status == 'completed'"
      runlab ls --where "model in ['cnn', 'mlp']" --sort acc --desc --tail 5
      runlab ls --groupby params.model,params.lr --columns model,lr,runs,acc_mean,acc_std
      runlab ls --groupby params.model --over params.lr --export results.md
      runlab ls --search "resnet baseline"
      runlab ls --varying --export results.tex
      runlab ls --json | jq '.[0]'

    \b
    EXPR is a Python-like condition: ==, !=, <, <=, >, >=, in [...], not in [...],
    and, or, not, parentheses; values are numbers, 'strings', True, False, None
    (x == None: x is missing). Short names work when unambiguous (lr: params.lr);
    put other names in backticks: `params.learning-rate` > 0.1.

    \b
    Default columns: id, name, status, start, duration, params.*, metrics.*,
    tags.*, and message when a listed run has one. Rows: numeric ids in order,
    then named runs by id.

    \b
    A team database: --url postgresql+psycopg://me@db.lan/runlab lists the runs
    of every store mirrored there (by runlab index --url), store by store, with
    a store column (host:path): --where "store == 'gpu1:/data/runs'" narrows.
    """
    from runlab.query import View, load

    with warnings_as_lines():
        view = View(
            groupby=names(groupby),
            sort=names(sort),
            descending=desc,
            columns=names(columns),
            tail=tail,
            varying=varying,
            over=over,
            ignore=names(ignore),
        )
        if url is not None and store_path is not None:
            raise UsageError(f"--url {url} and STORE {store_path}: give one of them")
        runs = load(url if url is not None else store_path if store_path is not None else store)
        if not runs:
            click.echo("[]" if as_json else "no runs")
            return
        for condition in where:
            runs = runs.where(condition)
        if search:
            runs = runs.search(search)
        grouped = bool(view.groupby or view.over)
        table = view.listing(runs)
        export_table(table, export_path)
    report(
        table,
        export_path=export_path,
        as_json=as_json,
        empty="no runs match" if where or search else "no runs",
        show=lambda: print_table(table, grouped=grouped),
    )


@cli.command("index")
@STORE_ARG
@click.option("--full", is_flag=True, help="Rebuild the index from nothing instead of rescanning.")
@click.option(
    "--url",
    metavar="URL",
    help="Then mirror the index into this PostgreSQL database (postgresql+psycopg://…).",
)
@pass_store
def index(store: Store, store_path: Path | None, full: bool, url: str | None) -> None:
    """Bring the index of STORE (default: --store) up to date with its run folders.

    Rescans every run folder and re-reads the ones changed (by the folder's mtime,
    which every runlab write moves) since they were indexed, or never indexed
    (folders copied in by hand), and drops runs whose folder is gone. --full deletes
    the index and reads every folder again; both give the same table. A file edited
    in place by hand leaves its folder's mtime alone: use --full after that.

    --url postgresql+psycopg://me@db.lan/runlab then copies the rows changed since
    the last mirror of this store into a PostgreSQL database shared by a team (and
    deletes those of removed runs), keyed by a store id kept in STORE/.store-id;
    query them with ls --url and runlab.load(url).

    \b
    Examples:
      runlab index
      runlab index runs --full
    """
    from runlab.query import Runs

    with warnings_as_lines():
        the_store = Store.at(store_path) if store_path is not None else store
        idx = the_store.index(refresh=False)
        read = idx.rebuild() if full else idx.rescan()
        total = len(Runs(the_store, idx))
        mirrored = None
        if url is not None:
            from runlab.index.postgres import mirror

            mirrored = mirror(the_store, url)
    done = "rebuilt the index from" if full else "re-read"
    click.echo(f"{done} {plural(read, 'run')}; {plural(total, 'run')} indexed in {the_store.root}")
    if mirrored is not None:
        from runlab.index.postgres import shown_url

        click.echo(
            f"mirrored to {shown_url(str(url))}: {plural(mirrored.written, 'run')} written, "
            f"{mirrored.removed} removed (store {mirrored.store_id})"
        )
