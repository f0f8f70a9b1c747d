"""Reading a PostgreSQL mirror (see :mod:`runlab.index.postgres`) as one table of runs.

``runlab.load("postgresql+psycopg://…")`` selects from every store mirrored into that
database. The SQL source has the columns of a store's index, ``dir`` (the run's folder
on the host that mirrored it) and ``store`` (``host:/path/of/store``), so
``where("store == 'gpu1:/data/runs'")`` or ``select(store=...)`` narrows to one store.

Each dynamic column is one key of the run's ``data`` JSONB object, read with the type
its recorded value kinds give (:func:`runlab.query.types.dtype_of`, the kinds of every
store pooled): ``bigint`` for ints, ``double precision`` for floats (and ints mixed
with floats), ``integer`` 0/1 for bools, text for strings and JSON, and JSONB itself for
a column of several kinds, whose values come back as the Python values they are.
Comparisons of a typed column with a value of another kind match nothing (as in Python,
``'cnn' == 1`` is false) instead of being a database error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.query.extras import DIR_COLUMN, KINDS
from runlab.query.table import Column
from runlab.query.types import FIXED_DTYPES, DType, dtype_of

if TYPE_CHECKING:
    import sqlalchemy as sa

STORE_COLUMN = "store"
_TERMS = re.compile(r'"([^"]*)"|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")


class Mirror:
    """The read side of a PostgreSQL mirror: its engine, columns and SQL source.

    Usage::

        mirror = Mirror("postgresql+psycopg://postgres@127.0.0.1:54329/runlab")
        Runs(None, mirror).df()      # what runlab.load(url) does
    """

    def __init__(self, url: str) -> None:
        from runlab.index.postgres import connect, shown_url

        self.url = url
        self.shown = shown_url(url)
        self.engine = connect(url)

    def columns(self) -> tuple[Column, ...]:
        """The public columns: fixed, ``dir``, ``store``, then params, metrics, tags."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT name, kind, types FROM runlab_columns").all()
        seen: dict[str, tuple[str, set[str]]] = {}
        for name, kind, types in rows:
            entry = seen.setdefault(name, (kind, set()))
            entry[1].update(t for t in types.split(",") if t)
        order = {kind: i for i, kind in enumerate(KINDS)}
        names = sorted(seen, key=lambda n: (order.get(seen[n][0], 9), n))
        fixed = [Column(name, "run", dtype) for name, dtype in FIXED_DTYPES.items()]
        fixed.append(Column(DIR_COLUMN, "run", DType.STR))
        fixed.append(Column(STORE_COLUMN, "run", DType.STR))
        dynamic = []
        for name in names:
            kind, types = seen[name]
            frozen = frozenset(types)
            dynamic.append(Column(name, kind, dtype_of(frozen), types=frozen))
        return (*fixed, *dynamic)

    def source(self, columns: Sequence[Column]) -> sa.Subquery:
        """The runs of every store, one typed SQL column per public column, as ``r``.

        Hidden columns: ``_seq`` and ``_store`` order the rows, ``_search`` is the text
        :func:`search_clause` matches.
        """
        import sqlalchemy as sa

        runs, stores = _tables()
        label = stores.c.host + sa.literal(":", sa.String) + stores.c.path
        picked = []
        for col in columns:
            if col.name == DIR_COLUMN:
                expr = stores.c.path + sa.literal("/", sa.String) + runs.c.id
            elif col.name == STORE_COLUMN:
                expr = label
            elif col.kind in KINDS:
                expr = _dynamic(runs.c.data, col.name, col.dtype)
            else:
                expr = runs.c[col.name]
            picked.append(expr.label(col.name))
        picked += [runs.c._seq.label("_seq"), label.label("_store")]
        picked.append(runs.c.search.label("_search"))
        joined = runs.join(stores, stores.c.store_id == runs.c.store_id)
        return sa.select(*picked).select_from(joined).subquery("r")


