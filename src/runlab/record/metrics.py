"""Metric points as JSONL lines: fast for plain numbers, exact for everything else.

A point is ``{"step": s, "time": t, key: value, ...}``. Most points hold a few finite
floats and ints, so each set of keys gets a ``%``-format built once, and a point is
one string formatting: ``repr`` of a float or int is valid JSON and round-trips
exactly. Anything else (NaN, infinities, strings, lists, numpy values) goes through
``json.dumps``, as Python's ``json`` reads it back (NaN stays NaN).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from runlab.canonical import to_jsonable

Point = tuple[Any, float, dict[str, Any]]

_formats: dict[tuple[str, ...], str] = {}


def _format_for(keys: tuple[str, ...]) -> str:
    fmt = _formats.get(keys)
    if fmt is None:
        fields = "".join(", " + json.dumps(k).replace("%", "%%") + ": %r" for k in keys)
        fmt = '{"step": %d, "time": %.6f' + fields + "}"
        if len(_formats) < 10_000:  # a run logging ever-new key sets must not grow this forever
            _formats[keys] = fmt
    return fmt


def _plain(step: Any, values: Iterable[Any]) -> bool:
    """True when ``%r`` of every value is its JSON text (finite floats and ints, no bools)."""
    if type(step) is not int:
        return False
    for value in values:
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # NaN and infinities
                return False
        elif kind is not int:
            return False
    return True


def format_point(step: Any, ts: float, values: dict[str, Any]) -> str:
    """One JSONL line (without its newline) for a logged point."""
    vals = tuple(values.values())
    if _plain(step, vals):
        return _format_for(tuple(values)) % (step, ts, *vals)
    try:
        body = json.dumps(values)
    except TypeError:
        body = json.dumps(to_jsonable(values))
    head = json.dumps({"step": to_jsonable(step), "time": round(ts, 6)})[:-1]
    return head + (", " + body[1:] if values else "}")


def format_points(points: Iterable[Point], last: dict[str, Any]) -> str:
    """The JSONL text of ``points``; ``last`` is updated with each key's latest value."""
    lines = []
    for step, ts, values in points:
        lines.append(format_point(step, ts, values))
        last.update(values)
    return "\n".join(lines) + "\n" if lines else ""
