"""naklar's ``experiment`` module on runlab: ``initialise``, ``select``, ``E``, ``reset``.

Change the import line and naklar analysis code runs on runlab::

    from runlab.compat.naklar import experiment      # was: from naklar import experiment

    experiment.initialise('./results/', autoload=True, dict_file='conf.json',
                          load_func=load_json)
    experiment.select('path', 'C', C=[1, 2])          # named tuples, runs in folder order
    experiment.select('i', 'f1', experiment.E.f1 > 0.82)
    experiment.select(kernel='linear')[0].C           # Exp rows without column names

``initialise`` imports the tree with :func:`runlab.import_tree` (every folder holding
``dict_file`` is one run, its dict the run's params) and opens it with
:func:`runlab.load`; ``select`` and ``E`` are naklar's names for that selection
(:mod:`runlab.compat.naklar.table`), reading and decorating are
:mod:`runlab.compat.naklar.loader`.

Where the store lives. naklar kept its table in an in-memory SQLite database unless
``connect(url)`` named another, and wrote nothing next to the results. So:

- by default the store is a scratch folder in the system's temporary folder: nothing
  is written into the result tree, each ``initialise`` starts a fresh one, and
  ``reset()`` (or the end of the process) deletes it;
- ``connect('sqlite:///path/to/store/index.db')`` names a runlab store by its index
  (a store keeps ``index.db`` in its folder): it is created if missing and kept, so
  ``runlab ls path/to/store`` lists the experiments afterwards, and initialising again
  re-reads only the settings files that changed. The table is the runs imported from
  ``root_dir``'s ``dict_file`` files; other runs of that store are left out.
  ``sqlite://`` and ``sqlite:///:memory:`` mean the scratch store.

The module's state (the URL, the store, the table) is naklar's API, not a runlab
practice: runlab's own functions take the store as an argument.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.compat.naklar.loader import (
    Decorator,
    SettingsLoader,
    check_keys,
    getters,
    parse_decorators,
)
from runlab.compat.naklar.table import PREFIX, Experiments, filled_keys, only
from runlab.errors import UsageError
from runlab.importers import import_tree
from runlab.query import load
from runlab.record.layout import INDEX_FILE
from runlab.store import Store

DICT_FILE = "conf.pkl"
"""naklar's default settings file name."""


class NotInitialised(UsageError, AttributeError):
    """``select`` or ``E`` before ``initialise``; an AttributeError too, for ``hasattr``."""


@dataclass
class _State:
    """What naklar kept in module globals: the connection and the current table."""

    store_root: Path | None = None  # from connect(); None: a scratch store
    scratch: tempfile.TemporaryDirectory[str] | None = None
    store: Store | None = None
    table: Experiments | None = None

    def drop_table(self) -> None:
        """Close the current table's store and delete a scratch store."""
        if self.store is not None:
            self.store.close()
        if self.scratch is not None:
            self.scratch.cleanup()
        self.scratch = self.store = self.table = None


_state = _State()


def connect(url: str | None = None, **engine_options: Any) -> None:
    """Keep the experiments in the store whose index ``url`` names (``sqlite:///…/index.db``).

    No URL (or ``sqlite://``) means a scratch store, naklar's in-memory database. The
    current table is dropped; the next ``initialise`` builds one in that store.
    """
    if engine_options:
        raise UsageError(
            f"connect: runlab opens the store's index itself; engine options "
            f"({', '.join(sorted(engine_options))}) are not used"
        )
    root = store_root(url)
    _state.drop_table()
    _state.store_root = root


def store_root(url: Any) -> Path | None:
    """The store folder an SQLAlchemy URL names; None for an in-memory database."""
    if url is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        raise UsageError(f"connect({url!r}): not an SQLAlchemy URL") from None
    if parsed.get_backend_name() != "sqlite":
        raise UsageError(
            f"connect({str(url)!r}): experiments live in a runlab store; "
            f"give sqlite:///path/to/store/{INDEX_FILE}"
        )
    if parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).expanduser().absolute()
    if path.name != INDEX_FILE:
        raise UsageError(
            f"connect({str(url)!r}): a runlab store keeps its index as {INDEX_FILE} in the "
            f"store's folder: give sqlite:///{path.parent / path.stem}/{INDEX_FILE}"
        )
    return path.parent


