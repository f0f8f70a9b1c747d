"""Runs as the numbers a plot draws: column values, groups, means and stds over runs.

Pure data, no drawing: the runs table (``Runs.df()``) and each run's step series
(``RunReader.metrics()``) become plain lists and small pandas frames, aggregated here
with pandas. Values keep their Python type so that groups and legends sort the way a
person expects: booleans, then numbers by value, then text, then missing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.report.figure import PREFIXES

if TYPE_CHECKING:
    import pandas as pd

    from runlab.record.reader import RunReader


def column_names(frame: pd.DataFrame) -> list[str]:
    """The columns, params/metrics/tags first: an unknown-column error lists the first ones."""
    names = [str(c) for c in frame.columns]
    return sorted(names, key=lambda name: not name.startswith(PREFIXES))


def is_number(value: Any) -> bool:
    """True for an int or a float; a bool is a category, not a number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def all_numbers(values: Any) -> bool:
    """True when every value present is a number: such a hue gets an ordered colour map."""
    return all(is_number(v) for v in values if v is not None)


def present(value: Any) -> bool:
    """False for None and NaN."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def is_numeric(series: pd.Series[Any]) -> bool:
    """True when every value present is a number (booleans are categories, not numbers)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    values = [v for v in series.tolist() if v is not pd.NA and present(v)]
    return bool(values) and all(is_number(v) for v in values)


def as_numbers(series: pd.Series[Any], column: str) -> list[float]:
    """The values of a numeric column as floats, NaN where missing; a UsageError otherwise."""
    import pandas as pd

    if not is_numeric(series):
        if not series.notna().any():
            return [math.nan] * len(series)
        raise UsageError(f"{column} is not numeric; only numbers can go on this axis")
    return [float(v) if present(v) and v is not pd.NA else math.nan for v in series.tolist()]


def as_keys(series: pd.Series[Any]) -> list[Any]:
    """The values of a column as hashable Python values, None where missing."""
    import pandas as pd

    out: list[Any] = []
    for value in series.tolist():
        if isinstance(value, (list, dict)):
            out.append(json.dumps(value, sort_keys=True))
        elif value is None or value is pd.NA or not present(value):
            out.append(None)
        else:
            out.append(value)
    return out


def in_order(values: Sequence[Any]) -> list[Any]:
    """The distinct values: booleans, then numbers by value, then the rest as text, then None."""
    distinct = list(dict.fromkeys(values))
    flags = sorted(v for v in distinct if isinstance(v, bool))
    numbers = sorted(v for v in distinct if is_number(v))
    rest = sorted(
        (v for v in distinct if v is not None and not isinstance(v, (bool, int, float))), key=str
    )
    return [*flags, *numbers, *rest, *([None] if None in distinct else [])]


def group_rows(keys: Sequence[Any]) -> list[tuple[Any, list[int]]]:
    """The row positions of each distinct key, keys in :func:`in_order` order."""
    rows: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        rows.setdefault(key, []).append(i)
    return [(key, rows[key]) for key in in_order(keys)]


def mean_std(part: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count of ``y`` over the ``over`` values at each ``x``, by ``x``."""
    per_value = part.groupby(["x", "over"], dropna=False, sort=True)["y"].mean()
    return per_value.groupby(level="x").agg(["mean", "std", "count"]).reset_index()


def read_curve(reader: RunReader, *, x: str, y: str, logged: set[str]) -> pd.DataFrame | None:
    """One run's ``x``, ``y`` and ``step`` columns as floats, or None when it lacks one."""
    import pandas as pd

    metrics = reader.metrics()
    logged.update(str(c) for c in metrics.columns)
    ykey = y_key(y, metrics.columns)
    if ykey is None or x not in metrics.columns or "step" not in metrics.columns:
        return None
    xs = pd.to_numeric(metrics[x], errors="coerce")
    if x == "time":
        xs = xs - xs.min()  # seconds since the first logged point
    curve = pd.DataFrame(
        {
            "step": pd.to_numeric(metrics["step"], errors="coerce"),
            "x": xs,
            "y": pd.to_numeric(metrics[ykey], errors="coerce"),
        }
    ).dropna(subset=["x", "y"])
    if curve.empty:
        return None
    curve.attrs["y"] = ykey
    return curve.sort_values("x", kind="stable")


def y_key(y: str, columns: Any) -> str | None:
    """The logged key ``y`` names: itself, or without its ``metrics.`` prefix."""
    names = {str(c) for c in columns}
    for key in (y, y.removeprefix("metrics.")):
        if key in names and key not in ("step", "time"):
            return key
    return None


def nothing_logged(x: str, y: str, logged: set[str]) -> str:
    """The one-line reason no run gave a curve of ``y`` against ``x``."""
    keys = sorted(logged - {"step", "time"})
    shown = ", ".join(keys[:10]) + (", …" if len(keys) > 10 else "")
    if y_key(y, logged) is None:
        return f"no run logged {y!r}" + (f" (logged: {shown})" if keys else " (nothing logged)")
    if x not in logged:
        return f"no run logged {x!r} to plot against (logged: step, time, {shown})"
    return f"no run has values of both {x!r} and {y!r}"


def curve_stats(curves: list[pd.DataFrame], *, by_step: bool) -> pd.DataFrame:
    """Mean and std of ``y`` over runs at each step (``by_step``) or each ``x`` value."""
    import pandas as pd

    joined = pd.concat(curves, ignore_index=True)
    joined["key"] = joined["step"] if by_step else joined["x"]
    stats = joined.groupby("key", sort=True).agg(
        x=("x", "mean"), mean=("y", "mean"), std=("y", "std")
    )
    return stats.reset_index(drop=True)


def check_log(log: bool, values: Sequence[Any], column: str, axis: str, *, numeric: bool) -> None:
    """Refuse a log scale on ``axis`` for text or for values <= 0 (a UsageError)."""
    if not log:
        return
    if not numeric:
        raise UsageError(f"log {axis}: {column} is not numeric")
    low = min((v for v in values if present(v)), default=1.0)
    if low <= 0:
        raise UsageError(f"log {axis}: {column} has values <= 0 (smallest {low:g})")
