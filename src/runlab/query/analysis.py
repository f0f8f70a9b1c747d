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

**Speed.** Over ``params.seed`` (the key ``repeat`` adds) the groups are the index's
per-configuration keys (:func:`runlab.index.rows.config_key`, a hash of a run's params
but its seed, stored at ingest): 100,000 runs are read with a few values each, and one
run per group for its keys. Any other ``over``, ``ignore``, translated or computed
params, and a PostgreSQL mirror group the runs by their key values in Python; both
give the same table.

**Best.** ``runs.best(metric, mode="min", by=[...])`` is, per distinct value of ``by``
(or over all runs), the run with the lowest (``min``) or highest (``max``) value;
runs missing the metric are skipped, ties go to the first run in row order.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from runlab.bulk import paused_gc
from runlab.errors import UsageError
from runlab.query.stats import stat_matrix
from runlab.query.table import (
    GROUP_SIZE,
    Column,
    Groups,
    Rows,
    RunTable,
    group_rows,
    order_key,
)
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
_PROBE_ROWS = 200  # rows read to find the params that plainly vary without a full scan
_NARROW_ROUNDS = 8  # queries for the first run that differs, before the aggregate
_NARROW_PARAMS = 100  # the most params one such query tests


def varying_params(runs: Runs, kinds: Sequence[str] = ("params",)) -> list[str]:
    """The params (or columns of other ``kinds``) of ``runs`` holding more than one value.

    Missing counts as a value. Asked in SQL: does any run's value differ from (``IS
    NOT``) the first run's? So finding the keys of a groupby over 100,000 runs reads
    few values into Python and sorts nothing (``COUNT(DISTINCT)`` would). The first
    rows are read first (a param that already differs there varies), then SQLite is
    asked for a run that differs in one of the others (see :func:`_narrow`), and an
    aggregate per param decides what is left.
    """
    params = [c.name for c in runs.columns if c.kind in kinds]
    probe = _PROBE_ROWS if runs.store is not None else 1  # SQLite compares as Python does
    first = runs.execute(runs.sql_select(*(runs.sql_table.c[n] for n in params)).limit(probe))
    if not first:
        return []
    values = dict(zip(params, first[0], strict=True))
    seen = list(zip(*first, strict=True))
    known = {
        n for n, column in zip(params, seen, strict=True) if column.count(values[n]) < len(first)
    }
    undecided = [n for n in params if n not in known]
    if runs.store is not None:
        undecided = _narrow(runs, undecided, values, known)
    for start in range(0, len(undecided), _CHUNK):
        chunk = undecided[start : start + _CHUNK]
        tests = [_differs(runs, runs.sql_table.c[n], values[n]) for n in chunk]
        (row,) = runs.execute(runs.sql_select(*tests))
        known.update(name for name, differs in zip(chunk, row, strict=True) if differs)
    return [n for n in params if n in known]


def _narrow(runs: Runs, undecided: list[str], values: dict[str, Any], known: set[str]) -> list[str]:
    """The params still undecided after asking SQLite for runs that differ in one.

    The params found varying are added to ``known``.

    Each round reads one run (the scan stops there) and decides every param it differs
    in; a round that finds none proves the rest constant, which a scan testing one
    condition per run does faster than an aggregate per param. Few rounds, few
    params: past them the aggregate decides (an OR of 1,000 terms is too deep for
    SQLite, and params varying late in the rows would cost a scan per round).
    """
    import sqlalchemy as sa

    table = runs.sql_table
    for _ in range(_NARROW_ROUNDS):
        if not undecided or len(undecided) > _NARROW_PARAMS:
            break
        differs = sa.or_(*(table.c[n].op("IS NOT")(values[n]) for n in undecided))
        stmt = runs.sql_select(*(table.c[n] for n in undecided)).where(differs).limit(1)
        found = runs.execute(stmt)
        if not found:
            return []
        changed = {n for n, v in zip(undecided, found[0], strict=True) if v != values[n]}
        if not changed:  # SQLite and Python disagree on equality: let the aggregate say
            break
        known.update(changed)
        undecided = [n for n in undecided if n not in changed]
    return undecided


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


