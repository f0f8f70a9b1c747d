"""The terminal table of ``runlab ls``, ``best`` and ``table``, fitted to the terminal.

Every column gets its natural width when they all fit; otherwise the least telling
columns are left out (named in a note below the table) and long cells are cut with an
ellipsis. Rows are laid out here and printed through rich as one text: rich's own Table
takes seconds over 10,000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runlab.cli.common import plural

if TYPE_CHECKING:
    from runlab.query.table import RunTable

MAX_CELL = 40  # a wider cell is cut with "…"
MIN_CELL = 12  # columns are cut down to this at most: narrower shows too little
GAP = 3  # rich's SIMPLE_HEAD box puts three characters between columns


def export_table(table: RunTable, export_path: Path | None) -> None:
    """Write ``table`` to ``--export``'s file, when one was given.

    Called inside the command's ``warnings_as_lines`` block, so the writer's warnings
    print as one line each like the query's; ``report`` then says where it wrote.
    """
    if export_path is not None:
        from runlab.query.export import export

        export(table, export_path)


def report(
    table: RunTable,
    *,
    export_path: Path | None,
    as_json: bool,
    empty: str,
    show: Callable[[], None],
) -> None:
    """Print what a table command made (and has exported): JSON, a note, or the table.

    ``--json`` prints the records; an export says where it wrote (on stderr, so JSON
    stays clean) and shows no table; otherwise ``show()`` prints the table, or ``empty``
    when no row is left.
    """
    if as_json:
        from runlab.query.export import records_json

        click.echo(records_json(table), nl=False)
    if export_path is not None:
        click.echo(f"wrote {plural(len(table), 'row')} to {export_path}", err=True)
    elif not as_json:
        if len(table):
            show()
        else:
            click.echo(empty)


def print_table(table: RunTable, *, grouped: bool) -> None:
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
                f"{plural(len(hidden), 'more column')} not shown: {shown} "
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
