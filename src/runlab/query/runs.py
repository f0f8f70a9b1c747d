"""``runlab.load``: the runs of a store as a filterable selection over its index.

Rows come in one documented, stable order: runs with numeric ids by number (``2``
before ``10``), then named runs by id. Filters are compiled to SQL, so the index, not
Python, drops the rows. Columns: the index's fixed ones, ``dir`` (the run's folder),
``params.*``, ``metrics.*`` (the summary), ``tags.*``, then the computed ones. The
methods pick the columns an analysis needs and hand them over as a :class:`RunTable`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runlab.bulk import paused_gc
from runlab.errors import RunNotFound, UsageError
from runlab.query.analysis import Grouping, Mode, best_rows
from runlab.query.expr import resolve_column
from runlab.query.extras import (
    Getter,
    TranslatedReader,
    Translation,
    all_ids,
    compute,
    index_columns,
    source,
    store_of,
)
from runlab.query.postgres import Mirror
from runlab.query.table import Column, Rows, RunTable
from runlab.query.types import DType
from runlab.record.reader import RunReader
from runlab.store import Store

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from runlab.index import Index
    from runlab.query.pivot import Pivot, Reduce
    from runlab.query.select import ColumnAccess


def load(
    store: str | os.PathLike[str] | Store | None = None,
    *,
    columns: Mapping[str, Getter] | None = None,
    translate: Mapping[str, str] | None = None,
) -> Runs:
    """All runs of a store: a path, a :class:`Store`, a ``sqlite:///…/index.db`` URL, or ``./runs``.

    Or of every store mirrored into a PostgreSQL database (``postgresql+psycopg://…``,
    see :mod:`runlab.query.postgres`), with a ``store`` column to narrow by.
    Reads the runs changed since the index was last brought up to date first. Each
    call makes a new, independent selection: loading again needs no reset.
    ``columns`` adds computed columns (``fn(reader)`` per run), ``translate`` rewrites
    string prefixes (see :mod:`runlab.query.extras`).

    Usage::

        runs = runlab.load("runs")
        runs.df()                                        # a pandas DataFrame
        runs.select("name", "C", kernel=["rbf", "poly"]) # named tuples
        good = runs.where("params.lr > 0.01 and status == 'completed'")
        runlab.load("runs", translate={"/mnt/scratch/": "/data/"},
                    columns={"epochs": lambda run: len(run.metrics())})
        team = runlab.load("postgresql+psycopg://me@db/runlab").where("store == 'gpu1:/runs'")
    """
    from runlab.index.postgres import is_postgres_url

    if is_postgres_url(store):
        if columns or translate:
            raise UsageError(
                f"{store}: columns= and translate= need the run folders: load a store path"
            )
        return Runs(None, Mirror(str(store)))
    the_store = store_of(store)
    return Runs(the_store, the_store.index(), columns=columns, translate=translate)


class Runs:
    """A selection of a store's runs: filter with :meth:`where`, read with :meth:`df`.

    ``len(runs)`` counts them, iterating yields a :class:`RunReader` per run in row
    order, and ``runs[7]`` / ``runs["best"]`` is the run with that id (else the newest
    one with that name) among them. A ``Runs`` knows the columns the index had when it
    was loaded; call :func:`load` again to see runs recorded since. Over a PostgreSQL
    mirror ``store`` is None and ``index`` the :class:`~runlab.query.postgres.Mirror`;
    readers then open the mirrored folders when this machine has them.
    """

    def __init__(
        self,
        store: Store | None,
        index: Index | Mirror,
        *,
        columns: Mapping[str, Getter] | None = None,
        translate: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.translation = Translation.of(translate)
        self._where: tuple[Any, ...] = ()
        self._texts: tuple[str, ...] = ()
        if store is None:
            assert isinstance(index, Mirror)
            self.columns: tuple[Column, ...] = index.columns()
            self._by_name = {c.name: c for c in self.columns}
            self._table = index.source(self.columns)
            return
        assert not isinstance(index, Mirror)
        base = index_columns(index)
        ids = all_ids(index) if columns else []
        computed = compute(columns or {}, ids, self._reader, {c.name: c for c in base})
        extra = {c.name: c for c in computed.columns}
        merged = [extra.get(c.name, c) for c in base]
        merged += [c for c in computed.columns if c.name not in computed.replaced]
        self.columns = tuple(merged)
        self._by_name = {c.name: c for c in self.columns}
        root = os.path.join(str(store.root), "")
        self._table = source(
            index, self.columns, root=root, translation=self.translation, computed=computed
        )

    def __repr__(self) -> str:
        where = f" where {' and '.join(self._texts)}" if self._texts else ""
        return f"<Runs {len(self)} in {self._place}{where}>"

    @property
    def _place(self) -> str:
        """Where the runs come from, for messages: the store folder or the database URL."""
        if self.store is None:
            assert isinstance(self.index, Mirror)
            return self.index.shown
        return str(self.store.root)

    @property
    def dtypes(self) -> dict[str, DType]:
        """Each public column's :class:`DType`, in table order."""
        return {c.name: c.dtype for c in self.columns}

    def column(self, name: str) -> Column:
        """The column called ``name`` exactly (KeyError if there is none)."""
        return self._by_name[name]

    # -- narrowing ----------------------------------------------------------------------
    def where(self, condition: str | sa.ColumnElement[bool]) -> Runs:
        """The runs among these for which ``condition`` holds (conditions add up with AND).

        ``condition`` is an expression (``"lr > 0.01 and status == 'completed'"``, see
        :mod:`runlab.query.expr`) or a SQLAlchemy condition over :attr:`c`.
        """
        if isinstance(condition, str):
            from runlab.query.expr import compile_where

            clause = compile_where(condition, self._table, self.dtypes, strict=self.store is None)
            return self.narrow(clause, condition)
        return self.narrow(condition, str(condition))

    def search(self, text: str) -> Runs:
        """The runs whose name, description, tags, notes or params hold every word of ``text``.

        See :mod:`runlab.query.search`; ``runs.search("resnet baseline")``.
        """
        if self.store is None:
            from runlab.query.postgres import search_clause as pg_search

            return self.narrow(pg_search(text, self._table.c["_search"]), f"search {text!r}")
        from runlab.index.search import has_fts
        from runlab.query.search import search_clause

        clause = search_clause(text, self._table.c["id"])
        with self.index.engine.connect() as conn:
            if not has_fts(conn):
                raise UsageError("this Python's SQLite has no FTS5: full-text search is off")
        return self.narrow(clause, f"search {text!r}")

    @property
    def c(self) -> ColumnAccess:
        """The SQLAlchemy columns, by full or short name: ``runs.c["metrics.f1"] > 0.82``."""
        from runlab.query.select import ColumnAccess

        return ColumnAccess(self._table, list(self._by_name))

    @property
    def sql_table(self) -> sa.Subquery:
        """The SQL source these runs are selected from (``runs.c`` resolves short names)."""
        return self._table

    # -- reading ------------------------------------------------------------------------
    def select(self, *columns: Any, **filters: Any) -> list[Any]:
        """Named tuples of ``columns`` per run, or run readers when no column is named.

        Strings name columns, SQLAlchemy conditions filter, keywords filter by
        equality (a list means IN). See :mod:`runlab.query.select`.

        Usage::

            runs.select("name", "params.C", **{"params.kernel": "rbf"})
            runs.select("C", runs.c["metrics.f1"] > 0.82, C=[1, 2])
            runs.select(kernel="linear")          # [RunReader, ...]
        """
        from runlab.query.select import select

        return select(self, columns, filters)

    def table(self) -> RunTable:
        """The selected runs as a :class:`RunTable` (plain Python, no pandas)."""
        return self.fetch([c.name for c in self.columns])

    @paused_gc()  # the row tuples are freed before a collection would walk them
    def fetch(self, names: Iterable[str], *, ordered: bool = True) -> RunTable:
        """The selected runs with only the columns ``names`` (resolved, in that order).

        ``ordered=False`` leaves the rows in the order SQLite finds them, which saves
        a sort when they are grouped next (groups are sorted by their keys).
        """
        columns = [self._by_name[self.resolve(n)] for n in names]
        stmt = self.sql_select(*(self._table.c[c.name] for c in columns))
        return RunTable.from_rows(columns, self.execute(self._ordered(stmt) if ordered else stmt))

    def fetch_rows(self, names: Iterable[str]) -> Rows:
        """The selected runs' columns ``names`` as :class:`Rows`, in the order SQLite finds
        them (grouping sorts the groups, not the runs)."""
        columns = [self._by_name[self.resolve(n)] for n in names]
        stmt = self.sql_select(*(self._table.c[c.name] for c in columns))
        return Rows(columns, self.execute(stmt))

    def df(self) -> pd.DataFrame:
        """The selected runs as a DataFrame, one row per run, dtypes from the column types.

        Columns: the fixed ones (``id``, ``name``, ``status``, ``start`` and ``end`` as
        UTC datetimes, ``duration``, ``exit_code``, ...), ``dir``, then ``params.*``,
        ``metrics.*`` (the summary), ``tags.*`` and computed columns. See
        :mod:`runlab.query.types` for the dtypes.
        """
        return self.table().df()

    def resolve(self, name: str) -> str:
        """The column ``name`` means: exact, or an unambiguous short name (``acc``)."""
        return resolve_column(name.strip(), list(self._by_name))

    def ids(self) -> list[str]:
        """The ids of the selected runs, in row order."""
        return [row[0] for row in self.execute(self._ordered(self.sql_select(self._table.c["id"])))]

    def __len__(self) -> int:
        import sqlalchemy as sa

        with self.index.engine.connect() as conn:
            return int(conn.execute(self.sql_select(sa.func.count())).scalar_one())

    def __bool__(self) -> bool:
        """Whether any run is selected: one row read, not all of them counted."""
        return bool(self.execute(self.sql_select(self._table.c["id"]).limit(1)))

    def __iter__(self) -> Iterator[RunReader]:
        if self.store is None:
            t = self._table
            for run_id, folder in self.execute(self._ordered(self.sql_select(t.c.id, t.c.dir))):
                yield self._folder(run_id, folder)
            return
        for run_id in self.ids():
            yield self._reader(run_id)

    def __getitem__(self, ref: str | int) -> RunReader:
        """The run with id ``ref``, else the newest run named ``ref``, among these runs."""
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise TypeError(f"runs[...] takes a run id or name, not {type(ref).__name__}")
        t = self._table
        text = str(ref)
        stmt = (
            self.sql_select(t.c["id"], t.c["dir"])
            .where((t.c["id"] == text) | (t.c["name"] == text))
            .order_by((t.c["id"] == text).desc(), t.c["_seq"].desc(), t.c["id"].desc())
            .limit(1 if self.store is not None else 2)
        )
        with self.index.engine.connect() as conn:
            found = conn.execute(stmt).all()
        if not found:
            among = f" matching {' and '.join(self._texts)}" if self._texts else ""
            raise RunNotFound(f"no run with id or name {text!r}{among} in {self._place}")
        if self.store is not None:
            return self._reader(str(found[0][0]))
        if len(found) > 1 and found[0][0] == found[1][0]:
            raise UsageError(
                f"run {text!r} is in several stores ({found[0][1]}, {found[1][1]}): "
                "narrow with where(\"store == '...'\")"
            )
        return self._folder(str(found[0][0]), found[0][1])

    def __contains__(self, ref: object) -> bool:
        try:
            self[ref]  # type: ignore[index]
        except (RunNotFound, TypeError):
            return False
        return True

    # -- analysis -----------------------------------------------------------------------
    def varying_params(self) -> list[str]:
        """The params holding more than one distinct value here (missing is a value)."""
        from runlab.query.analysis import varying_params

        return varying_params(self)

    def varying(self) -> RunTable:
        """mlrunner's concise table: id, name, status, the params that differ, the metrics."""
        metrics = [c.name for c in self.columns if c.kind == "metrics"]
        return self.fetch(["id", "name", "status", *self.varying_params(), *metrics])

    def groupby(
        self,
        keys: str | Sequence[str] = (),
        *,
        over: str | None = None,
        ignore: str | Sequence[str] = (),
    ) -> Grouping:
        """Groups of runs to :meth:`Grouping.agg`; with ``over``, one group per configuration.

        See :mod:`runlab.query.analysis` for what ``over`` does to the keys.

        Usage::

            runs.groupby(["params.lr"], over="params.seed").agg("metrics.acc")
        """
        over_name = self.resolve(over) if over else None
        return Grouping(self, self._names(keys), over_name, self._names(ignore))

    def best(
        self, metric: str, *, mode: Mode | str = Mode.MAX, by: str | Sequence[str] = ()
    ) -> RunTable:
        """Per distinct value of ``by`` (or overall), the run with the best ``metric``.

        Columns: ``by``, id, name, status, the varying params, the metric, the metrics.
        """
        name = self.resolve(metric)
        keys = self._names(by)
        varying = [v for v in self.varying_params() if v not in keys]
        metrics = [c.name for c in self.columns if c.kind == "metrics"]
        wanted = unique([*keys, "id", "name", "status", *varying, name, *metrics])
        return best_rows(self.fetch(wanted), name, mode=Mode.of(mode), by=keys)

    def pivot(
        self,
        *,
        rows: str | Sequence[str],
        cols: str,
        value: str,
        reduce: Reduce | str = "mean±std",
        over: str | None = None,
        ignore: str | Sequence[str] = (),
        mode: Mode | str = Mode.MAX,
        digits: int | None = None,
    ) -> Pivot:
        """pymake's table of ``value`` by ``rows`` × ``cols`` (see :mod:`runlab.query.pivot`).

        Usage::

            runs.pivot(rows="params.kernel", cols="params.C", value="metrics.acc",
                       reduce="mean±std", over="params.seed").export(Path("acc.tex"))
        """
        from runlab.query.pivot import Reduce, build

        row_names, skip = self._names(rows), set(self._names(ignore))
        col_name, value_name = self.resolve(cols), self.resolve(value)
        over_name = self.resolve(over) if over else None
        varying = [v for v in self.varying_params() if v not in skip] if over_name else []
        extra = [over_name] if over_name else []
        table = self.fetch(unique([*row_names, col_name, value_name, *extra, *varying]))
        return build(
            table,
            rows=row_names,
            cols=col_name,
            value=value_name,
            reduce=Reduce.of(reduce),
            over=over_name,
            mode=Mode.of(mode),
            varying=varying,
            digits=digits,
        )

    def series(self, key: str, *, params: Sequence[str] = ()) -> pd.DataFrame:
        """The long DataFrame of logged ``key``: id, step, time, value, then ``params``.

        See :mod:`runlab.query.series`; ``runs.series("loss", params=["params.lr"])``.
        """
        from runlab.query.series import series_frame

        names = [self.resolve(p) for p in params]
        where = ["dir"] if self.store is None else []  # a mirror's runs: their folders
        table = self.fetch(unique(["id", *where, *names]))
        if self.store is None:  # a mirror: the folders are where the mirrored store was
            pairs = zip(table.values("id"), table.values("dir"), strict=True)
            runs = [(i, self._folder(i, d).run_dir.metrics_jsonl) for i, d in pairs]
        else:
            runs = [(i, self.store.layout.run_dir(i).metrics_jsonl) for i in table.values("id")]
        columns = [self._by_name[n] for n in names]
        return series_frame(runs, key, columns, {n: table.values(n) for n in names})

    # -- internals ----------------------------------------------------------------------
    def narrow(self, clause: Any, text: str) -> Runs:
        """These runs where SQL ``clause`` holds; ``text`` is how it reads in ``repr``."""
        # A copy shares the SQL source: conditions and selects must name the same one.
        narrowed = copy.copy(self)
        narrowed._where = (*self._where, clause)
        wrapped = f"({text})" if self._texts or " or " in text else text
        narrowed._texts = (*self._texts, wrapped)
        return narrowed

    def sql_select(self, *columns: Any) -> sa.Select[Any]:
        """A SELECT of ``columns`` (SQL expressions) from these runs, with their conditions."""
        import sqlalchemy as sa

        stmt = sa.select(*columns).select_from(self._table)
        return stmt.where(*self._where) if self._where else stmt

    def execute(self, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
        """The result rows of ``stmt`` as plain tuples, read from the DBAPI cursor.

        SQLAlchemy's Row objects cost more than the query at 100,000 runs (columns are
        untyped: no result processing is lost).
        """
        with self.index.engine.connect() as conn, paused_gc():
            result = conn.execute(stmt)
            try:
                return result.cursor.fetchall()  # type: ignore[union-attr,no-any-return]
            finally:
                result.close()

    def _ordered(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        t = self._table
        if self.store is None:  # a mirror: store by store
            return stmt.order_by(t.c["_store"], t.c["_seq"].is_(None), t.c["_seq"], t.c["id"])
        return stmt.order_by(t.c["_seq"].is_(None), t.c["_seq"], t.c["id"])

    def _names(self, names: str | Sequence[str]) -> list[str]:
        return [self.resolve(n) for n in ([names] if isinstance(names, str) else names)]

    def _reader(self, run_id: str) -> RunReader:
        assert self.store is not None  # a mirror's readers come from _folder
        run_dir = self.store.layout.run_dir(run_id)
        if self.translation:
            return TranslatedReader(run_dir.path, self.translation)
        return RunReader(run_dir)

    def _folder(self, run_id: str, folder: str) -> RunReader:
        """The reader of a mirrored run, whose folder must be on this machine."""
        if not os.path.isfile(os.path.join(folder, "run.json")):
            raise UsageError(
                f"run {run_id}: its folder {folder} is not on this machine; reading its "
                f"files needs the store (the table of {self._place} does not)"
            )
        return RunReader(folder)


def unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
