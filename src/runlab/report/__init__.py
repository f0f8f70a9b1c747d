"""Figures of runs: a metric against a parameter, and learning curves (matplotlib).

Usage::

    import runlab
    from runlab.report import plot_curves, plot_xy

    runs = runlab.load("runs")
    plot_xy(runs, x="params.C", y="metrics.acc", hue="params.kernel", over="params.seed",
            logx=True, path="acc.png")
    plot_curves(runs, y="loss", hue="params.lr", path="curves.svg")

Modules: ``plots`` draws (reading runs through :mod:`runlab.query` and
:class:`~runlab.record.reader.RunReader`, aggregating with pandas), ``figure`` holds
what every figure shares (formats, labels, colours, legends, atomic saving).
matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from runlab.report.figure import FORMATS
from runlab.report.plots import plot_curves, plot_xy

__all__ = ["FORMATS", "plot_curves", "plot_xy"]
