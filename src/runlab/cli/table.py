"""Table commands: ``runlab ls`` lists, groups, sorts and exports runs; ``runlab index``.

``ls`` works on a plain-Python table (no pandas import: the listing of 10,000 runs
costs less than importing pandas would) and filters in SQL. The terminal table is
fitted to the terminal's width: every column gets its natural width when they all fit;
otherwise the least telling columns are left out (named in a note below the table)
and long cells are cut with an ellipsis. Rows are laid out here and printed through
rich as one text: rich's own Table takes seconds over 10,000 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runlab.cli import cli
from runlab.cli.common import pass_store, warnings_as_lines
from runlab.errors import UsageError
from runlab.store import Store

if TYPE_CHECKING:
    from runlab.query.table import RunTable

MAX_CELL = 40  # a wider cell is cut with "…"
MIN_CELL = 12  # columns are cut down to this at most: narrower shows too little
GAP = 3  # rich's SIMPLE_HEAD box puts three characters between columns


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


_URL_OPTION = click.option(
    "--url",
    metavar="URL",
    help="A PostgreSQL mirror (postgresql+psycopg://user@host/db) instead of a store folder.",
)

_STORE_ARG = click.argument(
    "store_path",
    metavar="[STORE]",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
)


@cli.command("ls")
@_STORE_ARG
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
            groupby=_names(groupby),
            sort=_names(sort),
            descending=desc,
            columns=_names(columns),
            tail=tail,
            varying=varying,
            over=over,
            ignore=_names(ignore),
        )
        if url is not None and store_path is not None:
            raise UsageError(f"--url {url} and STORE {store_path}: give one of them")
        runs = load(url if url is not None else store_path if store_path is not None else store)
        if not len(runs):
            click.echo("[]" if as_json else "no runs")
            return
        for condition in where:
            runs = runs.where(condition)
        if search:
            runs = runs.search(search)
        grouped = bool(view.groupby or view.over)  # groups are sorted by their keys
        table = view.apply(runs.fetch(view.needed(runs), ordered=not grouped))
        if export_path is not None:
            from runlab.query.export import export

            export(table, export_path)
    if as_json:
        from runlab.query.export import records_json

        click.echo(records_json(table), nl=False)
    if export_path is not None:
        click.echo(f"wrote {_plural(len(table), 'row')} to {export_path}", err=True)
    elif not as_json:
        if not len(table):
            click.echo("no runs match" if where or search else "no runs")
        else:
            _print_table(table, grouped=bool(view.groupby or view.over))


@cli.command("index")
@_STORE_ARG
@click.option("--full", is_flag=True, help="Rebuild the index from nothing instead of rescanning.")
@click.option(
    "--url",
    metavar="URL",
    help="Then mirror the index into this PostgreSQL database (postgresql+psycopg://…).",
)
@pass_store
def index(store: Store, store_path: Path | None, full: bool, url: str | None) -> None:
    """Bring the index of STORE (default: --store) up to date with its run folders.

    Rescans every run folder and re-reads the ones changed (by mtime) since they
    were indexed, or never indexed (folders copied in by hand), and drops runs whose
    folder is gone. --full deletes the index and reads every folder again; both give
    the same table.

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
    click.echo(
        f"{done} {_plural(read, 'run')}; {_plural(total, 'run')} indexed in {the_store.root}"
    )
    if mirrored is not None:
        from runlab.index.postgres import shown_url

        click.echo(
            f"mirrored to {shown_url(str(url))}: {_plural(mirrored.written, 'run')} written, "
            f"{mirrored.removed} removed (store {mirrored.store_id})"
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- the terminal table --------------------------------------------------------------------
def _print_table(table: RunTable, *, grouped: bool) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, emoji=False, markup=False)
    rule = "─" if (console.encoding or "").lower().startswith("utf") else "-"
    header, body, hidden = layout_table(table, console.width, grouped=grouped, rule=rule)
    console.print(Text("\n".join(header[:-1]), style="bold"), soft_wrap=True)
    console.print(Text(header[-1]), soft_wrap=True)
    # One Text for all rows: rich's Table takes seconds over 10,000 rows, this a tenth.
    console.print(Text("\n".join(body)), soft_wrap=True)
    if hidden:
        shown = ", ".join(hidden[:8]) + (", …" if len(hidden) > 8 else "")
        console.print(
            Text(
                f"{_plural(len(hidden), 'more column')} not shown: {shown} "
                "(pick with --columns or --varying)",
                style="dim",
            ),
            soft_wrap=True,
        )


