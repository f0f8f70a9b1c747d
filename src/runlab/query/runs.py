"""``runlab.load``: the runs of a store as a filterable selection over its index.

Rows come in one documented, stable order: runs with numeric ids by number (``2``
before ``10``), then named runs by id. Filters are compiled to SQL (see
:mod:`runlab.query.expr`) so the index, not Python, drops the rows.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runlab.errors import RunNotFound
from runlab.query.table import Column, RunTable
from runlab.query.types import FIXED_DTYPES, DType, dtype_of
from runlab.record.reader import RunReader
from runlab.store import Store

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from runlab.index import Index


def load(store: str | os.PathLike[str] | Store | None = None) -> Runs:
    """All runs of a store (a path, a :class:`Store`, or the default ``./runs``).

    Reads the runs changed since the index was last brought up to date first.

    Usage::

        runs = runlab.load("runs")
        runs.df()                                        # a pandas DataFrame
        good = runs.where("params.lr > 0.01 and status == 'completed'")
        good["best"].summary                             # a run by id or name
    """
    the_store = Store.at(store)
    return Runs(the_store, the_store.index())


class Runs:
    """A selection of a store's runs: filter with :meth:`where`, read with :meth:`df`.

    ``len(runs)`` counts them, iterating yields a :class:`RunReader` per run in row
    order, and ``runs[7]`` / ``runs["best"]`` is the run with that id (else the newest
    one with that name) among them. A ``Runs`` knows the columns the index had when it
    was loaded; call :func:`load` again to see runs recorded since.
    """

    def __init__(self, store: Store, index: Index) -> None:
        self.store = store
        self.index = index
        self.columns: tuple[Column, ...] = _index_columns(index)
        self._table = index.table()
        self._where: tuple[Any, ...] = ()
        self._texts: tuple[str, ...] = ()

    def __repr__(self) -> str:
        where = f" where {' and '.join(self._texts)}" if self._texts else ""
        return f"<Runs {len(self)} in {self.store.root}{where}>"

    @property
    def dtypes(self) -> dict[str, DType]:
        """Each public column's :class:`DType`, in table order."""
        return {c.name: c.dtype for c in self.columns}

    def where(self, condition: str | sa.ColumnElement[bool]) -> Runs:
        """The runs among these for which ``condition`` holds (conditions add up with AND).

        ``condition`` is an expression (``"lr > 0.01 and status == 'completed'"``, see
        :mod:`runlab.query.expr`) or a SQLAlchemy condition over ``runs.sql_table``.
        """
        if isinstance(condition, str):
            from runlab.query.expr import compile_where

            clause = compile_where(condition, self._table, self.dtypes)
            text = condition
        else:
            clause, text = condition, str(condition)
        # A copy shares the Table object: conditions and selects must name the same one.
        narrowed = copy.copy(self)
        narrowed._where = (*self._where, clause)
        narrowed._texts = (*self._texts, f"({text})" if self._texts or " or " in text else text)
        return narrowed

    @property
    def sql_table(self) -> sa.Table:
        """The SQLAlchemy Table these runs are selected from, for hand-written conditions."""
        return self._table

    # -- reading ------------------------------------------------------------------------
    def table(self) -> RunTable:
        """The selected runs as a :class:`RunTable` (plain Python, no pandas)."""
        t = self._table
        stmt = self._select(*(t.c[c.name] for c in self.columns))
        stmt = stmt.order_by(t.c["_seq"].is_(None), t.c["_seq"], t.c["id"])
        with self.index.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return RunTable.from_rows(self.columns, rows)

    def df(self) -> pd.DataFrame:
        """The selected runs as a DataFrame, one row per run, dtypes from the column types.

        Columns: the fixed ones (``id``, ``name``, ``status``, ``start`` and ``end`` as
        UTC datetimes, ``duration``, ``exit_code``, ...), then ``params.*``, ``metrics.*``
        (the summary) and ``tags.*``. See :mod:`runlab.query.types` for the dtypes.
        """
        return self.table().df()

    def ids(self) -> list[str]:
        """The ids of the selected runs, in row order."""
        t = self._table
        stmt = self._select(t.c["id"]).order_by(t.c["_seq"].is_(None), t.c["_seq"], t.c["id"])
        with self.index.engine.connect() as conn:
            return [row[0] for row in conn.execute(stmt)]

    def __len__(self) -> int:
        import sqlalchemy as sa

        stmt = self._select(sa.func.count())
        with self.index.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def __iter__(self) -> Iterator[RunReader]:
        for run_id in self.ids():
            yield self._reader(run_id)

    def __getitem__(self, ref: str | int) -> RunReader:
        """The run with id ``ref``, else the newest run named ``ref``, among these runs."""
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise TypeError(f"runs[...] takes a run id or name, not {type(ref).__name__}")
        t = self._table
        text = str(ref)
        stmt = (
            self._select(t.c["id"])
            .where((t.c["id"] == text) | (t.c["name"] == text))
            .order_by((t.c["id"] == text).desc(), t.c["_seq"].desc(), t.c["id"].desc())
            .limit(1)
        )
        with self.index.engine.connect() as conn:
            found = conn.execute(stmt).scalar()
        if found is None:
            among = f" matching {' and '.join(self._texts)}" if self._texts else ""
            raise RunNotFound(f"no run with id or name {text!r}{among} in {self.store.root}")
        return self._reader(str(found))

    def __contains__(self, ref: object) -> bool:
        try:
            self[ref]  # type: ignore[index]
        except (RunNotFound, TypeError):
            return False
        return True

    # -- internals ----------------------------------------------------------------------
    def _select(self, *columns: Any) -> sa.Select[Any]:
        import sqlalchemy as sa

        stmt = sa.select(*columns).select_from(self._table)
        return stmt.where(*self._where) if self._where else stmt

    def _reader(self, run_id: str) -> RunReader:
        return RunReader(self.store.layout.run_dir(run_id))


def _index_columns(index: Index) -> tuple[Column, ...]:
    fixed = [Column(name, "run", dtype) for name, dtype in FIXED_DTYPES.items()]
    dynamic = [
        Column(name, kind, dtype_of(types), types=types)
        for name, (kind, types) in index.columns().items()
    ]
    return (*fixed, *dynamic)
