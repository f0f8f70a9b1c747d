"""naklar's experiments table over a runlab selection: ``E``, ``select`` and the row objects.

Every key of the settings dicts is the run column ``params.<key>`` (decorated keys are
computed columns of the same name), so ``E.f1`` is ``runs.c["params.f1"]`` and
``select('path', 'C', C=[1, 2])`` is :meth:`runlab.query.Runs.select` on those columns:
named tuples in the runs' order (``results/2`` before ``results/10``), a list meaning IN,
values that no run has being no matter. A name that is no settings key is one of
runlab's columns (``E.id``, ``E.dir``, ``E.status``). Column types come from every
value, so ``C`` holding 1 and 0.001 is a float column whichever folder was read first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from runlab.errors import ColumnNotFound, UsageError
from runlab.query.select import ColumnAttributeError, equals, named_rows
from runlab.query.types import DType

if TYPE_CHECKING:
    import sqlalchemy as sa

    from runlab.query.runs import Runs

PREFIX = "params."


class Exp:
    """One experiment: the keys of its settings dict as attributes (``exp.f1``), read-only.

    What ``experiment.select()`` returns per row, and the ``self`` a decorator gets.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        values: dict[str, Any] = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(f"the experiment has no setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("experiments are read-only: change the settings file and initialise")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Exp) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # equal by mutable-looking values

    def __repr__(self) -> str:
        return "Exp(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def __dir__(self) -> list[str]:
        return list(self._values)

    def as_dict(self) -> dict[str, Any]:
        """The experiment's settings, key by key."""
        return dict(self._values)


class Columns:
    """``experiment.E``: the table's columns as SQLAlchemy expressions, by settings key.

    Usage::

        experiment.select('i', 'f1', experiment.E.f1 > 0.82)
        experiment.select('path', experiment.E.C.in_([1, 2, 3]))
    """

    def __init__(self, runs: Runs, keys: Sequence[str]) -> None:
        self._runs = runs
        self._keys = tuple(keys)

    def name(self, key: str) -> str:
        """The run column ``key`` means: ``params.<key>`` for a settings key, else runlab's."""
        if key in self._keys:
            return PREFIX + key
        return self._runs.resolve(key)

    def __getitem__(self, key: str) -> Any:
        return self._runs.sql_table.c[self.name(key)]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except ColumnNotFound as exc:
            raise ColumnAttributeError(str(exc)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __dir__(self) -> list[str]:
        return [k for k in self._keys if k.isidentifier()]

    def __repr__(self) -> str:
        return f"<experiment.E: {', '.join(self._keys)}>"


class Experiments:
    """The table one ``initialise`` built: the runs of one tree, their keys and ``E``.

    ``runs`` is the :class:`~runlab.query.Runs` selection (native runlab from there on).
    """

    def __init__(self, runs: Runs, keys: Sequence[str], *, source: str) -> None:
        self.runs = runs
        self.keys = tuple(keys)
        self.source = source
        self.E = Columns(runs, self.keys)

    def __repr__(self) -> str:
        return f"<naklar experiments: {len(self.runs)} from {self.source}>"

    def select(self, *columns: Any, **filters: Any) -> list[Any]:
        """naklar's ``select``: named tuples of ``columns``, or :class:`Exp` rows without any.

        Strings and ``E`` columns pick columns; other SQLAlchemy expressions filter;
        keywords filter by equality, any non-string iterable meaning IN.
        """
        import sqlalchemy as sa

        runs, names = self.runs, []
        for arg in columns:
            if isinstance(arg, str):
                names.append(self.E.name(arg))
            elif self._is_column(arg):
                names.append(arg.key)
            elif isinstance(arg, sa.sql.ClauseElement):
                runs = runs.where(self._own(arg))
            else:
                raise UsageError(
                    f"select: {arg!r} is neither a column name nor an expression over experiment.E"
                )
        runs = self._filtered(runs, filters)
        if names:
            return named_rows(names, rows(runs, names))
        full = [PREFIX + k for k in self.keys]
        return [Exp(dict(zip(self.keys, row, strict=True))) for row in rows(runs, full)]

    def _filtered(self, runs: Runs, filters: Mapping[str, Any]) -> Runs:
        """``runs`` narrowed by ``select``'s keyword filters (a value may be an expression)."""
        import sqlalchemy as sa

        known = [c.name for c in runs.columns]
        for key, value in filters.items():
            if isinstance(value, sa.sql.ClauseElement):
                runs = runs.where(self._own(value))
            else:
                runs = runs.narrow(*equals(runs.sql_table, known, self.E.name(key), listed(value)))
        return runs

    def _is_column(self, arg: Any) -> bool:
        return getattr(arg, "table", None) is self.runs.sql_table and hasattr(arg, "key")

    def _own(self, clause: sa.ClauseElement) -> sa.ClauseElement:
        """``clause``, refused when it holds columns of another table (an older ``E``).

        SQL would join the two silently and return a cross product.
        """
        import sqlalchemy as sa
        from sqlalchemy.sql.visitors import iterate

        table = self.runs.sql_table
        for element in iterate(clause):
            if not isinstance(element, sa.ColumnClause):
                continue
            if element.table is not None and element.table is not table:
                raise UsageError(
                    f"select: {clause} uses the columns of an earlier initialise; "
                    "take them from experiment.E again"
                )
        return clause


def listed(value: Any) -> Any:
    """A keyword filter's value, any non-string iterable (a range, an array) as a list."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    if getattr(value, "ndim", None) == 0:  # a numpy scalar
        return value
    return list(value)


def rows(runs: Runs, names: Sequence[str]) -> list[tuple[Any, ...]]:
    """The values of ``names`` per run, datetime columns as :class:`datetime` (naklar's)."""
    if not names:  # runs whose settings dicts were all empty
        return [() for _ in range(len(runs))]
    table = runs.fetch(names)
    dtypes = runs.dtypes
    when = [i for i, n in enumerate(names) if dtypes[n] is DType.DATETIME]
    if not when:
        return table.rows()
    out = []
    for row in table.rows():
        values = list(row)
        for i in when:
            values[i] = as_datetime(values[i])
        out.append(tuple(values))
    return out


def as_datetime(value: Any) -> Any:
    """An ISO text from the index as a datetime (``Z`` read as UTC); anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def filled_keys(runs: Runs) -> list[str]:
    """The settings keys holding a value in at least one of ``runs``, in column order.

    A store may hold runs of other trees: their keys are not this table's.
    """
    import sqlalchemy as sa

    params = [c.name for c in runs.columns if c.name.startswith(PREFIX)]
    if not params:
        return []
    t = runs.sql_table
    counts = runs.execute(runs.sql_select(*(sa.func.count(t.c[n]) for n in params)))[0]
    return [n[len(PREFIX) :] for n, count in zip(params, counts, strict=True) if count]


def only(runs: Runs, run_ids: Sequence[str], text: str) -> Runs:
    """``runs`` narrowed to ``run_ids`` (one JSON parameter, however many ids)."""
    import sqlalchemy as sa

    if len(runs) == len(run_ids):
        return runs  # the store holds just these: no condition to carry
    each = sa.func.json_each(sa.literal(json.dumps(list(run_ids)), sa.String)).table_valued("value")
    return runs.narrow(runs.sql_table.c["id"].in_(sa.select(each.c.value)), text)