def initialise(
    root_dir: str | os.PathLike[str],
    *args: Any,
    autoload: bool = True,
    dict_file: str = DICT_FILE,
    load_func: Callable[[str], Any] | None = None,
    decorators: Mapping[str, Any] | None = None,
    restrict_keys: Iterable[str] | None = None,
    **kwargs: Any,
) -> Experiments:
    """Build the experiments table from every ``dict_file`` under ``root_dir``; return it.

    ``load_func(path)`` reads a settings file (default: by its kind, a pickle when the
    name says nothing else); ``restrict_keys`` keeps only those keys; ``decorators``
    ``{key: (getter, setter, column)}`` compute columns (:mod:`.loader`). ``autoload=False``
    imports nothing: the table is what the store already holds from ``root_dir``. Extra
    arguments go to :func:`connect`. Calling it again replaces the table: no ``reset()``
    is needed in between.

    Usage::

        experiment.initialise('./results/', dict_file='conf.jbl', load_func=util.load_joblib)
    """
    if args or kwargs:
        connect(*args, **kwargs)
    loader = SettingsLoader.create(load_func, restrict_keys)
    parsed = parse_decorators(decorators)
    store = _open_store()
    try:
        table = _build(store, Path(root_dir), dict_file, loader, parsed, autoload=autoload)
    except BaseException:
        _state.drop_table()
        raise
    _state.table = table
    return table


def _open_store() -> Store:
    """A fresh scratch store, or the connected one; the previous table is dropped."""
    _state.drop_table()
    if _state.store_root is not None:
        _state.store = Store(_state.store_root)
    else:
        _state.scratch = tempfile.TemporaryDirectory(
            prefix="runlab-naklar-", ignore_cleanup_errors=True
        )
        _state.store = Store(Path(_state.scratch.name))
    return _state.store


def _build(
    store: Store,
    root: Path,
    dict_file: str,
    loader: SettingsLoader,
    decorators: tuple[Decorator, ...],
    *,
    autoload: bool,
) -> Experiments:
    report = import_tree(root, store, settings=dict_file, load_func=loader, dry_run=not autoload)
    text = f"{report.root} ({dict_file})"
    runs = only(load(store), report.run_ids, f"imported from {text}")
    keys = filled_keys(runs)
    if decorators:
        check_keys(decorators, keys, report.root)
        runs = load(store, columns=getters(decorators, report.run_ids))
        runs = only(runs, report.run_ids, f"imported from {text}")
        names = {c.name for c in runs.columns}
        keys += [d.key for d in decorators if d.key not in keys and PREFIX + d.key in names]
    return Experiments(runs, keys, source=text)


def _table() -> Experiments:
    if _state.table is None:
        raise NotInitialised("no experiments table: call experiment.initialise(root_dir) first")
    return _state.table


def select(*columns: Any, **filters: Any) -> list[Any]:
    """naklar's ``select`` on the current table (see :meth:`.table.Experiments.select`).

    Usage::

        experiment.select('path', 'C', C=[1, 2])
        experiment.select('i', 'kernel', experiment.E.f1 > 0.82)
    """
    return _table().select(*columns, **filters)


def reset() -> None:
    """Forget the table and the connection; delete the scratch store. Never needed first."""
    _state.drop_table()
    _state.store_root = None


def __getattr__(name: str) -> Any:
    """``E`` (the current table's columns) and ``_engine`` (its store's index engine)."""
    if name == "E":
        return _table().E
    if name == "_engine":
        return None if _state.store is None else _state.store.index(refresh=False).engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DICT_FILE", "NotInitialised", "connect", "initialise", "reset", "select"]