@paused_gc()
def aggregate(
    table: RunTable | Rows,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    over: str | None = None,
    stats: Sequence[Stat | str] = ALL_STATS,
) -> RunTable:
    """One row per group of ``keys``: the run count and ``stats`` of each of ``values``."""
    _check_numeric(table, values)
    groups = Groups.of(table, keys)
    return _summed(table, groups, table.take(groups.firsts, keys), keys, values, over, stats)


def _check_numeric(table: RunTable | Rows | Runs, values: Sequence[str]) -> None:
    for name in values:
        col = table.column(name)
        if not col.dtype.numeric:
            raise UsageError(f"{name} holds {col.dtype} values: only numbers have a mean")


def _summed(
    rows: RunTable | Rows,
    groups: Groups,
    firsts: RunTable,
    keys: Sequence[str],
    values: Sequence[str],
    over: str | None,
    stats: Sequence[Stat | str],
) -> RunTable:
    """The table of ``groups`` of ``rows``: keys (from ``firsts``, each group's first
    row), run count and ``stats`` of ``values``, ordered by the keys."""
    import numpy as np

    chosen = [_stat(s) for s in stats]
    if over is not None:
        warn_groups(rows, groups, firsts, keys, over)
    ids = np.asarray(groups.ids, dtype=np.intp)
    columns = [firsts.column(k) for k in keys]
    data = [firsts.values(k) for k in keys]
    columns.append(Column(GROUP_SIZE, "group", DType.INT))
    data.append(tuple(np.bincount(ids, minlength=len(groups)).tolist()))
    fields = [s.value for s in chosen]
    computed = stat_matrix(rows.numbers(values), ids, len(groups), fields)
    for name, by_stat in zip(values, computed, strict=True):
        col = rows.column(name)
        for stat in chosen:
            dtype = DType.INT if stat is Stat.N else DType.FLOAT
            columns.append(Column(f"{name}_{stat}", col.kind, dtype, source=name))
            data.append(by_stat[stat.value])
    return RunTable(tuple(columns), tuple(data)).sort(keys)


@paused_gc()
def _aggregate_configs(
    runs: Runs, listed: Sequence[str], values: Sequence[str], stats: Sequence[Stat | str]
) -> RunTable | None:
    """``groupby(listed, over="params.seed").agg(values)``, grouped by the index's
    per-configuration key; None when some run has no key.

    The runs of a configuration differ only in their seed, so the hash of their params
    but the seed (:func:`runlab.index.rows.config_key`, stored at ingest) tells the
    groups apart in one column: 100,000 runs are read with a few values each instead
    of every varying param. Only each group's first run is then read whole, for its
    keys; and the params that vary among those runs are the ones that vary among all
    (two runs differing in a param other than the seed are in two groups), so no scan
    looks for them. Listed keys that are not params (``status``) group beside the key.
    """
    from runlab.index.rows import CONFIG_COLUMN, SEED_PARAM
    from runlab.query.extras import ROWID
    from runlab.query.view import varying_params as varying_in

    extra = [k for k in listed if runs.column(k).kind != "params"]
    named = [runs.column(n) for n in dict.fromkeys([*extra, SEED_PARAM, *values])]
    columns = [Column(CONFIG_COLUMN, "run", DType.STR), Column(ROWID, "run", DType.INT), *named]
    t = runs.sql_table
    rows = Rows(columns, runs.execute(runs.sql_select(*(t.c[c.name] for c in columns))))
    if None in rows.values(CONFIG_COLUMN):
        return None
    groups = Groups.of(rows, [CONFIG_COLUMN, *extra])
    params = [c.name for c in runs.columns if c.kind == "params"]
    firsts = _runs_at(runs, groups.first_values(rows, [ROWID])[0], [*params, *extra])
    keys = group_keys(listed, SEED_PARAM, varying_in(firsts))
    return _summed(rows, groups, firsts, keys, values, SEED_PARAM, stats)


def _runs_at(runs: Runs, rowids: Sequence[int], names: Sequence[str]) -> RunTable:
    """The columns ``names`` of the runs at ``rowids``, in that order (each once)."""
    import json

    import sqlalchemy as sa

    from runlab.query.extras import ROWID

    t = runs.sql_table
    each = sa.func.json_each(sa.literal(json.dumps(rowids), sa.String)).table_valued("value")
    stmt = runs.sql_select(t.c[ROWID], *(t.c[n] for n in names)).where(t.c[ROWID] == each.c.value)
    found = {row[0]: row[1:] for row in runs.execute(stmt)}
    return RunTable.from_rows([runs.column(n) for n in names], [found[i] for i in rowids])