def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    meta = sa.MetaData()
    sql_types: dict[DType, Any] = {
        DType.STR: sa.String,
        DType.DATETIME: sa.String,
        DType.FLOAT: sa.Float,
        DType.INT: sa.BigInteger,
        DType.BOOL: sa.Integer,
    }
    runs = sa.Table(
        "runlab_runs",
        meta,
        sa.Column("store_id", sa.String),
        *(sa.Column(name, sql_types[dtype]) for name, dtype in FIXED_DTYPES.items()),
        sa.Column("_seq", sa.BigInteger),
        sa.Column("data", JSONB),
        sa.Column("search", sa.String),
    )
    stores = sa.Table(
        "runlab_stores",
        meta,
        sa.Column("store_id", sa.String),
        sa.Column("host", sa.String),
        sa.Column("path", sa.String),
    )
    return runs, stores


def _dynamic(data: Any, name: str, dtype: DType) -> Any:
    """Key ``name`` of the JSONB ``data``, as the SQL type of ``dtype``."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    key = sa.literal(name, sa.String)
    text = sa.type_coerce(data.op("->>")(key), sa.String)
    if dtype is DType.INT:
        return sa.cast(text, sa.BigInteger)
    if dtype is DType.FLOAT:
        return sa.cast(text, sa.Float)
    if dtype is DType.BOOL:
        return sa.cast(text, sa.Integer)
    if dtype in (DType.STR, DType.JSON):
        return text
    return sa.type_coerce(data.op("->")(key), JSONB)


def is_jsonb(col: Any) -> bool:
    """Whether ``col`` is a mirror's column of several kinds (read as JSONB)."""
    from sqlalchemy.dialects.postgresql import JSONB

    return isinstance(col.type, JSONB)


def accepts(col: Any, value: Any) -> bool:
    """Whether ``value`` can equal a value of SQL column ``col`` (untyped columns: always).

    A typed column (a mirror's, or ``dir``) holds one kind; PostgreSQL refuses to
    compare it with another kind, and no value of another kind could be equal anyway.
    """
    import sqlalchemy as sa

    if isinstance(col.type, sa.String):
        return isinstance(value, str)
    if isinstance(col.type, (sa.Integer, sa.Float)):
        return isinstance(value, (int, float)) and not isinstance(value, str)
    return True


def bound(col: Any, value: Any) -> Any:
    """``value`` ready to compare with ``col``: a JSONB value for a column of several kinds."""
    import json

    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    if not isinstance(col.type, JSONB):
        return value
    return sa.cast(sa.literal(json.dumps(value), sa.String), JSONB)


def ordered_mixed(col: Any, value: Any) -> Any:
    """``col`` (JSONB) as a value of ``value``'s kind where it holds that kind, else NULL.

    A CASE, because PostgreSQL may evaluate the cast of an AND before its type test.
    """
    import sqlalchemy as sa

    kind, sql_type = ("string", sa.String) if isinstance(value, str) else ("number", sa.Float)
    # `#>> '{}'` is the JSON scalar as text (a constant: no user text reaches SQL here)
    text = sa.type_coerce(col.op("#>>")(sa.literal_column("'{}'::text[]")), sa.String)
    return sa.case((sa.func.jsonb_typeof(col) == kind, sa.cast(text, sql_type)), else_=None)


def differs(col: Any, value: Any) -> Any:
    """Aggregate: does any row's ``col`` differ from ``value`` (missing is a value)?"""
    import sqlalchemy as sa

    return sa.func.bool_or(col.is_distinct_from(bound(col, value)))


def search_clause(text: str, search: Any) -> Any:
    """The condition "the run's text holds every word of ``text`` as a word start".

    The meaning of :func:`runlab.query.search.fts_query` on SQLite: each word or quoted
    phrase matches at the start of a word, case ignored, punctuation separating words.
    """
    import sqlalchemy as sa

    patterns = []
    for phrase, word in _TERMS.findall(text):
        tokens = _TOKEN.findall(phrase or word)
        if tokens:
            patterns.append(r"\m" + r"\M\W+".join(tokens))
    if not patterns:
        raise UsageError(f"search {text!r}: give one or more words to look for")
    return sa.and_(*(search.op("~*")(sa.literal(p, sa.String)) for p in patterns))
