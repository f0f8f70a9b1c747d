"""runlab: design, launch, record and query machine-learning experiments.

Usage::

    import runlab
    with runlab.start({"lr": 0.1, "seed": 1}, store="runs") as run:
        for step in range(100):
            run.log(step=step, loss=1 / (step + 1))
        run.summary(acc=0.93)

    runs = runlab.load("runs")
    runs.df()

Only light modules are imported here: pandas and SQLAlchemy load on first use, and
``load`` and ``import_tree`` (the query and importer packages) on first access, so a
script that only records runs, and every slot worker, start without them.
"""

from __future__ import annotations

import typing

from runlab.errors import (
    ColumnNotFound,
    DirtyRepository,
    ExpressionError,
    RunConflict,
    RunlabError,
    RunNotFound,
    StoreError,
    UsageError,
)
from runlab.record.parsers import parser
from runlab.record.run import Run
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tracking import add_argument_group, current, from_parser, start

if typing.TYPE_CHECKING:
    from runlab.importers import import_tree
    from runlab.query import load

__version__ = "0.1.0.dev0"

_LAZY = {"import_tree": "runlab.importers", "load": "runlab.query"}


def __getattr__(name: str) -> typing.Any:
    """Import a lazily exported name on first access (PEP 562) and keep it."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runlab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ColumnNotFound",
    "DirtyRepository",
    "ExpressionError",
    "Run",
    "RunConflict",
    "RunNotFound",
    "RunStatus",
    "RunlabError",
    "Store",
    "StoreError",
    "UsageError",
    "__version__",
    "add_argument_group",
    "current",
    "from_parser",
    "import_tree",
    "load",
    "parser",
    "start",
]
