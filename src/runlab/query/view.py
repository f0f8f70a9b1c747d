"""What ``runlab ls`` shows: the default columns, ``--varying``, and the order of the verbs.

Default columns: ``id``, ``name``, ``status``, ``start``, ``duration``, then every
``params.*``, ``metrics.*`` and ``tags.*`` column, then ``message`` only when one of the
listed runs has one (a failed run's error is what you want to see; a column of blanks
is not). Over a PostgreSQL mirror, ``store`` follows ``id`` when the listed runs come
from more than one store. ``host``, ``git_sha``, ``git_dirty``, ``description``, ``end``,
``exit_code``, ``attempt`` and ``sweep`` show when named with ``--columns``.

``--varying`` shows ``id``, ``name``, ``status``, the params whose value differs between
the listed runs (missing counts as a value), and the metrics.

``--groupby`` sums up, per group and in this order, the shown metrics, the shown params
and tags that differ between the listed runs (one that is the same everywhere would
only add columns), and the duration.

``--over params.seed`` makes the groups configurations (see
:mod:`runlab.query.analysis`): the keys are the ``--groupby`` columns plus every other
varying param except the seed and ``--ignore``, and each shown numeric metric gets its
``_mean``, ``_std``, ``_sem``, ``_ci_low``, ``_ci_high`` (95 % Student t) and ``_n``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runlab.errors import ColumnNotFound, UsageError
from runlab.query import analysis
from runlab.query.analysis import Stat, aggregate, group_keys
from runlab.query.table import Rows, RunTable, group_table
from runlab.query.types import DType

if TYPE_CHECKING:
    from runlab.query.runs import Runs

DEFAULT_FIXED = ("id", "name", "status", "start", "duration")
OVER_STATS = (Stat.MEAN, Stat.STD, Stat.SEM, Stat.CI_LOW, Stat.CI_HIGH, Stat.N)
VARYING_FIXED = ("id", "name", "status")
STORE = "store"  # a PostgreSQL mirror's column: which store a run is from


@dataclass(frozen=True)
class View:
    """How to shape a table of runs for a listing; :meth:`apply` does it.

    The verbs apply in this order: group (``groupby``, ``over``), sort, keep the last
    ``tail`` rows, pick ``columns``. Names may be short (``acc`` for ``metrics.acc``); after
    grouping, ``columns`` names aggregates (``metrics.acc_mean``) or a grouped column
    (``metrics.acc``, standing for its mean, std and count).

    Usage::

        View(groupby=("params.model",), sort=("metrics.acc_mean",), descending=True)
    """

    groupby: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    descending: bool = False
    columns: tuple[str, ...] = ()
    tail: int | None = None
    varying: bool = False
    over: str | None = None
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.ignore and not self.over:
            raise UsageError("--ignore leaves params out of the groups of --over: give --over")
        if self.columns and self.varying:
            raise UsageError("--columns and --varying both choose the columns: use one")
        if self.tail is not None and self.tail < 0:
            raise UsageError(f"--tail {self.tail}: give a count of rows, 0 or more")

    def needed(self, runs: Runs) -> list[str]:
        """The columns of ``runs`` that :meth:`apply` needs, in table order.

        Reading fewer columns is most of what a listing of 100,000 runs costs: with
        ``over`` only the keys, the varying params (found in SQL) and the metrics; with
        ``groupby`` the keys, the metrics, the duration and the params and tags that vary
        (found in SQL: :meth:`apply` drops the others); else the shown ones.
        """
        dynamic = {c.name for c in runs.columns if c.kind in ("params", "metrics", "tags")}
        grouped = bool(self.groupby or self.over)
        named: set[str] = set()
        for text in (*self.groupby, *self.sort, *self.columns, self.over or "", *self.ignore):
            try:
                named.add(runs.resolve(text)) if text else None
            except ColumnNotFound:
                if not grouped:
                    raise
                # an aggregate (acc_mean) is resolved by apply(), after grouping
        if self.over:
            metrics = {c.name for c in runs.columns if c.kind == "metrics"}
            wanted = {*runs.varying_params(), *metrics, *named}
        elif self.groupby:
            metrics = {c.name for c in runs.columns if c.kind == "metrics"}
            varying = analysis.varying_params(runs, ("params", "tags"))
            wanted = {*varying, *metrics, "duration", *named}
        else:
            fixed = VARYING_FIXED if self.varying else (*DEFAULT_FIXED, "message", STORE)
            wanted = {*fixed, *dynamic, *named}
        return [c.name for c in runs.columns if c.name in wanted]

    def listing(self, runs: Runs) -> RunTable:
        """The table of ``runs`` this view shows, read with only the columns it needs.

        Groups are made from the rows as read (no table of every run is built), and
        over ``params.seed`` by the index's configuration keys (see
        :mod:`runlab.query.analysis`).
        """
        if self.over:
            grouping = runs.groupby(list(self.groupby), over=self.over, ignore=list(self.ignore))
            return self._shape(grouping.agg(stats=OVER_STATS), None)
        if self.groupby:
            return self.apply(runs.fetch_rows(self.needed(runs)))
        return self.apply(runs.fetch(self.needed(runs)))

    def apply(self, table: RunTable | Rows) -> RunTable:
        """``table`` grouped, sorted, cut and narrowed as this view says."""
        shown = varying_columns(table) if self.varying else default_columns(table)
        if self.over:
            over = table.resolve(self.over)
            listed = [table.resolve(k) for k in self.groupby]
            ignore = [table.resolve(k) for k in self.ignore]
            keys = group_keys(listed, over, varying_params(table), ignore)
            metrics = [
                n
                for n in shown
                if table.column(n).kind == "metrics" and table.column(n).dtype.numeric
            ]
            table = aggregate(table, keys, metrics, over=over, stats=OVER_STATS)
            shown = table.names
        elif self.groupby:
            keys = [table.resolve(k) for k in self.groupby]
            over = [n for n in shown if n not in keys and _aggregated(table, n)]
            # a param or tag with one value in every run adds columns and tells nothing
            constant = set(_constant(table, ("params", "tags")))
            over = [n for n in over if n not in constant]
            # what the groups are compared on first: metrics, then params, tags, duration
            rank = {"metrics": 0, "params": 1, "tags": 2}
            over.sort(key=lambda n: rank.get(table.column(n).kind, 3))
            table = group_table(table, keys, over=over)
            shown = table.names
        assert isinstance(table, RunTable)  # Rows are only ever grouped
        return self._shape(table, shown)

    def _shape(self, table: RunTable, shown: list[str] | None) -> RunTable:
        """Sorted, cut to the tail and narrowed to the columns (``shown`` by default)."""
        if self.sort:
            table = table.sort(self.sort, descending=self.descending)
        if self.tail is not None:
            table = table.tail(self.tail)
        return table.select(self.columns or shown or table.names)


def default_columns(table: RunTable | Rows) -> list[str]:
    """The columns ``runlab ls`` shows when not told (see the module docstring)."""
    names = [n for n in DEFAULT_FIXED if n in table.names]
    if STORE in table.names and len(set(table.values(STORE))) > 1:
        names.insert(1, STORE)
    names += [c.name for c in table.columns if c.kind in ("params", "metrics", "tags")]
    if "message" in table.names and any(table.values("message")):
        names.append("message")
    return names


def varying_columns(table: RunTable | Rows) -> list[str]:
    """``id``, ``name``, ``status``, the params that differ between rows, and the metrics."""
    names = [n for n in VARYING_FIXED if n in table.names]
    names += varying_params(table)
    names += [c.name for c in table.columns if c.kind == "metrics"]
    return names


def varying_params(table: RunTable | Rows) -> list[str]:
    """The params columns holding more than one distinct value (missing is a value)."""
    constant = set(_constant(table, ("params",)))
    return [c.name for c in table.columns if c.kind == "params" and c.name not in constant]


def _constant(table: RunTable | Rows, kinds: tuple[str, ...]) -> list[str]:
    """The columns of ``kinds`` that hold one value (or none) in every row."""
    out = []
    for col in table.columns:
        if col.kind in kinds:
            values = table.values(col.name)
            if col.dtype in (DType.JSON, DType.MIXED):
                seen = {repr(v) if isinstance(v, (list, dict)) else v for v in values}
            else:
                seen = set(values)  # hashable values: the set is built in C
            if len(seen) <= 1:
                out.append(col.name)
    return out


def _aggregated(table: RunTable | Rows, name: str) -> bool:
    """Whether a group sums this column up: dynamic columns and the duration do."""
    return table.column(name).kind in ("params", "metrics", "tags") or name == "duration"