def best_rows(table: RunTable, metric: str, *, mode: Mode, by: Sequence[str] = ()) -> RunTable:
    """Per group of ``by``, the row with the best ``metric`` (see the module docstring)."""
    col = table.column(metric)
    if not col.dtype.numeric:
        raise UsageError(f"{metric} holds {col.dtype} values: best needs numbers")
    values = table.values(metric)
    picks = []
    for rows in group_rows(table, by).values():
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
        _check_numeric(runs, names)
        from runlab.index.rows import CONFIG_COLUMN, SEED_PARAM  # runlab.index imports SQLAlchemy

        if self.over == SEED_PARAM and not self.ignore and CONFIG_COLUMN in runs.sql_table.c:
            grouped = _aggregate_configs(runs, self.listed, names, stats)
            if grouped is not None:
                return grouped
        keys = self.keys()
        extra = [self.over] if self.over else []
        rows = runs.fetch_rows(list(dict.fromkeys([*keys, *extra, *names])))
        return aggregate(rows, keys, names, over=self.over, stats=stats)


def warn_groups(
    table: RunTable | Rows, groups: Groups, firsts: RunTable, keys: Sequence[str], over: str
) -> None:
    """Warn when every group holds one run, or when runs of a group share an ``over`` value.

    ``firsts`` holds each group's keys (its first row), to name the group.
    """
    samples = table.values(over)
    singletons = 1 < len(groups) == len(table)
    if singletons and len({_hashable(v) for v in samples}) > 1:
        warnings.warn(singleton_warning(keys), UserWarning, stacklevel=4)
        return
    dtype = table.column(over).dtype
    if dtype in (DType.JSON, DType.MIXED):
        samples = tuple(_hashable(v) for v in samples)
    if _no_repeats(dtype, samples, groups):
        return  # the common case: no group repeats a sample
    for g, rows in enumerate(groups.members()):
        if len({samples[i] for i in rows}) < len(rows):
            repeated = _first_repeat(samples[i] for i in rows)
            key = {k: firsts.values(k)[g] for k in keys}
            warnings.warn(repeat_warning(key, over, repeated), UserWarning, stacklevel=4)
            return


def _no_repeats(dtype: DType, samples: Sequence[Any], groups: Groups) -> bool:
    """Whether no group holds one sample twice, decided without a Python loop.

    Integer samples (seeds) pair with their group in one int64 each, counted by numpy;
    others (hashable: JSON values already as text) as (group, value) tuples in a set.
    """
    if dtype is DType.INT and samples and None not in samples:
        import numpy as np

        values = np.array(samples, dtype=np.int64)
        low = int(values.min())
        span = int(values.max()) - low + 1
        cells = span * len(groups)
        if cells < 2**62:
            pairs = np.asarray(groups.ids, dtype=np.int64) * span + (values - low)
            if cells <= 4 * len(samples):  # seeds 0..n-1: a count per cell, no sort
                return bool(np.bincount(pairs, minlength=cells).max() <= 1)
            return bool(np.unique(pairs).size == len(samples))
    return len(set(zip(groups.ids, samples, strict=True))) == len(samples)


def singleton_warning(keys: Sequence[str]) -> str:
    """The warning for groups of one run each: the keys tell every run apart."""
    named = ", ".join(keys[:5]) + (f", … {len(keys) - 5} more" if len(keys) > 5 else "")
    return (
        f"every group holds one run: the keys ({named}) tell all runs apart; "
        "leave a param that is not a setting out with ignore (--ignore)"
    )


def repeat_warning(key: dict[str, Any], over: str, repeated: Any) -> str:
    """The warning for a group (``key``: its key values) where runs share an ``over`` value."""
    where = ", ".join(f"{k}={v!r}" for k, v in key.items()) or "all runs"
    return f"group {where}: several runs have {over}={repeated!r}; each counts as a sample"


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
