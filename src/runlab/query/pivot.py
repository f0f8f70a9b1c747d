"""pymake's result tables: one row per value of ``rows``, one column per value of ``cols``.

``runs.pivot(rows="params.kernel", cols="params.C", value="metrics.acc",
reduce="mean±std", over="params.seed")`` puts in each cell the runs with that row and
column value, reduced to one text: ``mean±std`` (``0.91±0.02``; the mean alone for a
single value), ``mean``, ``max``, ``min`` or ``count`` (values present). With ``over``
the rows also carry every other varying param but ``cols`` and ``ignore`` (as
:mod:`runlab.query.analysis` defines groups), so a cell never pools runs whose other
params differ; without it a cell pools all its runs.

Numbers show ``digits`` decimals; by default 2, or more when the smallest mean needs
them for two significant digits (``0.0031``), up to 6. In each row the best cell
(highest by default, ``mode="min"`` for the lowest; by the mean for ``mean±std``) is
marked: bold in markdown, LaTeX and HTML, ``*`` after it in the terminal. Ties are all
marked; ``count`` marks nothing.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.query.analysis import Mode, group_keys, warn_groups
from runlab.query.export import Styled, export, text_cell
from runlab.query.stats import Summary
from runlab.query.table import Column, Groups, RunTable, group_rows, order_key
from runlab.query.types import DType

if TYPE_CHECKING:
    import pandas as pd

MAX_DIGITS = 6


class Reduce(str, enum.Enum):
    """What a pivot cell shows of its runs' values."""

    MEAN_STD = "mean±std"
    MEAN = "mean"
    MAX = "max"
    MIN = "min"
    COUNT = "count"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, value: str | Reduce) -> Reduce:
        """The reduction ``value`` names; ``mean+-std`` is ``mean±std`` for ASCII keyboards."""
        text = str(value).strip().lower().replace("+-", "±").replace("+/-", "±")
        try:
            return cls(text)
        except ValueError:
            known = ", ".join(r.value for r in cls)
            raise UsageError(f"reduce {value!r}: use one of {known}") from None


@dataclass(frozen=True)
class Pivot:
    """A reduced rows × columns table of runs, with the best cell of each row known.

    ``row_columns`` name the row keys, ``column`` the column key; ``rows`` and ``cols``
    hold their values in order; ``cells[i][j]`` summarises the runs of row ``i`` and
    column ``j`` (None when there are none). ``names`` are the headers shown: short
    column names where unambiguous, ``C=0.1`` for the value columns.

    Usage::

        pivot = runs.pivot(rows="kernel", cols="C", value="acc", over="seed")
        pivot.export(Path("table.tex"))    # \\textbf{} on each row's best cell
        pivot.df()                         # the numbers (text for mean±std)
    """

    row_columns: tuple[Column, ...]
    column: str
    value: str
    reduce: Reduce
    mode: Mode
    rows: tuple[tuple[Any, ...], ...]
    cols: tuple[Any, ...]
    cells: tuple[tuple[Summary | None, ...], ...]
    names: tuple[str, ...]
    digits: int

    def number(self, i: int, j: int) -> float | int | None:
        """The one number of cell ``(i, j)`` (the mean for ``mean±std``); None if empty."""
        cell = self.cells[i][j]
        if cell is None:
            return None
        if self.reduce is Reduce.COUNT:
            return cell.n
        if self.reduce is Reduce.MAX:
            return cell.max
        if self.reduce is Reduce.MIN:
            return cell.min
        return cell.mean

    def text(self, i: int, j: int) -> str:
        """Cell ``(i, j)`` as people read it: ``0.91±0.02``, ``0.91``, ``3``, or ""."""
        cell, number = self.cells[i][j], self.number(i, j)
        if cell is None or number is None:
            return ""
        if self.reduce is Reduce.COUNT:
            return str(number)
        d = self.digits
        if self.reduce is Reduce.MEAN_STD and cell.std is not None:
            return f"{number:.{d}f}±{cell.std:.{d}f}"
        return f"{number:.{d}f}"

    @property
    def best(self) -> frozenset[tuple[int, int]]:
        """The ``(row, col)`` of each row's best cell (all of them on ties; none for count)."""
        if self.reduce is Reduce.COUNT:
            return frozenset()
        out = set()
        for i in range(len(self.rows)):
            numbers = {j: self.number(i, j) for j in range(len(self.cols))}
            present = {j: n for j, n in numbers.items() if n is not None}
            if present:
                # compare what is shown: 0.914 and 0.912 are both 0.91 at two digits
                shown = {j: round(n, self.digits) for j, n in present.items()}
                target = self.mode.pick(shown.values())
                out.update((i, j) for j, n in shown.items() if n == target)
        return frozenset(out)

    def table(self) -> RunTable:
        """The pivot as data: numbers per cell (``mean±std`` cells as their text)."""
        keys = len(self.row_columns)
        columns = list(self.row_columns)
        data: list[tuple[Any, ...]] = [tuple(r[k] for r in self.rows) for k in range(keys)]
        if self.reduce is Reduce.COUNT:
            dtype = DType.INT
        elif self.reduce is Reduce.MEAN_STD:
            dtype = DType.STR
        else:
            dtype = DType.FLOAT
        for j, name in enumerate(self.names[keys:]):
            columns.append(Column(name, "pivot", dtype, source=self.value))
            if dtype is DType.STR:
                data.append(tuple(self.text(i, j) or None for i in range(len(self.rows))))
            else:
                data.append(tuple(self.number(i, j) for i in range(len(self.rows))))
        renamed = [
            Column(n, c.kind, c.dtype, c.source, c.types)
            for n, c in zip(self.names, columns, strict=True)
        ]
        return RunTable(tuple(renamed), tuple(data))

    def styled(self) -> Styled:
        """The pivot as people read it: cell texts, values right-aligned, best cells marked."""
        keys = len(self.row_columns)
        texts = tuple(
            tuple(text_cell(v, c.dtype) for v, c in zip(row, self.row_columns, strict=True))
            + tuple(self.text(i, j) for j in range(len(self.cols)))
            for i, row in enumerate(self.rows)
        )
        right = tuple(c.dtype.numeric for c in self.row_columns) + (True,) * len(self.cols)
        marks = frozenset((i, keys + j) for i, j in self.best)
        return Styled(texts, right, marks)

    def df(self) -> pd.DataFrame:
        """The data of :meth:`table` as a DataFrame."""
        return self.table().df()

    def export(self, path: Path) -> Path:
        """Write the pivot to ``path`` (format by suffix; best cells marked where it can)."""
        return export(self.table(), Path(path), styled=self.styled())


