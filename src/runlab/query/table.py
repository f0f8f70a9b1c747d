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
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from runlab.bulk import paused_gc
from runlab.errors import ColumnNotFound
from runlab.query.expr import resolve_column
from runlab.query.types import DType

if TYPE_CHECKING:
    import numpy as np
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
    @paused_gc()
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

    @cached_property
    def _positions(self) -> dict[str, int]:
        # Grouping 100,000 runs looks columns up by name hundreds of thousands of times.
        # The first column of a name wins, as list.index would find it.
        out: dict[str, int] = {}
        for i, col in enumerate(self.columns):
            out.setdefault(col.name, i)
        return out

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    def column(self, name: str) -> Column:
        """The column called ``name`` exactly (KeyError if there is none)."""
        return self.columns[self._positions[name]]

    def values(self, name: str) -> tuple[Any, ...]:
        """The values of column ``name``, in row order (ValueError if there is none)."""
        try:
            return self.data[self._positions[name]]
        except KeyError:
            raise ValueError(f"{name!r} is not a column") from None

    def key_tuples(self, names: Sequence[str]) -> list[Any]:
        """Per row, a hashable key of its values in ``names`` (JSON values by their text)."""
        if not names:
            return [()] * len(self)
        return list(zip(*(_hashable_values(self, k) for k in names), strict=True))

    def numbers(self, names: Sequence[str]) -> np.ndarray:
        """The numeric columns ``names`` as one float array, a row per row (NaN: missing)."""
        return _float_array([self.values(n) for n in names], len(self))

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as tuples, in column order."""
        return list(zip(*self.data, strict=True)) if self.data else []

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (column name → value): what ``--json`` prints."""
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows()]

    @paused_gc()
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
    def take(self, indexes: Sequence[int], names: Sequence[str] | None = None) -> RunTable:
        """The rows at ``indexes``, in that order; only the columns ``names`` if given."""
        pick = picker(indexes)
        if names is None:
            return RunTable(self.columns, tuple(pick(v) for v in self.data))
        return RunTable(tuple(map(self.column, names)), tuple(pick(self.values(n)) for n in names))

    def select(self, names: Iterable[str]) -> RunTable:
        """Only the columns ``names`` (resolved as :meth:`resolve_many` does), in that order."""
        where = {n: i for i, n in enumerate(self.names)}
        chosen = [where[n] for n in self.resolve_many(names)]
        return RunTable(tuple(self.columns[i] for i in chosen), tuple(self.data[i] for i in chosen))

    @paused_gc()
    def sort(self, names: Iterable[str], *, descending: bool = False) -> RunTable:
        """Rows ordered by ``names`` (first decides), missing values last either way. Stable."""
        keys = [self.resolve(n) for n in names]
        if not keys:
            return self
        # One sort on a tuple per row. A column with missing values contributes
        # (present, value), so a missing value sorts after every present one whichever
        # way the values go; one without contributes its values as they are. Python
        # keeps ties in row order with reverse=True too.
        present, missing = (1, 0) if descending else (0, 1)
        per_column = []
        for name in keys:
            values = self.values(name)
            if self.column(name).dtype in (DType.MIXED, DType.JSON, DType.EMPTY):
                values = tuple(None if v is None else order_key(v) for v in values)
            if None in values:
                per_column.append([(missing,) if v is None else (present, v) for v in values])
            else:
                per_column.append(values)
        rows = list(zip(*per_column, strict=True))
        order = sorted(range(len(self)), key=rows.__getitem__, reverse=descending)
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
        return group_table(self, keys, over=over)


