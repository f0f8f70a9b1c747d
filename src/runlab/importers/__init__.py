"""Import foreign result trees (naklar, meticulous, mlrunner, pymake, alchemie) as runs.

Each imported run is an ordinary run folder, so ``runlab ls``, ``show``, ``logs`` and
``runlab.load`` treat it like any other; ``run.json`` says where it came from
(``imported_from``, ``source_format``). Importing again is incremental (see
:mod:`runlab.importers.tree`). Modules: ``source`` (what a reader returns),
``settings`` (naklar), ``meticulous``, ``mlrunner``, ``pymake``, ``alchemie`` (one per
format, each saying what it reads and how it maps), ``writer`` (run folders), ``tree``
(the walk and the incremental matching).

Usage::

    import runlab
    runlab.import_tree("results", store="runs", settings="conf.json", metrics=["f1"])
    runlab.import_tree("experiments", store="runs", format="meticulous")
    report = runlab.import_tree("output", store="runs", format="mlrunner", dry_run=True)
    report.summary_line()        # 'dry run: would import 5, update 0, remove 0, skip 0'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runlab.errors import StoreError, UsageError
from runlab.importers.tree import (
    Action,
    Change,
    Format,
    ImportReport,
    Skipped,
    SourceWarning,
    run_import,
)
from runlab.store import Store

FORMATS = ("meticulous", "mlrunner", "pymake", "alchemie")


def import_tree(
    path: str | os.PathLike[str],
    store: str | os.PathLike[str] | Store | None = None,
    *,
    settings: str | None = None,
    load_func: str | Callable[[Path], Any] | None = None,
    format: str | None = None,
    allow_pickle: bool = False,
    metrics: Sequence[str] = (),
    name_format: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every run found under ``path`` into ``store``; return what was done.

    Give ``settings`` (a naklar settings file name: ``conf.json``, ``.yaml``, ``.pkl``,
    ``.jbl``, or any name read by ``load_func``, a function or ``module:function``) or
    ``format`` (one of :data:`FORMATS`). Pickles and joblib dumps are loaded only
    with ``allow_pickle=True``: unpickling runs code stored in the file. ``metrics``
    names settings keys that are results (they go to the summary); ``name_format``
    reads pymake params back from file names. Unreadable folders are skipped with a
    :class:`SourceWarning` each and counted in the report.

    Usage::

        report = runlab.import_tree("experiments", store="runs", format="meticulous")
        print(report.summary_line())  # imported 12, updated 0, removed 0, skipped 1 (...)
    """
    the_store = Store.at(store)
    root = _root(path, the_store)
    fmt = _format(
        root,
        settings=settings,
        load_func=load_func,
        format=format,
        allow_pickle=allow_pickle,
        name_format=name_format,
    )
    if not dry_run:
        try:
            the_store.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store {the_store.root}: {exc.strerror or exc}"
            ) from None
    return run_import(
        root, the_store, fmt, metrics=tuple(metrics), dry_run=dry_run, progress=progress
    )


def _root(path: str | os.PathLike[str], store: Store) -> Path:
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise UsageError(f"cannot import {str(path)!r}: it {what}")
    root = root.resolve()
    store_root = store.root.resolve()
    if root == store_root or store_root in root.parents:
        raise UsageError(f"cannot import {root}: it is inside the store {store_root}")
    return root


def _format(
    root: Path,
    *,
    settings: str | None,
    load_func: str | Callable[[Path], Any] | None,
    format: str | None,
    allow_pickle: bool,
    name_format: str | None,
) -> Format:
    if settings is None and format is None:
        raise UsageError("say what to import: --settings FILE (naklar trees) or --format NAME")
    if settings is not None and format is not None:
        raise UsageError("give --settings FILE or --format NAME, not both")
    if load_func is not None and settings is None:
        raise UsageError("--load-func reads a settings file: give --settings FILE too")
    if name_format is not None and format != "pymake":
        raise UsageError("--name-format reads pymake file names: use it with --format pymake")
    if settings is not None:
        from runlab.importers.settings import SettingsFormat

        return SettingsFormat.create(
            settings, load_func=load_func, allow_pickle=allow_pickle, root=root
        )
    if format == "meticulous":
        from runlab.importers.meticulous import MeticulousFormat

        return MeticulousFormat()
    if format == "mlrunner":
        from runlab.importers.mlrunner import MLRunnerFormat

        return MLRunnerFormat()
    if format == "pymake":
        from runlab.importers.pymake import PymakeFormat, name_pattern

        if name_format is not None:
            name_pattern(name_format)  # a bad template is one error now, not one per file
        return PymakeFormat(root, name_format=name_format, allow_pickle=allow_pickle)
    if format == "alchemie":
        from runlab.importers.alchemie import AlchemieFormat

        return AlchemieFormat()
    raise UsageError(f"--format {format!r}: use one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "Action",
    "Change",
    "ImportReport",
    "Skipped",
    "SourceWarning",
    "import_tree",
]
