"""Metric points as JSONL lines: fast for plain numbers, exact for everything else.

A point is ``{"step": s, "time": t, key: value, ...}``, ``time`` in epoch seconds to
the millisecond (as MLflow keeps it): points logged within one millisecond share one
formatted time, which at 500,000 points a second saves most of the formatting. Most
points hold a few finite floats and ints, so each set of keys gets a ``%``-format
built once, and a point is one string formatting: ``repr`` of a float or int is valid
JSON and round-trips exactly. Anything else (NaN, infinities, strings, lists, numpy
values) goes through ``json.dumps``, as Python's ``json`` reads it back (NaN stays NaN).
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
        fmt = '{"step": %d, "time": %s' + fields + "}"
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


def _time_text(ts: float) -> str:
    return f"{ts:.3f}"


def format_point(step: Any, ts: float, values: dict[str, Any]) -> str:
    """One JSONL line (without its newline) for a logged point."""
    vals = tuple(values.values())
    if _plain(step, vals):
        return _format_for(tuple(values)) % (step, _time_text(ts), *vals)
    return _exact(step, ts, values)


def _exact(step: Any, ts: float, values: dict[str, Any]) -> str:
    try:
        body = json.dumps(values)
    except TypeError:
        body = json.dumps(to_jsonable(values))
    head = f'{{"step": {json.dumps(to_jsonable(step))}, "time": {_time_text(ts)}'
    return head + (", " + body[1:] if values else "}")


def format_points(points: Iterable[Point], last: dict[str, Any]) -> str:
    """The JSONL text of ``points``; ``last`` is updated with each key's latest value.

    The loop keeps the last key set's format and the last millisecond's text, because
    consecutive points almost always share both; it is written out flat because at half
    a million points a second every function call in it shows.
    """
    lines: list[str] = []
    append = lines.append
    keys: tuple[str, ...] | None = None
    fmt = ""
    stamp = -1
    stamp_text = ""
    latest: dict[str, Any] | None = None  # the newest point of the current key set
    for step, ts, values in points:
        vals = tuple(values.values())
        plain = type(step) is int
        if plain:
            for value in vals:
                kind = type(value)
                if kind is float:
                    if value - value != 0.0:  # NaN and infinities
                        plain = False
                        break
                elif kind is not int:
                    plain = False
                    break
        if plain:
            point_keys = tuple(values)
            if point_keys != keys:
                if latest is not None:
                    last.update(latest)
                keys, fmt = point_keys, _format_for(point_keys)
            latest = values
            ms = int(ts * 1000)
            if ms != stamp:
                stamp, stamp_text = ms, _time_text(ts)
            append(fmt % (step, stamp_text, *vals))
        else:
            if latest is not None:
                last.update(latest)
                latest, keys = None, None
            append(_exact(step, ts, values))
            last.update(values)
    if latest is not None:
        last.update(latest)
    return "\n".join(lines) + "\n" if lines else ""
