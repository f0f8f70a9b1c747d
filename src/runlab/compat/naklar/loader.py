"""How ``initialise`` reads settings files and applies decorators, as runlab import and getters.

A settings file is read by :class:`SettingsLoader`, handed to :func:`runlab.import_tree`
as its load function: the user's ``load_func`` (called with the path as a string, as
naklar did), else by the file's kind — JSON, YAML, a joblib dump, and any other name
(``conf.pkl``, ``args.final``) as a pickle, which was naklar's only reader. Unpickling
runs code stored in the file: calling naklar's ``initialise`` on pickles is the request
that runlab's own import wants spelled ``allow_pickle=True``.
``restrict_keys`` keeps only those keys, so the others never become columns.

A decorator ``{key: (getter, setter, column)}`` becomes a computed column of
:func:`runlab.load` named ``params.<key>``: for a key of the settings it replaces the
stored values, for a new key it is an extra column. Either way the value is
``getter(self, setter(self, stored))`` (each step only when it is callable), where
``self`` is the experiment as read from its settings file (:class:`~.table.Exp`). The
value is a column of the SQL selection, so ``select`` and the filters see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.compat.naklar.table import Exp
from runlab.errors import UsageError
from runlab.importers import settings as kinds
from runlab.importers.source import load_json
from runlab.record.reader import RunReader

DecoratorFn = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class SettingsLoader:
    """Reads one settings file as naklar's ``initialise`` was told to.

    Its ``repr`` names how files are read and is stable across processes: runlab's
    import keeps it in each run's stamp, so reading differently re-reads every file
    and reading the same way again re-reads only the files that changed.
    """

    load_func: Callable[[str], Any] | None = None
    restrict_keys: frozenset[str] | None = None

    @classmethod
    def create(
        cls, load_func: Callable[[str], Any] | None, restrict_keys: Iterable[str] | None
    ) -> SettingsLoader:
        if load_func is not None and not callable(load_func):
            raise UsageError(f"load_func={load_func!r}: give a function fn(path) -> dict")
        if isinstance(restrict_keys, str):
            raise UsageError(f"restrict_keys={restrict_keys!r}: give a list of keys, not one")
        keys = None if restrict_keys is None else frozenset(str(k) for k in restrict_keys)
        return cls(load_func, keys)

    def __call__(self, path: Path) -> Any:
        data = self.load_func(str(path)) if self.load_func is not None else read_by_kind(path)
        if self.restrict_keys is None or not isinstance(data, Mapping):
            return data
        return {k: v for k, v in data.items() if k in self.restrict_keys}

    def __repr__(self) -> str:
        how = "by kind" if self.load_func is None else qualified_name(self.load_func)
        keys = "all" if self.restrict_keys is None else ",".join(sorted(self.restrict_keys))
        return f"naklar(read {how}; keys {keys})"


def read_by_kind(path: Path) -> Any:
    """The dict in a settings file, read by its suffix; anything unknown is a pickle."""
    suffix = path.suffix.lower()
    if suffix in kinds.JSON_SUFFIXES:
        return load_json(path)
    if suffix in kinds.YAML_SUFFIXES:
        return kinds.load_yaml(path)
    if suffix in kinds.JOBLIB_SUFFIXES:
        return kinds.load_joblib(path)
    return kinds.load_pickle(path)


def qualified_name(fn: Callable[..., Any]) -> str:
    """``module.function`` of ``fn`` (of the wrapped function, for a partial)."""
    inner = getattr(fn, "func", fn)
    module = getattr(inner, "__module__", None) or ""
    name = getattr(inner, "__qualname__", None) or type(inner).__name__
    return f"{module}.{name}" if module else name


@dataclass(frozen=True)
class Decorator:
    """One entry of naklar's ``decorators``: how the column ``key`` is got and set.

    ``column`` is the SQLAlchemy column naklar needed for an extra key: runlab takes a
    column's type from its values, so it is accepted and not needed.
    """

    key: str
    getter: DecoratorFn | None
    setter: DecoratorFn | None

    @classmethod
    def parse(cls, key: Any, spec: Any) -> Decorator:
        if not isinstance(key, str) or not key:
            raise UsageError(f"decorators: {key!r} is not a settings key")
        if not isinstance(spec, (tuple, list)) or not 1 <= len(spec) <= 3:
            raise UsageError(
                f"decorators[{key!r}]: give (getter,), (getter, setter) or "
                f"(getter, setter, column), not {spec!r}"
            )
        getter = spec[0] if callable(spec[0]) else None
        setter = spec[1] if len(spec) > 1 and callable(spec[1]) else None
        return cls(key, getter, setter)

    def value(self, run: RunReader) -> Any:
        """The column's value for ``run``: the stored one, through setter and getter."""
        stored = run.params.get(self.key)
        experiment = Exp(run.params)
        value = stored if self.setter is None else self.setter(experiment, stored)
        return value if self.getter is None else self.getter(experiment, value)


def parse_decorators(decorators: Mapping[str, Any] | None) -> tuple[Decorator, ...]:
    """The decorators given to ``initialise``, checked; UsageError names a bad entry."""
    if decorators is None:
        return ()
    if not isinstance(decorators, Mapping):
        raise UsageError(f"decorators={decorators!r}: give a dict {{key: (getter, setter)}}")
    return tuple(Decorator.parse(key, spec) for key, spec in decorators.items())


def check_keys(decorators: tuple[Decorator, ...], keys: Iterable[str], root: Path) -> None:
    """Refuse a decorator with only a getter for a key no settings file has: a typo."""
    known = set(keys)
    for d in decorators:
        if d.key not in known and d.setter is None:
            raise UsageError(
                f"decorators[{d.key!r}]: no settings file under {root} has {d.key!r}; "
                "an extra column needs a setter: (None, setter, column)"
            )


def getters(
    decorators: tuple[Decorator, ...], run_ids: Iterable[str]
) -> dict[str, Callable[[RunReader], Any]]:
    """The computed columns of :func:`runlab.load` for ``decorators``.

    Only the runs of this table (``run_ids``) are decorated: a store may hold other
    runs, whose settings the decorators were not written for; they keep their values.
    """
    mine = frozenset(run_ids)

    def column(d: Decorator) -> Callable[[RunReader], Any]:
        def get(run: RunReader) -> Any:
            return d.value(run) if run.id in mine else run.params.get(d.key)

        return get

    return {f"params.{d.key}": column(d) for d in decorators}
