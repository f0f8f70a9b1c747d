"""Groups of runs summed up: ``groupby(...).agg(...)`` with confidence intervals, and ``best``.

**Groups and ``over``.** ``runs.groupby(keys)`` makes one group per distinct value of
``keys``, pooling every run in it whatever its other params (pandas' groupby).
``runs.groupby(keys, over="params.seed")`` says what the samples are: each group is
one configuration and its runs differ only in ``over``. The group keys are then
``keys`` followed by every other *varying* param (one holding more than one value,
missing included, among the selected runs) except ``over``, so runs with other
params that differ are separate groups, never averaged together. ``keys`` may be
empty: ``groupby(over="params.seed")`` groups by everything that varies but the seed.
A param that differs in every run without being a setting (an output folder named
after the seed) would make every group one run: leave it out of the keys with
``ignore=["params.out"]`` (a warning says so when every group holds one run). Two runs
of a group sharing the same ``over`` value both count as samples (a warning names the
first such group).

**Statistics** (see :mod:`runlab.query.stats`): per aggregated column ``<col>_mean``,
``_std`` (ddof=1), ``_sem``, ``_n`` (values present), ``_min``, ``_max``, ``_ci_low`` and
``_ci_high`` (95 % Student t interval), plus the group's run count ``runs``. Groups are
ordered by their keys, missing values last.

**Best.** ``runs.best(metric, mode="min", by=[...])`` is, per distinct value of ``by``
(or over all runs), the run with the lowest (``min``) or highest (``max``) value;
runs missing the metric are skipped, ties go to the first run in row order.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.query.stats import Summary
from runlab.query.table import GROUP_SIZE, Column, RunTable, order_key
from runlab.query.types import DType

if TYPE_CHECKING:
    from runlab.query.runs import Runs


class Mode(str, enum.Enum):
    """Which end of a metric is best."""

    MIN = "min"
    MAX = "max"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, value: str | Mode) -> Mode:
        """The mode ``value`` names (``"min"`` or ``"max"``); UsageError for anything else."""
        try:
            return cls(str(value).lower())
        except ValueError:
            raise UsageError(f"mode {value!r}: use min or max") from None

    def pick(self, values: Iterable[float]) -> float:
        """The best of ``values``."""
        return min(values) if self is Mode.MIN else max(values)


class Stat(str, enum.Enum):
    """A statistic of a group's values; the suffix of its column (``metrics.acc_sem``)."""

    MEAN = "mean"
    STD = "std"
    SEM = "sem"
    N = "n"
    MIN = "min"
    MAX = "max"
    CI_LOW = "ci_low"
    CI_HIGH = "ci_high"

    def __str__(self) -> str:
        return self.value


ALL_STATS: tuple[Stat, ...] = tuple(Stat)
_CHUNK = 500  # params per varying query, under SQLite's 2000 result columns


def varying_params(runs: Runs) -> list[str]:
    """The params of ``runs`` holding more than one distinct value, missing included.

    Asked in SQL, in one scan: does any run's value differ from (``IS NOT``) the first
    run's? So finding the keys of a groupby over 100,000 runs reads no values into
    Python and sorts nothing (``COUNT(DISTINCT)`` would).
    """
    params = [c.name for c in runs.columns if c.kind == "params"]
    first = runs.execute(runs.sql_select(*(runs.sql_table.c[n] for n in params)).limit(1))
    if not first:
        return []
    values = dict(zip(params, first[0], strict=True))
    out = []
    for start in range(0, len(params), _CHUNK):
        chunk = params[start : start + _CHUNK]
        tests = [_differs(runs, runs.sql_table.c[n], values[n]) for n in chunk]
        (row,) = runs.execute(runs.sql_select(*tests))
        out += [name for name, differs in zip(chunk, row, strict=True) if differs]
    return out


def _differs(runs: Runs, col: Any, value: Any) -> Any:
    if runs.store is None:  # a PostgreSQL mirror: no `IS NOT <value>`, no MAX of booleans
        from runlab.query.postgres import differs

        return differs(col, value)
    import sqlalchemy as sa

    return sa.func.max(col.op("IS NOT")(value))


def group_keys(
    keys: Sequence[str], over: str | None, varying: Sequence[str], ignore: Sequence[str] = ()
) -> list[str]:
    """The group keys of ``groupby(keys, over=over, ignore=ignore)`` (see above)."""
    if over is None:
        return list(keys)
    if over in keys:
        raise UsageError(f"{over} is both a group key and --over: the samples cannot be groups")
    skip = {*keys, over, *ignore}
    return [*keys, *(v for v in varying if v not in skip)]


def groups(table: RunTable, keys: Sequence[str]) -> dict[tuple[Any, ...], list[int]]:
    """Row indexes by distinct key values, in first-seen order (JSON values compare by text)."""
    out: dict[tuple[Any, ...], list[int]] = {}
    columns = []
    for k in keys:
        values = table.values(k)
        if table.column(k).dtype in (DType.JSON, DType.MIXED):
            values = tuple(_hashable(v) for v in values)  # lists and dicts do not hash
        columns.append(values)
    for i, key in enumerate(zip(*columns, strict=True) if columns else ((),) * len(table)):
        out.setdefault(key, []).append(i)
    return out