@paused_gc()
def group_table(
    source: RunTable | Rows, keys: Iterable[str], *, over: Iterable[str] | None = None
) -> RunTable:
    """:meth:`RunTable.group` of a table, or of :class:`Rows` read for it (no columns built)."""
    import numpy as np

    from runlab.query.stats import stat_matrix

    names = [source.resolve(k) for k in keys]
    if over is None:
        over = [c.name for c in source.columns if c.kind in ("params", "metrics", "tags")]
    over = [n for n in (source.resolve(o) for o in over) if n not in names]
    groups = Groups.of(source, names)
    ids = np.asarray(groups.ids, dtype=np.intp)
    columns = [source.column(n) for n in names]
    data = groups.first_values(source, names)
    columns.append(Column(GROUP_SIZE, "group", DType.INT))
    sizes = np.bincount(ids, minlength=len(groups))
    data.append(tuple(sizes.tolist()))
    numeric = [n for n in over if source.column(n).dtype.numeric]
    fields = ("mean", "std", "n")
    summed = stat_matrix(source.numbers(numeric), ids, len(groups), fields)
    stats = dict(zip(numeric, summed, strict=True))
    for name in over:
        col = source.column(name)
        if name in stats:
            computed = {**stats[name], "count": stats[name]["n"]}
        else:
            values = source.values(name)
            if None in values:
                missing = np.equal(np.array(values, dtype=object), None)
                counts = sizes - np.bincount(ids[missing], minlength=len(groups))
                computed = {"count": tuple(counts.tolist())}
            else:
                computed = {"count": data[len(names)]}
        for stat in NUMERIC_STATS if col.dtype.numeric else ("count",):
            dtype = DType.INT if stat == "count" else DType.FLOAT
            columns.append(Column(f"{name}_{stat}", col.kind, dtype, source=name))
            data.append(computed[stat])
    return RunTable(tuple(columns), tuple(data)).sort(names)


@dataclass(frozen=True)
class Groups:
    """The rows of a table in groups of equal keys, numbered in first-seen order.

    ``ids`` gives each row's group, ``firsts`` each group's first row (ascending, so
    group ``g`` is the ``g``-th distinct key met going down the rows). Each key tuple
    is hashed once, and no list is built per group: grouping 100,000 runs by 11 keys
    cost more than summing them up before.
    """

    ids: list[int]
    firsts: list[int]

    @classmethod
    @paused_gc()
    def of(cls, table: RunTable | Rows, keys: Sequence[str]) -> Groups:
        """The groups of ``table`` by ``keys`` (JSON values group by their text)."""
        n = len(table)
        per_row = table.key_tuples(keys)
        number: dict[Any, int] = {}
        ids = [number.setdefault(key, len(number)) for key in per_row]  # one hash per row
        # Going up the rows, a group's last assignment is its first row.
        first = dict(zip(reversed(ids), range(n - 1, -1, -1), strict=True))
        return cls(ids, [first[g] for g in range(len(number))])

    def __len__(self) -> int:
        return len(self.firsts)

    def first_values(self, table: RunTable | Rows, names: Sequence[str]) -> list[tuple[Any, ...]]:
        """Per column ``names``, the value of each group's first row: the group's key."""
        return list(table.take(self.firsts, names).data)

    def members(self) -> list[list[int]]:
        """The rows of each group, in row order."""
        out: list[list[int]] = [[] for _ in self.firsts]
        for i, g in enumerate(self.ids):
            out[g].append(i)
        return out