def build(
    table: RunTable,
    *,
    rows: Sequence[str],
    cols: str,
    value: str,
    reduce: Reduce,
    over: str | None,
    mode: Mode,
    varying: Sequence[str],
    digits: int | None = None,
) -> Pivot:
    """The pivot of ``table`` (which holds the named columns and the varying params)."""
    if cols in rows:
        raise UsageError(f"{cols} is both a row and the columns of the table: pick one")
    if reduce is not Reduce.COUNT and not table.column(value).dtype.numeric:
        dtype = table.column(value).dtype
        raise UsageError(f"{value} holds {dtype} values: reduce it with count, or pick numbers")
    if digits is not None and not 0 <= digits <= 12:
        raise UsageError(f"digits {digits}: give 0 to 12 decimals")
    keys = group_keys(rows, over, [v for v in varying if v != cols])
    by_row = group_rows(table, keys)
    if over is not None:
        groups = Groups.of(table, [*keys, cols])
        warn_groups(table, groups, table.take(groups.firsts, [*keys, cols]), [*keys, cols], over)
    col_values = table.values(cols)
    distinct = sorted({_key(v): v for v in col_values}.items(), key=lambda kv: _order(kv[1]))
    col_index = {k: j for j, (k, _) in enumerate(distinct)}
    values = table.values(value)
    row_order = sorted(by_row, key=lambda key: [_order(v) for v in key])
    cells = []
    for key in row_order:
        buckets: list[list[Any]] = [[] for _ in distinct]
        seen = [False] * len(distinct)
        for i in by_row[key]:
            j = col_index[_key(col_values[i])]
            seen[j] = True
            if values[i] is not None:
                buckets[j].append(values[i])
        cells.append(
            tuple(_summary(b, reduce) if s else None for b, s in zip(buckets, seen, strict=True))
        )
    row_columns = tuple(table.column(k) for k in keys)
    first = {key: by_row[key][0] for key in row_order}
    row_values = tuple(tuple(table.values(k)[first[key]] for k in keys) for key in row_order)
    short = _short_names([*keys, cols], table.names)
    names = (*short[:-1], *(f"{short[-1]}={text_cell(v, DType.MIXED)}" for _, v in distinct))
    shown = [c.mean for row in cells for c in row if c is not None and c.mean is not None]
    return Pivot(
        row_columns=row_columns,
        column=cols,
        value=value,
        reduce=reduce,
        mode=mode,
        rows=row_values,
        cols=tuple(v for _, v in distinct),
        cells=tuple(cells),
        names=tuple(names),
        digits=auto_digits(shown) if digits is None else digits,
    )


def auto_digits(numbers: Sequence[float]) -> int:
    """Decimals that show the smallest non-zero number with two significant digits (2 to 6)."""
    nonzero = [abs(x) for x in numbers if x]
    if not nonzero:
        return 2
    needed = 1 - math.floor(math.log10(min(nonzero)))
    return max(2, min(MAX_DIGITS, needed))


def _summary(values: list[Any], reduce: Reduce) -> Summary:
    if reduce is Reduce.COUNT:
        return Summary(len(values))
    return Summary.of(values)


def _short_names(names: Sequence[str], all_names: Sequence[str]) -> list[str]:
    """Each name's last dotted part where no other column ends the same, else the full name."""
    out = []
    for name in names:
        tail = name.rsplit(".", 1)[-1]
        clash = [n for n in all_names if n != name and n.rsplit(".", 1)[-1] == tail]
        out.append(name if clash or tail in out else tail)
    return out


def _key(value: Any) -> Any:
    return ("json", order_key(value)[1]) if isinstance(value, (list, dict)) else value


def _order(value: Any) -> tuple[int, Any]:
    """Numbers, then strings, then JSON, then missing."""
    return (3, 0) if value is None else order_key(value)
