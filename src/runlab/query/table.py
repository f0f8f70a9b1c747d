"""A runs table in plain Python: typed columns, and the sort / tail / group / select verbs.

``runlab ls`` works on this, not on pandas, because importing pandas alone costs more
than the whole listing of 10,000 runs. :meth:`RunTable.df` turns a table into a
DataFrame (see :mod:`runlab.query.frame`) for the Python API.

Values are Python values of the column's :class:`~runlab.query.types.DType`: bools are
bools (the index stores 0/1), JSON columns hold lists and dicts, missing is ``None``,
times stay ISO 8601 strings as ``run.json`` has them. Data is held column by column,
which is how sorting, grouping and DataFrame building want it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runlab.errors import ColumnNotFound
from runlab.query.expr import resolve_column
from runlab.query.types import DType

if TYPE_CHECKING:
    import pandas as pd

# How a group's numeric column is summed up; others only get a count.
NUMERIC_STATS = ("mean", "std", "count")
GROUP_SIZE = "runs"


@dataclass(frozen=True)
class Column:
    """One column of a runs table: its name, where it comes from, and its values' type.

    ``kind`` is ``run`` for the index's fixed columns, ``params``/``metrics``/``tags`` for
    the dynamic ones, ``group`` for a group's run count. ``source`` names the column an
    aggregate was computed from (``metrics.acc`` for ``metrics.acc_mean``); ``types`` are
    the value types the index has seen (they tell a bool from an int in a mixed column).
    """

    name: str
    kind: str
    dtype: DType
    source: str = ""
    types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunTable:
    """An immutable table of runs (or of groups of runs), held column by column.

    Usage::

        table = runlab.load("runs").table()
        best = table.sort(["metrics.acc"], descending=True).tail(5)
        best.records()     # [{"id": "7", "params.lr": 0.1, ...}, ...]
    """

    columns: tuple[Column, ...]
    data: tuple[tuple[Any, ...], ...]

    @classmethod
    def from_rows(cls, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> RunTable:
        """A table of SQL result rows, each value converted to its column's type."""
        data = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        return cls(
            tuple(columns),
            tuple(_convert(values, col) for values, col in zip(data, columns, strict=True)),
        )

    # -- reading ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    def column(self, name: str) -> Column:
        """The column called ``name`` exactly (KeyError if there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def values(self, name: str) -> tuple[Any, ...]:
        """The values of column ``name``, in row order."""
        return self.data[self.names.index(name)]

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as tuples, in column order."""
        return list(zip(*self.data, strict=True)) if self.data else []

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (column name → value): what ``--json`` prints."""
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows()]

    def df(self) -> pd.DataFrame:
        """The table as a pandas DataFrame with the dtypes of :mod:`runlab.query.types`."""
        from runlab.query.frame import to_frame

        return to_frame(self)

    # -- naming columns -----------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """The column ``name`` means: exact, or a short name (``acc`` → ``metrics.acc``)."""
        return resolve_column(name.strip(), self.names)

    def resolve_many(self, names: Iterable[str]) -> list[str]:
        """Resolve names for :meth:`select`; the source of aggregates stands for all of them.

        On a grouped table ``metrics.acc`` (or ``acc``) selects ``metrics.acc_mean``,
        ``metrics.acc_std`` and ``metrics.acc_count``.
        """
        sources = sorted({c.source for c in self.columns if c.source})
        out: list[str] = []
        for text in names:
            try:
                found = [self.resolve(text)]
            except ColumnNotFound:
                try:
                    source = resolve_column(text.strip(), sources)
                except ColumnNotFound:
                    source = None
                if source is None:
                    raise
                found = [c.name for c in self.columns if c.source == source]
            out.extend(n for n in found if n not in out)
        return out

    # -- verbs --------------------------------------------------------------------------
    def take(self, indexes: Sequence[int]) -> RunTable:
        """The rows at ``indexes``, in that order."""
        return RunTable(self.columns, tuple(tuple(v[i] for i in indexes) for v in self.data))

    def select(self, names: Iterable[str]) -> RunTable:
        """Only the columns ``names`` (resolved as :meth:`resolve_many` does), in that order."""
        where = {n: i for i, n in enumerate(self.names)}
        chosen = [where[n] for n in self.resolve_many(names)]
        return RunTable(tuple(self.columns[i] for i in chosen), tuple(self.data[i] for i in chosen))

    def sort(self, names: Iterable[str], *, descending: bool = False) -> RunTable:
        """Rows ordered by ``names`` (first decides), missing values last either way. Stable."""
        keys = [self.resolve(n) for n in names]
        order = list(range(len(self)))
        for name in reversed(keys):
            values = self.values(name)
            present = [i for i in order if values[i] is not None]
            missing = [i for i in order if values[i] is None]
            if self.column(name).dtype in (DType.MIXED, DType.JSON, DType.EMPTY):
                present.sort(key=lambda i: order_key(values[i]), reverse=descending)
            else:
                present.sort(key=values.__getitem__, reverse=descending)
            order = present + missing
        return self.take(order)

    def tail(self, count: int) -> RunTable:
        """The last ``count`` rows."""
        n = len(self)
        return self.take(range(max(0, n - count), n))

    def group(self, keys: Iterable[str], *, over: Iterable[str] | None = None) -> RunTable:
        """One row per distinct value of ``keys``: their count and aggregates of ``over``.

        Numeric columns (by type, see :class:`DType`) get ``<name>_mean``, ``_std``
        (sample standard deviation, ddof=1; missing for one value) and ``_count`` (values
        present); other columns get ``_count``. The ``runs`` column counts the group's
        rows. Groups are ordered by their keys, missing keys last (they are kept).
        ``over`` defaults to the params, metrics and tags that are not keys.
        """
        names = [self.resolve(k) for k in keys]
        if over is None:
            over = [c.name for c in self.columns if c.kind in ("params", "metrics", "tags")]
        over = [n for n in (self.resolve(o) for o in over) if n not in names]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, key in enumerate(zip(*(self.values(n) for n in names), strict=True)):
            groups.setdefault(tuple(_hashable(v) for v in key), []).append(i)
        members = list(groups.values())
        columns = [self.column(n) for n in names]
        data: list[tuple[Any, ...]] = [
            tuple(self.values(n)[rows[0]] for rows in members) for n in names
        ]
        columns.append(Column(GROUP_SIZE, "group", DType.INT))
        data.append(tuple(len(rows) for rows in members))
        for name in over:
            col = self.column(name)
            values = self.values(name)
            present = [[values[i] for i in rows if values[i] is not None] for rows in members]
            stats = NUMERIC_STATS if col.dtype.numeric else ("count",)
            for stat in stats:
                dtype = DType.INT if stat == "count" else DType.FLOAT
                columns.append(Column(f"{name}_{stat}", col.kind, dtype, source=name))
                data.append(tuple(_STATS[stat](xs) for xs in present))
        return RunTable(tuple(columns), tuple(data)).sort(names)


def _mean(xs: list[Any]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


def _std(xs: list[Any]) -> float | None:
    if len(xs) < 2:
        return None
    mean = math.fsum(xs) / len(xs)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


_STATS = {"mean": _mean, "std": _std, "count": len}


def order_key(value: Any) -> tuple[int, Any]:
    """A sort key that orders values of any type: numbers, then strings, then JSON."""
    if isinstance(value, (bool, int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, default=str))


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return ("json", json.dumps(value, sort_keys=True))
    return value


def _convert(values: tuple[Any, ...], col: Column) -> tuple[Any, ...]:
    """The SQL values of a column as Python values of its dtype (see module docstring)."""
    dtype = col.dtype
    if dtype is DType.BOOL:
        return tuple(None if v is None else bool(v) for v in values)
    if dtype is DType.FLOAT:
        if any(type(v) is int for v in values):
            return tuple(float(v) if type(v) is int else v for v in values)
        return values
    if dtype is DType.JSON:
        return tuple(_json(v) if isinstance(v, str) else v for v in values)
    if dtype is DType.MIXED:
        # Ints stored for a column that never held an int can only be bools (0/1).
        bools = "bool" in col.types and "int" not in col.types
        parse = "json" in col.types
        if bools or parse:
            return tuple(_mixed(v, bools=bools, parse=parse) for v in values)
    return values


def _mixed(value: Any, *, bools: bool, parse: bool) -> Any:
    if bools and type(value) is int:
        return bool(value)
    if parse and isinstance(value, str) and value[:1] in ("[", "{"):
        return _json(value)
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
