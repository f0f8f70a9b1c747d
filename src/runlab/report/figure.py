"""What every runlab figure shares: output formats, axis labels, colours, legends, saving.

matplotlib is imported inside the functions (``import runlab`` and ``runlab --help``
stay cheap), and only its object-oriented API is used: a bare ``Figure``, no pyplot.
So nothing depends on a display or on the user's backend (headless servers, cluster
nodes), and no global list of open figures keeps them alive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.record.files import replacing

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""The image formats a figure is written in, by file suffix."""

MANY_SERIES = 6  # more series than this and the legend moves outside the axes
LEGEND_ROWS = 18  # a legend outside the axes gets another column past this many rows
SIZE = (6.4, 4.4)  # inches: readable at 100 % in a paper column and on a screen
PREFIXES = ("params.", "metrics.", "tags.")
UNITS = {"duration": "s", "time": "s"}  # units of the columns runlab itself fills in

# Text stays text in SVG (searchable, editable) and PDF fonts stay editable (TrueType);
# a fixed hash salt and no dates make the same figure the same bytes on every save.
_SAVE_RC: Any = {"svg.fonttype": "none", "svg.hashsalt": "runlab", "pdf.fonttype": 42}
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}


def image_format(path: Path) -> str:
    """The format ``path``'s suffix names (``png``, ``svg``, ``pdf``); a UsageError else.

    Also refuses a path whose folder does not exist, so that a bad ``-o`` fails before
    any drawing.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise UsageError(f"cannot write {path}: {what}; an image file ends in {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    return fmt


def short_name(column: str) -> str:
    """A column's name without its ``params.``/``metrics.``/``tags.`` prefix."""
    for prefix in PREFIXES:
        if column.startswith(prefix) and len(column) > len(prefix):
            return column[len(prefix) :]
    return column


def axis_label(column: str, *, log: bool = False) -> str:
    """An axis label: ``acc``, ``C (log)``, ``duration (s)``, ``time (s, log)``."""
    name = short_name(column)
    notes = [UNITS[column]] if column in UNITS else []
    if log:
        notes.append("log")
    return f"{name} ({', '.join(notes)})" if notes else name


def value_label(value: Any) -> str:
    """A value as a legend or tick label: ``0.01``, ``1e-05``, ``rbf``, ``(none)``."""
    if value is None:
        return "(none)"
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def new_figure() -> tuple[Figure, Axes]:
    """A figure with one axes, laid out by matplotlib's constrained layout.

    The figure draws on an Agg canvas of its own: no pyplot, no display needed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def series_styles(n: int, *, ordered: bool) -> list[dict[str, Any]]:
    """Colour (and, past the palette's size, line style) of ``n`` series.

    ``ordered`` series (numeric hue values: learning rates, C) get a sequential
    colour map, so the legend reads as a scale; others get distinct colours.
    """
    from matplotlib import colormaps

    if ordered and 2 < n <= 12:
        cmap = colormaps["viridis"]
        # Stop before viridis' last yellows: pale on white, and paler still in a band.
        return [{"color": cmap(0.88 * i / (n - 1)), "linestyle": "-"} for i in range(n)]
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    dashes = ["-", "--", ":", "-."]
    size = int(cmap.N)
    return [
        {"color": cmap(i % size), "linestyle": dashes[(i // size) % len(dashes)]} for i in range(n)
    ]


def place_legend(fig: Figure, ax: Axes, *, title: str | None) -> None:
    """The legend: inside the axes where it covers no data, else outside on the right.

    Many series (more than ``MANY_SERIES``) always go outside; for fewer, matplotlib's
    "best" place is tried first and kept only when no point, line or band lies under it.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles or (len(handles) == 1 and title is None):
        return
    if len(handles) <= MANY_SERIES:
        legend = ax.legend(title=title, loc="best", fontsize="small", title_fontsize="small")
        fig.draw_without_rendering()  # lays the figure out: "best" is chosen at draw time
        if not _covers_data(ax, legend.get_window_extent()):
            return
        legend.remove()
    columns = math.ceil(len(handles) / LEGEND_ROWS)
    ax.legend(
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        ncols=columns,
        fontsize="small",
        title_fontsize="small",
        frameon=False,
    )
    # Widen the figure rather than squeeze the axes to make room for the legend.
    longest = max(len(label) for label in labels)
    fig.set_figwidth(fig.get_figwidth() + columns * (0.6 + 0.07 * longest))


def _covers_data(ax: Axes, box: Bbox) -> bool:
    """True when a drawn point, line or band of ``ax`` lies under ``box`` (display units)."""
    import numpy as np

    # A marker is drawn around its point: a point just outside the box still shows under it.
    near = box.padded(4 * ax.figure.dpi / 72)
    for line in ax.lines:
        path = line.get_transform().transform_path(line.get_path())
        drawn = line.get_linestyle() not in ("None", "none", "", " ")
        if drawn and path.intersects_bbox(box, filled=False):
            return True
        points = np.asarray(path.vertices, dtype=float)
        vertices = points[np.isfinite(points).all(axis=1)]
        if line.get_marker() not in (None, "None", "none", "", " ") and near.count_contains(
            vertices
        ):
            return True
    for collection in ax.collections:
        transform = collection.get_transform()
        for part in collection.get_paths():
            if transform.transform_path(part).intersects_bbox(box, filled=True):
                return True
    return False


def tick_labels(ax: Axes, labels: Sequence[str]) -> None:
    """Category names under an x axis at 0, 1, ...; slanted when they would collide."""
    ax.set_xticks(range(len(labels)), labels)
    if sum(len(t) + 2 for t in labels) > 60 or max((len(t) for t in labels), default=0) > 14:
        for text in ax.get_xticklabels():
            text.set_rotation(30)
            text.set_horizontalalignment("right")
            text.set_rotation_mode("anchor")


def save_figure(fig: Figure, path: Path, *, dpi: int) -> None:
    """Write ``fig`` to ``path`` in the format its suffix names, atomically.

    The image goes to a temporary file beside ``path`` first and replaces it whole:
    a failed save leaves nothing half-written behind.
    """
    import matplotlib

    fmt = image_format(path)
    with replacing(path) as tmp, matplotlib.rc_context(_SAVE_RC):
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_NO_DATE[fmt])
