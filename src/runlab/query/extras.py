"""What ``runlab.load`` adds to the index's columns: ``dir``, path translation, computed columns.

(And what its first argument names: :func:`store_of`.)

The runs of a selection are read from one SQL source: the index's ``runs`` table with

- ``dir``, each run's folder (the store root joined with its id);
- ``translate={"/mnt/scratch/": "/data/"}`` applied in SQL to every string value of the
  ``params.*``, ``metrics.*`` and ``tags.*`` columns and to ``dir`` that begins with a
  prefix (the longest matching prefix wins; other values are left alone, and values
  inside JSON lists are not strings);
- ``columns={"startdate": fn}``: ``fn(reader)`` is called once per run of the index when
  :func:`runlab.load` runs, with a :class:`~runlab.record.reader.RunReader` (whose
  params, summary and tags are translated). A new name becomes a column (kind
  ``computed``, or ``params``/``metrics``/``tags`` for a name with that prefix); the
  name of an existing column replaces its values (a getter).

Computed values reach SQL as one JSON parameter expanded by SQLite's ``json_each`` in a
materialized CTE joined on ``id``, so they are real columns: ``where``, ``select`` and
sorting see them.
Their type is decided from every value, as for the index: numpy scalars are numbers,
datetimes become ISO text (a ``datetime`` column when all are), lists, tuples and numpy
arrays become JSON text, and any other object is dropped with a warning naming the key.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from runlab.canonical import to_jsonable
from runlab.errors import UsageError
from runlab.query.table import Column
from runlab.query.types import FIXED_DTYPES, DType, dtype_of
from runlab.record.layout import INDEX_FILE
from runlab.record.reader import RunReader
from runlab.store import Store

if TYPE_CHECKING:
    import sqlalchemy as sa

    from runlab.index import Index

DIR_COLUMN = "dir"
COMPUTED = "computed"
KINDS = ("params", "metrics", "tags")  # as runlab.index.schema has them (it imports SQLAlchemy)
Getter = Callable[[RunReader], Any]


class ColumnWarning(UserWarning):
    """A computed value could not be stored in a column and was dropped."""


@dataclass(frozen=True)
class Translation:
    """Prefix replacements for string values (``{"/mnt/scratch/": "/data/"}``), longest first.

    Usage::

        Translation.of({"/mnt/scratch/": "/data/"}).text("/mnt/scratch/x")   # "/data/x"
    """

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, str] | None) -> Translation:
        pairs = []
        for old, new in (mapping or {}).items():
            if not isinstance(old, str) or not isinstance(new, str) or not old:
                raise UsageError(
                    f"translate: {old!r} -> {new!r}: give non-empty string prefixes and strings"
                )
            pairs.append((old, new))
        pairs.sort(key=lambda p: -len(p[0]))
        return cls(tuple(pairs))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def text(self, value: str) -> str:
        """``value`` with its longest matching prefix replaced (unchanged if none matches)."""
        for old, new in self.pairs:
            if value.startswith(old):
                return new + value[len(old) :]
        return value

    def value(self, value: Any) -> Any:
        """``value`` with every string in it (nested in dicts and lists too) translated."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def sql(self, col: Any) -> Any:
        """The SQL expression of ``col`` translated where it holds text starting with a prefix."""
        import sqlalchemy as sa

        if not self.pairs:
            return col
        whens = [
            (
                sa.and_(
                    sa.func.typeof(col) == "text",
                    sa.func.substr(col, 1, len(old)) == sa.literal(old, sa.String),
                ),
                sa.literal(new, sa.String).op("||")(sa.func.substr(col, len(old) + 1)),
            )
            for old, new in self.pairs
        ]
        return sa.case(*whens, else_=col)