def aggregate(
    table: RunTable,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    over: str | None = None,
    stats: Sequence[Stat | str] = ALL_STATS,
) -> RunTable:
    """One row per group of ``keys``: the run count and ``stats`` of each of ``values``."""
    chosen = [_stat(s) for s in stats]
    for name in values:
        col = table.column(name)
        if not col.dtype.numeric:
            raise UsageError(f"{name} holds {col.dtype} values: only numbers have a mean")
    members = list(groups(table, keys).values())
    if over is not None:
        warn_groups(table, members, keys, over)
    columns = [table.column(k) for k in keys]
    data: list[tuple[Any, ...]] = [
        tuple(table.values(k)[rows[0]] for rows in members) for k in keys
    ]
    columns.append(Column(GROUP_SIZE, "group", DType.INT))
    data.append(tuple(len(rows) for rows in members))
    for name in values:
        col = table.column(name)
        column_values = table.values(name)
        summaries = [
            Summary.of([column_values[i] for i in rows if column_values[i] is not None])
            for rows in members
        ]
        for stat in chosen:
            dtype = DType.INT if stat is Stat.N else DType.FLOAT
            columns.append(Column(f"{name}_{stat}", col.kind, dtype, source=name))
            field = Summary._fields.index(stat.value)
            data.append(tuple(s[field] for s in summaries))
    return RunTable(tuple(columns), tuple(data)).sort(keys)


def best_rows(table: RunTable, metric: str, *, mode: Mode, by: Sequence[str] = ()) -> RunTable:
    """Per group of ``by``, the row with the best ``metric`` (see the module docstring)."""
    col = table.column(metric)
    if not col.dtype.numeric:
        raise UsageError(f"{metric} holds {col.dtype} values: best needs numbers")
    values = table.values(metric)
    picks = []
    for rows in groups(table, by).values():
        present = [i for i in rows if values[i] is not None]
        if present:
            target = mode.pick(values[i] for i in present)
            picks.append(next(i for i in present if values[i] == target))
    return table.take(picks).sort(by)


class Grouping:
    """Runs in groups, waiting for :meth:`agg` to say which columns to sum up."""

    def __init__(
        self, runs: Runs, keys: list[str], over: str | None, ignore: Sequence[str] = ()
    ) -> None:
        self.runs = runs
        self.listed = keys
        self.over = over
        self.ignore = list(ignore)

    def keys(self) -> list[str]:
        """The group keys: the listed ones, plus the other varying params with ``over``."""
        varying = self.runs.varying_params() if self.over else []
        return group_keys(self.listed, self.over, varying, self.ignore)

    def agg(self, *columns: str, stats: Sequence[Stat | str] = ALL_STATS) -> RunTable:
        """Per group: ``runs`` and each column's mean, std, sem, n, min, max, ci_low, ci_high.

        With no column named, every numeric metric. See :mod:`runlab.query.analysis`.
        """
        runs = self.runs
        if columns:
            names = [runs.resolve(c) for c in columns]
        else:
            names = [c.name for c in runs.columns if c.kind == "metrics" and c.dtype.numeric]
        keys = self.keys()
        extra = [self.over] if self.over else []
        table = runs.fetch(list(dict.fromkeys([*keys, *extra, *names])), ordered=False)
        return aggregate(table, keys, names, over=self.over, stats=stats)


def warn_groups(table: RunTable, members: list[list[int]], keys: Sequence[str], over: str) -> None:
    """Warn when every group holds one run, or when runs of a group share an ``over`` value."""
    samples = table.values(over)
    singletons = len(members) > 1 and all(len(rows) == 1 for rows in members)
    if singletons and len({_hashable(v) for v in samples}) > 1:
        named = ", ".join(keys[:5]) + (f", … {len(keys) - 5} more" if len(keys) > 5 else "")
        warnings.warn(
            f"every group holds one run: the keys ({named}) tell all runs apart; "
            "leave a param that is not a setting out with ignore (--ignore)",
            UserWarning,
            stacklevel=4,
        )
        return
    if table.column(over).dtype in (DType.JSON, DType.MIXED):
        samples = tuple(_hashable(v) for v in samples)
    for rows in members:
        if len({samples[i] for i in rows}) < len(rows):
            repeated = _first_repeat(samples[i] for i in rows)
            where = ", ".join(f"{k}={table.values(k)[rows[0]]!r}" for k in keys) or "all runs"
            warnings.warn(
                f"group {where}: several runs have {over}={repeated!r}; each counts as a sample",
                UserWarning,
                stacklevel=4,
            )
            return


def _first_repeat(values: Iterable[Any]) -> Any:
    seen = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def _stat(value: Stat | str) -> Stat:
    try:
        return Stat(str(value))
    except ValueError:
        known = ", ".join(s.value for s in Stat)
        raise UsageError(f"statistic {value!r}: use one of {known}") from None


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return ("json", order_key(value)[1])
    return value
