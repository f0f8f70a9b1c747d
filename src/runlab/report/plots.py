"""The two plots of runlab: a metric against a parameter, and learning curves.

Usage::

    import runlab
    from runlab.report import plot_curves, plot_xy

    runs = runlab.load("runs")
    plot_xy(runs, x="params.C", y="metrics.acc", hue="params.kernel", over="params.seed",
            logx=True, path="acc.png")                    # mean line, ± std band per kernel
    plot_curves(runs.where("kernel == 'rbf'"), y="loss", hue="params.C", path="loss.pdf")

Both return the matplotlib ``Figure`` (drawn on its own Agg canvas, never through
pyplot) and write it when ``path`` is given; its suffix picks the format (``.png``,
``.svg``, ``.pdf``).
Columns may be given by their short names (``C``, ``acc``) when unambiguous.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.query.expr import resolve_column
from runlab.report.figure import (
    axis_label,
    image_format,
    new_figure,
    place_legend,
    save_figure,
    series_styles,
    short_name,
    tick_labels,
    value_label,
)
from runlab.report.series import (
    all_numbers,
    as_keys,
    as_numbers,
    check_log,
    column_names,
    curve_stats,
    group_rows,
    in_order,
    is_numeric,
    mean_std,
    nothing_logged,
    present,
    read_curve,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from runlab.query.runs import Runs
    from runlab.record.reader import RunReader

DPI = 150
BAND_ALPHA = 0.18

PathLike = str | os.PathLike[str]


def plot_xy(
    runs: Runs | pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    over: str | None = None,
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    path: PathLike | None = None,
    dpi: int = DPI,
) -> Figure:
    """Plot column ``y`` against column ``x``, one series per value of ``hue``.

    With ``over`` (typically ``params.seed``) each series is the mean over the values
    of ``over`` at each ``x``, with a ± one standard deviation band (error bars when
    ``x`` is not numeric); several runs of one ``over`` value count once, by their mean.
    Without it every run is a point, joined by a line when ``x`` is numeric and no
    series has two runs at one ``x``. Runs missing ``x`` or ``y`` are left out.
    ``runs`` is a :class:`~runlab.query.Runs` or its ``df()``.

    Usage::

        plot_xy(runs, x="C", y="acc", hue="kernel", over="seed", logx=True, path="acc.svg")
    """
    import pandas as pd

    target = _target(path)
    frame = runs if isinstance(runs, pd.DataFrame) else runs.df()
    if frame.empty:
        raise UsageError("no runs to plot")
    names = column_names(frame)
    xcol, ycol = resolve_column(x, names), resolve_column(y, names)
    hcol = resolve_column(hue, names) if hue else None
    ocol = resolve_column(over, names) if over else None
    if ocol is not None and ocol in (xcol, ycol, hcol):
        raise UsageError(f"over: {ocol} is already on the plot; average over another column")

    ys = as_numbers(frame[ycol], ycol)
    numeric_x = is_numeric(frame[xcol])
    xs: list[Any] = list(as_numbers(frame[xcol], xcol)) if numeric_x else as_keys(frame[xcol])
    rows = [i for i in range(len(frame)) if present(xs[i]) and present(ys[i])]
    if not rows:
        raise UsageError(f"no run has both {xcol} and {ycol}")
    check_log(logx, [xs[i] for i in rows], xcol, "x", numeric=numeric_x)
    check_log(logy, [ys[i] for i in rows], ycol, "y", numeric=True)

    hues = as_keys(frame[hcol]) if hcol else [None] * len(frame)
    overs = as_keys(frame[ocol]) if ocol else [None] * len(frame)
    categories = [] if numeric_x else in_order([xs[i] for i in rows])
    position = {c: float(n) for n, c in enumerate(categories)}
    tidy = pd.DataFrame(
        {
            "x": [xs[i] if numeric_x else position[xs[i]] for i in rows],
            "y": [float(ys[i]) for i in rows],
            "over": [overs[i] for i in rows],
        }
    )

    fig, ax = new_figure()
    # Grouped on the Python values: a pandas column would turn [1, None] into [1.0, nan].
    groups = group_rows([hues[i] for i in rows])
    styles = series_styles(len(groups), ordered=all_numbers(k for k, _ in groups))
    connect = numeric_x and all(not tidy["x"].iloc[idx].duplicated().any() for _, idx in groups)
    counts: list[int] = []
    for n, ((key, idx), style) in enumerate(zip(groups, styles, strict=True)):
        part = tidy.iloc[idx]
        label = value_label(key) if hcol else None
        # Side by side around each category, so that series at one category never hide.
        shift = 0.0 if numeric_x else _dodge(n, len(groups))
        if ocol is not None:
            stats = mean_std(part)
            counts.extend(int(c) for c in stats["count"])
            _draw_mean(ax, stats, label, style, band=numeric_x, shift=shift)
        else:
            part = part.sort_values("x", kind="stable")
            ax.plot(
                part["x"] + shift,
                part["y"],
                marker="o",
                markersize=4,
                linewidth=1.5,
                color=style["color"],
                linestyle=style["linestyle"] if connect else "none",
                label=label,
            )

    if not numeric_x:
        tick_labels(ax, [value_label(c) for c in categories])
        ax.set_xlim(-0.5, len(categories) - 0.5)
    elif not logx and all(float(v).is_integer() for v in tidy["x"]):
        _integer_ticks(ax)
    _finish(
        fig,
        ax,
        xlabel=axis_label(xcol, log=logx),
        ylabel=axis_label(ycol, log=logy),
        logx=logx,
        logy=logy,
        title=title if title is not None else _over_title(counts, ocol),
        legend=short_name(hcol) if hcol else None,
    )
    if target is not None:
        save_figure(fig, target, dpi=dpi)
    return fig


def plot_curves(
    runs: Runs,
    *,
    y: str,
    x: str = "step",
    hue: str | None = None,
    logx: bool = False,
    logy: bool = False,
    title: str | None = None,
    path: PathLike | None = None,
    dpi: int = DPI,
) -> Figure:
    """Plot the logged series ``y`` of each run against ``x`` (``step``, ``time`` or a key).

    One line per run; with ``hue`` (a column of the runs table, e.g. ``params.lr``)
    one line per value of it: the mean over that group's runs at each step, with a
    ± one standard deviation band. ``time`` is seconds since the run's first logged
    point; under ``hue`` the runs are aligned by step. Runs that never logged ``y``
    are left out, with a warning.

    Usage::

        plot_curves(runs.where("model == 'cnn'"), y="loss", hue="lr", logy=True, path="c.png")
    """
    target = _target(path)
    readers = list(runs)
    if not readers:
        raise UsageError("no runs to plot")
    key_of: dict[str, Any] = {}
    hcol = None
    if hue:
        frame = runs.df()
        hcol = resolve_column(hue, column_names(frame))
        key_of = dict(zip(frame["id"].tolist(), as_keys(frame[hcol]), strict=True))

    curves: list[tuple[RunReader, pd.DataFrame]] = []
    logged: set[str] = set()
    for reader in readers:
        curve = read_curve(reader, x=x, y=y, logged=logged)
        if curve is not None:
            curves.append((reader, curve))
    if not curves:
        raise UsageError(nothing_logged(x, y, logged))
    if len(curves) < len(readers):
        missing = len(readers) - len(curves)
        warnings.warn(
            f"{missing} of {len(readers)} runs have no {y!r} against {x!r}; left out",
            UserWarning,
            stacklevel=2,
        )
    check_log(logx, [v for _, c in curves for v in c["x"]], x, "x", numeric=True)
    check_log(logy, [v for _, c in curves for v in c["y"]], y, "y", numeric=True)

    fig, ax = new_figure()
    sizes: list[int] = []
    if hcol is None:
        labels = _run_labels([reader for reader, _ in curves])
        styles = series_styles(len(curves), ordered=False)
        for (_, curve), label, style in zip(curves, labels, styles, strict=True):
            # A run of one logged point is a dot: a line through one point draws nothing.
            dot = "o" if len(curve) == 1 else None
            ax.plot(curve["x"], curve["y"], marker=dot, linewidth=1.5, label=label, **style)
    else:
        groups = group_rows([key_of.get(reader.id) for reader, _ in curves])
        styles = series_styles(len(groups), ordered=all_numbers(k for k, _ in groups))
        for (key, idx), style in zip(groups, styles, strict=True):
            sizes.append(len(idx))
            stats = curve_stats([curves[i][1] for i in idx], by_step=x == "time")
            dot = len(stats) == 1
            _draw_mean(ax, stats, value_label(key), style, band=True, marker=dot)
    if not logx and all(float(v).is_integer() for _, c in curves for v in c["x"]):
        _integer_ticks(ax)  # steps: no tick at 2.5
    default_title = None
    if hcol is not None:
        default_title = f"mean ± std over {_span(sizes)} runs per {short_name(hcol)}"
    _finish(
        fig,
        ax,
        xlabel=axis_label(x, log=logx),
        ylabel=axis_label(curves[0][1].attrs["y"], log=logy),
        logx=logx,
        logy=logy,
        title=title if title is not None else default_title,
        legend=short_name(hcol) if hcol else None,
    )
    if target is not None:
        save_figure(fig, target, dpi=dpi)
    return fig


# -- data ----------------------------------------------------------------------------------
def _target(path: PathLike | None) -> Path | None:
    """The output path, checked before any work so that a bad one writes nothing."""
    if path is None:
        return None
    target = Path(path)
    image_format(target)
    return target


def _run_labels(readers: Sequence[RunReader]) -> list[str]:
    """A legend label per run: its name, with its id when names repeat or are ids."""
    names = [reader.name for reader in readers]
    labels = []
    for reader, name in zip(readers, names, strict=True):
        if name == reader.id:
            labels.append(f"run {reader.id}")
        elif names.count(name) > 1:
            labels.append(f"{name} ({reader.id})")
        else:
            labels.append(name)
    return labels


def _span(counts: Sequence[int]) -> str:
    low, high = min(counts, default=0), max(counts, default=0)
    return str(low) if low == high else f"{low}–{high}"


def _over_title(counts: Sequence[int], over: str | None) -> str | None:
    if over is None:
        return None
    return f"mean ± std over {_span(counts)} values of {short_name(over)}"


def _dodge(n: int, total: int) -> float:
    width = min(0.6 / total, 0.15)
    return (n - (total - 1) / 2) * width


# -- drawing -------------------------------------------------------------------------------
def _draw_mean(
    ax: Axes,
    stats: pd.DataFrame,
    label: str | None,
    style: dict[str, Any],
    *,
    band: bool,
    shift: float = 0.0,
    marker: bool = True,
) -> None:
    """A mean line with a ± std band, or mean points with error bars (``band=False``)."""
    # One run at a point has no spread: draw it as a zero-width band, not a gap.
    std = stats["std"].fillna(0.0)
    xs = stats["x"] + shift
    if not band:
        ax.errorbar(
            xs,
            stats["mean"],
            yerr=std,
            fmt="o",
            markersize=5,
            capsize=3,
            color=style["color"],
            label=label,
        )
        return
    ax.plot(
        xs,
        stats["mean"],
        marker="o" if marker else None,
        markersize=4,
        linewidth=1.8,
        label=label,
        **style,
    )
    ax.fill_between(
        xs,
        stats["mean"] - std,
        stats["mean"] + std,
        color=style["color"],
        alpha=BAND_ALPHA,
        linewidth=0,
    )


def _integer_ticks(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def _finish(
    fig: Figure,
    ax: Axes,
    *,
    xlabel: str,
    ylabel: str,
    logx: bool,
    logy: bool,
    title: str | None,
    legend: str | None,
) -> None:
    if logx:
        ax.set_xscale("log")
    if logy:
        # A band reaching below zero is cut at the axis, not dropped.
        ax.set_yscale("log", nonpositive="clip")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize="medium")
    place_legend(fig, ax, title=legend)