class TranslatedReader(RunReader):
    """A :class:`RunReader` whose params, summary and tags have their strings translated."""

    def __init__(self, path: str | os.PathLike[str], translation: Translation) -> None:
        super().__init__(path)
        self.translation = translation

    @cached_property
    def params(self) -> dict[str, Any]:
        return self.translation.value(RunReader.params.func(self))  # type: ignore[no-any-return]

    @cached_property
    def summary(self) -> dict[str, Any]:
        return self.translation.value(RunReader.summary.func(self))  # type: ignore[no-any-return]

    @property
    def tags(self) -> dict[str, Any]:
        return self.translation.value(dict(self.record.get("tags") or {}))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Computed:
    """The values of the computed columns for every run, ready for SQL.

    ``columns`` are their :class:`Column` descriptions in the order given; ``payload``
    is a JSON list of ``[id, value, ...]`` rows; ``replaced`` names the existing columns
    they replace.
    """

    columns: tuple[Column, ...] = ()
    payload: str = "[]"
    replaced: frozenset[str] = field(default_factory=frozenset)


def compute(
    getters: Mapping[str, Getter],
    run_ids: list[str],
    reader: Callable[[str], RunReader],
    existing: Mapping[str, Column],
) -> Computed:
    """Call every getter on every run; the values and types of the computed columns."""
    if not getters:
        return Computed()
    names = list(getters)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"columns: {name!r} is not a column name")
        if name == DIR_COLUMN or name in FIXED_DTYPES:
            raise UsageError(f"columns: {name!r} is a fixed column of the index; pick a new name")
    types: dict[str, set[str]] = {n: set() for n in names}
    dropped: set[str] = set()
    rows: list[list[Any]] = []
    for run_id in run_ids:
        run = reader(run_id)
        row: list[Any] = [run_id]
        for name in names:
            try:
                raw = getters[name](run)
            except Exception as exc:
                raise UsageError(
                    f"column {name!r}: the getter raised {type(exc).__name__}: {exc} "
                    f"on run {run_id}"
                ) from exc
            value, type_name = cell(raw)
            if type_name == "?":
                if name not in dropped:
                    dropped.add(name)
                    warnings.warn(
                        f"column {name!r}: {type(raw).__name__} values cannot be stored in a "
                        "column; dropped",
                        ColumnWarning,
                        stacklevel=3,
                    )
                value = None
            elif type_name:
                types[name].add(type_name)
            row.append(value)
        rows.append(row)
    columns = []
    for name in names:
        seen = frozenset(types[name])
        if seen == {"datetime"}:
            dtype = DType.DATETIME
        else:
            seen = frozenset("str" if t == "datetime" else t for t in seen)
            dtype = dtype_of(seen)
        if name in existing:
            kind = existing[name].kind
        else:
            prefix = name.split(".", 1)[0]
            kind = prefix if "." in name and prefix in KINDS else COMPUTED
        columns.append(Column(name, kind, dtype, types=seen))
    replaced = frozenset(n for n in names if n in existing)
    return Computed(tuple(columns), json.dumps(rows, allow_nan=False), replaced)


