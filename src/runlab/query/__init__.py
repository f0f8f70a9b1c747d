"""Query the runs of a store: filter, shape and export the table of runs.

Usage::

    import runlab

    runs = runlab.load("runs")                       # refreshes the index first
    runs.df()                                        # pandas, dtypes from the column types
    runs.where("lr > 0.01 and status == 'completed'").table().sort(["acc"]).tail(3)
    runs[7].summary, runs["best"].metrics()          # one run's folder, read back

Modules: ``expr`` compiles ``--where`` expressions to SQL, ``types`` decides column
types, ``table`` holds a typed table in plain Python with its verbs, ``view`` is what
``runlab ls`` shows, ``frame`` makes DataFrames, ``export`` writes files. pandas and
SQLAlchemy are imported inside the functions that use them, so ``import runlab`` stays
cheap.
"""

from __future__ import annotations

from runlab.query.runs import Runs, load
from runlab.query.table import Column, RunTable
from runlab.query.types import DType
from runlab.query.view import View

__all__ = ["Column", "DType", "RunTable", "Runs", "View", "load"]
