"""runlab: design, launch, record and query machine-learning experiments.

Usage::

    import runlab
    with runlab.start({"lr": 0.1, "seed": 1}, store="runs") as run:
        for step in range(100):
            run.log(step=step, loss=1 / (step + 1))
        run.summary(acc=0.93)

    runs = runlab.load("runs")
    runs.df()

Only light modules are imported here: pandas and SQLAlchemy load on first use.
"""

from __future__ import annotations

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
from runlab.importers import import_tree
from runlab.query import load
from runlab.record.parsers import parser
from runlab.record.run import Run
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tracking import add_argument_group, current, from_parser, start

__version__ = "0.1.0.dev0"

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