class Rows:
    """SQL result rows left as rows: what grouping 100,000 runs reads.

    :meth:`RunTable.from_rows` turns every row into columns, which costs more than
    grouping them: here a group's key is taken from each row in C (an ``itemgetter``),
    and only the columns asked for become columns (typed as a table's are). Offers
    what :class:`Groups` and :func:`runlab.query.analysis.aggregate` read.
    """

    def __init__(self, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
        self.columns = tuple(columns)
        self.rows = rows
        self._positions = {c.name: i for i, c in reversed(list(enumerate(self.columns)))}
        self._taken: dict[str, tuple[Any, ...]] = {}  # a listing reads a column twice

    def _raw(self, name: str) -> tuple[Any, ...]:
        """The stored values of column ``name``, taken from the rows once."""
        raw = self._taken.get(name)
        if raw is None:
            raw = tuple(map(operator.itemgetter(self._positions[name]), self.rows))
            self._taken[name] = raw
        return raw

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def resolve(self, name: str) -> str:
        """The column ``name`` means: exact, or a short name (as :meth:`RunTable.resolve`)."""
        return resolve_column(name.strip(), self.names)

    def column(self, name: str) -> Column:
        return self.columns[self._positions[name]]

    def values(self, name: str) -> tuple[Any, ...]:
        """The values of column ``name``, converted to its type as a table's are."""
        return _convert(self._raw(name), self.column(name))

    def key_tuples(self, names: Sequence[str]) -> list[Any]:
        """Per row, a hashable key of its values in ``names`` (see :meth:`RunTable.key_tuples`).

        Stored values group as Python values do (0 and 1 as False and True, 1 as 1.0),
        so plain columns need no conversion; JSON and mixed ones are converted first.
        """
        if not names:
            return [()] * len(self)
        if any(self.column(n).dtype in (DType.JSON, DType.MIXED) for n in names):
            return list(zip(*(_hashable_values(self, n) for n in names), strict=True))
        return list(map(operator.itemgetter(*(self._positions[n] for n in names)), self.rows))

    def numbers(self, names: Sequence[str]) -> np.ndarray:
        """The numeric columns ``names`` as one float array (see :meth:`RunTable.numbers`)."""
        # Column by column: numpy reads a flat sequence of floats far faster than rows.
        return _float_array([self._raw(n) for n in names], len(self))

    def take(self, indexes: Sequence[int], names: Sequence[str] | None = None) -> RunTable:
        """The rows at ``indexes`` as a table; only the columns ``names`` if given."""
        picked = list(map(self.rows.__getitem__, indexes))
        if names is None:
            return RunTable.from_rows(self.columns, picked)
        columns = tuple(map(self.column, names))
        data = (tuple(map(operator.itemgetter(self._positions[c.name]), picked)) for c in columns)
        return RunTable(columns, tuple(_convert(v, c) for v, c in zip(data, columns, strict=True)))


def _float_array(columns: Sequence[Sequence[Any]], length: int) -> np.ndarray:
    """Columns of numbers (None for missing) as one float array, a row per value (NaN)."""
    import numpy as np

    if not columns:
        return np.empty((length, 0))
    return np.column_stack([np.array(c, dtype=np.float64) for c in columns])  # None → NaN in C


def _hashable_values(table: RunTable | Rows, name: str) -> tuple[Any, ...]:
    values = table.values(name)
    if table.column(name).dtype in (DType.JSON, DType.MIXED):
        return tuple(_hashable(v) for v in values)  # lists and dicts do not hash
    return values


def group_rows(table: RunTable, keys: Sequence[str]) -> dict[tuple[Any, ...], list[int]]:
    """Row indexes by distinct key values, in first-seen order.

    JSON values (lists, dicts) do not hash: they group by their text, and the key
    holds ``("json", text)`` for them.
    """
    out: dict[tuple[Any, ...], list[int]] = {}
    columns = [_hashable_values(table, k) for k in keys]
    for i, key in enumerate(zip(*columns, strict=True) if columns else ((),) * len(table)):
        out.setdefault(key, []).append(i)
    return out


def picker(indexes: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function returning the values at ``indexes`` as a tuple (an itemgetter, in C)."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)  # type: ignore[return-value]
    return lambda values: tuple(values[i] for i in indexes)


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


_BOOLS: dict[Any, bool] = {0: False, 1: True}


def _convert(values: tuple[Any, ...], col: Column) -> tuple[Any, ...]:
    """The SQL values of a column as Python values of its dtype (see module docstring)."""
    dtype = col.dtype
    if dtype is DType.BOOL:  # stored as 0 and 1; a dict lookup per value runs in C
        return tuple(map(_BOOLS.get, values))
    if dtype is DType.FLOAT:
        if int in set(map(type, values)):  # the set is built in C: no per-value Python
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