def cell(value: Any) -> tuple[Any, str | None]:
    """A computed value as the index stores values, and its type name.

    The type is None for a missing value and ``"?"`` for a value that cannot be stored.
    """
    # runlab.index imports SQLAlchemy: `import runlab.query` must not.
    from runlab.index.rows import sql_value

    if value is None or isinstance(value, (bool, int, float, str)):
        return sql_value(value)
    if isinstance(value, (datetime, date)):
        if value != value:  # pandas' NaT
            return None, None
        return value.isoformat(), "datetime"
    if isinstance(value, PurePath):
        return str(value), "str"
    item, tolist = getattr(value, "item", None), getattr(value, "tolist", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # numpy scalars
        return cell(item())
    if isinstance(value, (list, tuple, dict)) or callable(tolist):
        data = to_jsonable(tolist() if callable(tolist) else value)
        return json.dumps(data, sort_keys=True), "json"
    return None, "?"


def index_columns(index: Index) -> tuple[Column, ...]:
    """The public columns of the index: the fixed ones, ``dir``, then the dynamic ones."""
    fixed = [Column(name, "run", dtype) for name, dtype in FIXED_DTYPES.items()]
    fixed.append(Column(DIR_COLUMN, "run", DType.STR))
    dynamic = [
        Column(name, kind, dtype_of(types), types=types)
        for name, (kind, types) in index.columns().items()
    ]
    return (*fixed, *dynamic)


def all_ids(index: Index) -> list[str]:
    """Every run id of the index, in row order."""
    with index.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id FROM runs ORDER BY _seq IS NULL, _seq, id")
        return [r[0] for r in rows]


ROWID = "_rowid"  # the runs table's rowid, in the source: a lookup by it is one B-tree


def source(
    index: Index,
    columns: tuple[Column, ...],
    *,
    root: str,
    translation: Translation,
    computed: Computed,
) -> sa.Subquery:
    """The SQL source of a selection: the runs table with ``dir`` and the extras, as ``r``.

    It has a column per public column (translated or replaced where asked), plus
    ``_seq`` for ordering. SQLite flattens it into the queries that use it.
    """
    import sqlalchemy as sa

    from runlab.index.rows import CONFIG_COLUMN

    table = index.table()
    translated = {c.name for c in columns if c.kind in KINDS and "str" in c.types}
    extra = None
    if computed.columns:
        each = sa.func.json_each(sa.literal(computed.payload, sa.String)).table_valued("value")
        # TEXT like runs.id, or SQLite cannot index the CTE for the join.
        picks = [sa.cast(sa.func.json_extract(each.c.value, "$[0]"), sa.Text).label("id")]
        picks += [
            sa.func.json_extract(each.c.value, f"$[{i}]").label(c.name)
            for i, c in enumerate(computed.columns, 1)
        ]
        # Materialized, SQLite indexes the CTE for the join (an automatic index); else
        # the join would scan all the computed rows for every run.
        extra = sa.select(*picks).cte("x").prefix_with("MATERIALIZED")
    own = {c.name for c in computed.columns}
    picked = []
    for col in columns:
        name = col.name
        if name in own:
            assert extra is not None
            expr = extra.c[name]
        elif name == DIR_COLUMN:
            expr = translation.sql(sa.literal(root, sa.String).op("||")(table.c["id"]))
        elif name in translated:
            expr = translation.sql(table.c[name])
        else:
            expr = table.c[name]
        picked.append(expr.label(name))
    picked.append(table.c["_seq"].label("_seq"))
    # The stored per-configuration key holds the stored params: it groups these runs
    # only when no param is translated or computed here.
    if not translation and not any(c.kind == "params" for c in computed.columns):
        picked.append(table.c[CONFIG_COLUMN].label(CONFIG_COLUMN))
    picked.append(sa.literal_column("runs.rowid").label(ROWID))  # what finds a run fastest
    stmt = sa.select(*picked)
    if extra is not None:
        stmt = stmt.select_from(table.outerjoin(extra, extra.c.id == table.c["id"]))
    return stmt.subquery("r")


def store_of(store: str | os.PathLike[str] | Store | None) -> Store:
    """The store a :func:`load` argument names (a ``sqlite:///`` URL names its index file)."""
    if isinstance(store, str) and "://" in store:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(store)
        except ArgumentError:
            url = None
        if url is None or url.get_backend_name() != "sqlite" or not url.database:
            raise UsageError(
                f"{store}: only sqlite:///path/to/{INDEX_FILE} URLs (a store's index) "
                "can be loaded for now"
            )
        path = os.path.abspath(url.database)
        if os.path.basename(path) != INDEX_FILE or not os.path.isfile(path):
            raise UsageError(f"{store}: no store index at {path} (a store keeps {INDEX_FILE})")
        return Store(os.path.dirname(path))  # type: ignore[arg-type]
    return Store.at(store)
