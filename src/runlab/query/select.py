"""naklar's ``select``: named tuples of chosen columns, keyword filters, SQLAlchemy conditions.

``runs.select("name", "params.C", kernel="rbf")`` is a list of named tuples, one per
run in row order, holding the named columns; ``runs.select()`` without column names is
a list of run readers. Arguments:

- strings name columns (short names resolve when unambiguous: ``C`` → ``params.C``);
- SQLAlchemy conditions over ``runs.c`` (``runs.c["metrics.f1"] > 0.82``) filter;
- keywords filter by equality: ``C=1``; a list (or tuple, set) means IN: ``C=[1, 2]``,
  values not present are no matter; ``None`` means missing; names with dots go through
  ``**{"params.kernel": "rbf"}``.

Field names of the tuples: each column's last dotted part (``params.C`` → ``C``), or,
when two selected columns share it or it is not an identifier, the full name with
every other character made ``_`` (``params_C``, ``params_learning_rate``); a Python
keyword gets a trailing ``_`` (``class_``).
"""

from __future__ import annotations

import keyword
import re
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runlab.errors import ColumnNotFound, UsageError
from runlab.query.expr import resolve_column

if TYPE_CHECKING:
    from runlab.query.runs import Runs

_NOT_WORD = re.compile(r"\W")


def select(runs: Runs, columns: Sequence[Any], filters: Mapping[str, Any]) -> list[Any]:
    """What ``runs.select(*columns, **filters)`` returns (see the module docstring)."""
    import sqlalchemy as sa

    narrowed = runs
    names = []
    for arg in columns:
        if isinstance(arg, str):
            names.append(runs.resolve(arg))
        elif isinstance(arg, sa.sql.ClauseElement):
            narrowed = narrowed.where(arg)  # type: ignore[arg-type]
        else:
            raise UsageError(
                f"select: {arg!r} is neither a column name nor a condition over runs.c"
            )
    source, known = runs.sql_table, [c.name for c in runs.columns]
    for key, value in filters.items():
        strict = runs.store is None  # a PostgreSQL mirror's typed columns
        narrowed = narrowed.narrow(*equals(source, known, key, value, strict=strict))
    if not names:
        return list(narrowed)
    return named_rows(names, narrowed.fetch(names).rows())


class ColumnAttributeError(ColumnNotFound, AttributeError):
    """``runs.c.nope``: an unknown column, also an AttributeError for ``hasattr``."""


class ColumnAccess:
    """``runs.c``: the SQLAlchemy columns of a selection, by full or short name.

    Usage::

        runs.c["metrics.f1"] > 0.82        # a condition for select / where
        runs.c.f1.between(0.8, 0.9)        # attribute access for identifiers
    """

    def __init__(self, source: Any, names: Sequence[str]) -> None:
        self._source = source
        self._names = list(names)

    def __getitem__(self, name: str) -> Any:
        return self._source.c[resolve_column(name.strip(), self._names)]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except ColumnNotFound as exc:
            raise ColumnAttributeError(str(exc)) from None

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except ColumnNotFound:
            return False
        return True

    def __iter__(self) -> Any:
        return iter(self._names)

    def __dir__(self) -> list[str]:
        return [n for n in self._names if n.isidentifier()]


def equals(
    source: Any, names: Sequence[str], key: str, value: Any, *, strict: bool = False
) -> tuple[Any, str]:
    """The condition of keyword filter ``key=value``, and how it reads.

    ``strict``: the columns are typed (PostgreSQL), and a value of another kind than
    its column's equals nothing (the database would refuse to compare them).
    """
    import sqlalchemy as sa

    from runlab.query.postgres import accepts, bound

    def fits(v: Any) -> bool:
        return not strict or accepts(col, v)

    def sql(v: Any) -> Any:
        return bound(col, v) if strict else v

    name = resolve_column(key.strip(), names)
    col = source.c[name]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_bindable(name, v) for v in value]
        present = [sql(v) for v in items if v is not None and fits(v)]
        clause = col.in_(present)
        if any(v is None for v in items):
            clause = sa.or_(clause, col.is_(None))
        return clause, f"{name} in {list(value)!r}"
    if value is None:
        return col.is_(None), f"{name} == None"
    value_in = _bindable(name, value)
    if not fits(value_in):
        return sa.false(), f"{name} == {value!r}"
    return col == sql(value_in), f"{name} == {value!r}"


def _bindable(name: str, value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # numpy scalars
        value = item()
    if isinstance(value, bool):
        return int(value)  # the index stores bools as 0/1
    if name == "id" and isinstance(value, int):
        return str(value)
    return value


def field_names(columns: Sequence[str]) -> list[str]:
    """The named-tuple fields for the selected ``columns`` (see the module docstring)."""
    tails = [c.rsplit(".", 1)[-1] for c in columns]
    out = []
    for column, tail in zip(columns, tails, strict=True):
        name = tail if tails.count(tail) == 1 and tail.isidentifier() else column
        name = _NOT_WORD.sub("_", name)
        if name[:1].isdigit() or name.startswith("_"):
            name = "c" + name if name[:1].isdigit() else name.lstrip("_") or "c"
        if keyword.iskeyword(name):
            name += "_"
        out.append(name)
    return out


def named_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """``rows`` as named tuples whose fields are :func:`field_names` of ``columns``."""
    row_type = namedtuple("Row", field_names(columns), rename=True)  # type: ignore[misc]
    return [row_type._make(r) for r in rows]
