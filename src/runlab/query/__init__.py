"""Query the runs of a store: filter, shape, analyse and export the table of runs.

Usage::

    import runlab

    runs = runlab.load("runs")                       # refreshes the index first
    runs.df()                                        # pandas, dtypes from the column types
    runs.select("name", "C", kernel=["rbf", "poly"]) # named tuples, naklar-style
    runs.where("lr > 0.01 and status == 'completed'").table().sort(["acc"]).tail(3)
    runs.search("resnet baseline").varying()         # full-text search; what differs
    runs.groupby(["lr"], over="seed").agg("acc")     # mean, std, sem, n, 95 % interval
    runs.pivot(rows="kernel", cols="C", value="acc", over="seed").export(Path("t.tex"))
    runs.series("loss", params=["lr"])               # every run's step series, long
    runs[7].summary, runs["best"].metrics()          # one run's folder, read back

Modules: ``runs`` (the selection), ``select`` (named tuples, keyword filters),
``extras`` (``dir``, computed columns, path translation), ``expr`` (``--where``
expressions), ``search`` (full text), ``types`` (column types), ``table`` (a typed table
in plain Python), ``analysis`` and ``stats`` (groups, confidence intervals, best),
``pivot`` (pymake's tables), ``series`` (step series), ``view`` (what ``runlab ls``
shows), ``frame`` (DataFrames), ``export`` (files), ``annotate`` (tags and notes).
pandas and SQLAlchemy are imported inside the functions that use them, so ``import
runlab`` stays cheap.
"""

from __future__ import annotations

from runlab.query.analysis import Grouping, Mode, Stat
from runlab.query.pivot import Pivot, Reduce
from runlab.query.runs import Runs, load
from runlab.query.table import Column, RunTable
from runlab.query.types import DType
from runlab.query.view import View

__all__ = [
    "Column",
    "DType",
    "Grouping",
    "Mode",
    "Pivot",
    "Reduce",
    "RunTable",
    "Runs",
    "Stat",
    "View",
    "load",
]