def layout_table(
    table: RunTable, width: int, *, grouped: bool = False, rule: str = "─"
) -> tuple[list[str], list[str], list[str]]:
    """The header lines (the last is the rule), the row lines and the columns left out.

    Numbers are right-aligned; a cell wider than its column ends in "…"; lines carry
    no trailing blanks.
    """
    from rich.cells import cell_len

    from runlab.query.export import text_cell

    headers = [_header(name).split("\n") for name in table.names]
    depth = max((len(h) for h in headers), default=1)
    headers = [[""] * (depth - len(h)) + h for h in headers]
    cells = [
        [text_cell(v, col.dtype) for v in values]
        for col, values in zip(table.columns, table.data, strict=True)
    ]
    natural = [
        min(MAX_CELL, max(cell_len(t) for t in (*h, *cs)))
        for h, cs in zip(headers, cells, strict=True)
    ]
    kept, widths = fit_columns(natural, _priorities(table, grouped=grouped), width)
    right = [table.columns[i].dtype.numeric for i in kept]
    spans = [widths[i] for i in kept]
    head = [_line([headers[i][k] for i in kept], spans, right) for k in range(depth)]
    head.append(rule * (sum(spans) + GAP * (len(spans) - 1)))
    body = [_line(row, spans, right) for row in zip(*(cells[i] for i in kept), strict=True)]
    hidden = [table.names[i] for i in range(len(natural)) if i not in kept]
    return head, body, hidden


def _line(texts: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    from rich.cells import cell_len, set_cell_size

    parts = []
    for text, width, numeric in zip(texts, widths, right, strict=True):
        size = cell_len(text)
        if size > width:
            text, size = set_cell_size(text, width - 1) + "…", width
        pad = " " * (width - size)
        parts.append(pad + text if numeric else text + pad)
    return (" " * GAP).join(parts).rstrip()


def _header(name: str) -> str:
    """Two header lines for a dynamic column (``params`` over ``lr``), one line otherwise."""
    kind, _, rest = name.partition(".")
    return f"{kind}\n{rest}" if rest and kind in ("params", "metrics", "tags") else name


def _priorities(table: RunTable, *, grouped: bool) -> list[int]:
    """How much each column matters on a narrow terminal (0 = most; kept first).

    Runs: id, status, metrics, the params that vary, name, message, constant params and
    tags, duration, start, the rest. Groups: keys, run count, metric means, metric stds,
    param means and stds, counts. Columns with no value at all, and the duration of
    groups, come last.
    """
    from runlab.query.table import GROUP_SIZE
    from runlab.query.view import varying_params

    empty = {
        c.name
        for c, values in zip(table.columns, table.data, strict=True)
        if not any(v is not None for v in values)
    }
    if grouped:
        keys = table.names.index(GROUP_SIZE) if GROUP_SIZE in table.names else 0
        stat_rank = {"mean": 0, "std": 1, "sem": 2, "low": 3, "high": 3, "n": 4, "count": 4}
        out = []
        for i, col in enumerate(table.columns):
            if i < keys or col.name == GROUP_SIZE:
                out.append(0)
            elif col.name in empty or col.source == "duration":
                out.append(10)
            else:
                stat = col.name.rsplit("_", 1)[-1]
                base = {"metrics": 2, "params": 4, "tags": 4}.get(col.kind, 5)
                out.append(base + stat_rank.get(stat, 4))
        return out
    varying = set(varying_params(table))
    ranks = {"id": 0, "status": 1, "name": 4, "message": 5, "duration": 6, "start": 7}
    out = []
    for col in table.columns:
        if col.name in ranks:
            out.append(ranks[col.name])
        elif col.name in empty:
            out.append(10)
        elif col.kind == "params":
            out.append(3 if col.name in varying else 5)
        else:
            out.append({"metrics": 2, "tags": 5}.get(col.kind, 8))
    return out


def fit_columns(
    natural: Sequence[int], priority: Sequence[int], width: int
) -> tuple[list[int], dict[int, int]]:
    """Which columns fit in ``width`` characters, and the width of each.

    All columns at their natural width if they fit; else columns are taken by priority
    (then position) until the next one would not get ``MIN_CELL`` characters (or its
    natural width if smaller), and the space left is shared out, narrowest needs first.
    """
    n = len(natural)
    if sum(natural) + GAP * (n - 1) <= width:
        return list(range(n)), dict(enumerate(natural))
    smallest = {i: min(natural[i], MIN_CELL) for i in range(n)}
    kept: list[int] = []
    used = -GAP
    for i in sorted(range(n), key=lambda i: (priority[i], i)):
        if kept and used + GAP + smallest[i] > width:
            break  # what is shown is always the most telling columns, never a patchwork
        kept.append(i)
        used += GAP + smallest[i]
    kept.sort()
    widths = {i: smallest[i] for i in kept}
    spare = width - used
    wanting = sorted((i for i in kept if natural[i] > widths[i]), key=lambda i: natural[i])
    for k, i in enumerate(wanting):
        share = spare // (len(wanting) - k)
        extra = min(natural[i] - widths[i], share)
        widths[i] += extra
        spare -= extra
    return kept, widths
