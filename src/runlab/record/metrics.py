"""Metric points as JSONL lines: fast for plain numbers, exact for everything else.

A point is ``{"step": s, "time": t, key: value, ...}``, ``time`` in epoch seconds to
the millisecond (as MLflow keeps it). Most points hold a few finite floats and ints
under the same keys as the point before, so a run of such points is formatted as one
batch: its columns are pulled out of the points with C-level ``map``/``zip`` calls,
checked once per column, and written with one ``%``-format of the whole batch, where
``%r`` of a float or int is valid JSON that round-trips exactly. Anything else (NaN,
infinities, bools, strings, lists, numpy values) goes through ``json.dumps`` point by
point, as Python's ``json`` reads it back (NaN stays NaN).

Everything here runs in the flusher thread, which shares the GIL with the training
loop calling ``run.log``: each microsecond per point spent here is one the loop waits.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Any

from runlab.canonical import to_jsonable

Point = tuple[Any, float, dict[str, Any]]

_NUMBERS = frozenset((int, float))
_formats: dict[tuple[str, ...], str] = {}
_first = itemgetter(0)
_second = itemgetter(1)
_third = itemgetter(2)


def _key_tuple(point: Point) -> tuple[str, ...]:
    return tuple(point[2])


def _unzip(points: Sequence[Point]) -> tuple[list[Any], list[float], list[dict[str, Any]]]:
    """Steps, stamps and value dicts as three lists.

    Not ``zip(*points)``: that passes every point as an argument and steps 100,000
    iterators per output tuple, costing more than the formatting itself.
    """
    return list(map(_first, points)), list(map(_second, points)), list(map(_third, points))


def _format_for(keys: tuple[str, ...]) -> str:
    """The ``%``-format of one plain line (with its newline) for points with ``keys``."""
    fmt = _formats.get(keys)
    if fmt is None:
        fields = "".join(", " + json.dumps(k).replace("%", "%%") + ": %r" for k in keys)
        fmt = '{"step": %d, "time": %s' + fields + "}\n"
        if len(_formats) < 10_000:  # a run logging ever-new key sets must not grow this forever
            _formats[keys] = fmt
    return fmt


def _plain_column(column: Sequence[Any]) -> bool:
    """True when ``%r`` of every value is its JSON text: finite floats and ints, no bools."""
    kinds = set(map(type, column))
    if not kinds <= _NUMBERS:
        return False
    if float not in kinds:
        return True
    try:
        # NaN and infinities make the sum NaN or infinite; an overflow of finite values
        # does too, and merely sends the batch down the exact path.
        return math.isfinite(sum(column))
    except OverflowError:  # an int too large for a float beside floats
        return False


def _time_text(ts: float) -> str:
    return f"{ts:.3f}"


def _ms_text(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"{seconds}.{millis:03d}"


def _time_column(stamps: Sequence[float]) -> Iterable[str]:
    """The time text of each stamp, formatted once per millisecond, not once per point.

    At half a million points a second a millisecond holds hundreds of points, and a
    float format costs as much as the rest of a line. Stamps come in order (a run
    logs from one clock), so each millisecond is one ``bisect``; out of order (the
    clock was set back) every stamp is formatted on its own, as is a time before 1970.
    """
    if list(stamps) != sorted(stamps) or stamps[0] < 0:
        return map(_time_text, stamps)
    texts: list[str] = []
    counts: list[int] = []
    i, n = 0, len(stamps)
    while i < n:
        ms = round(stamps[i] * 1000)
        # max(): a rounding error at the boundary must not stop the walk.
        j = max(bisect_right(stamps, (ms + 0.5) / 1000, i), i + 1)
        texts.append(_ms_text(ms))
        counts.append(j - i)
        i = j
    return chain.from_iterable(map(repeat, texts, counts))


def format_point(step: Any, ts: float, values: dict[str, Any]) -> str:
    """One JSONL line (without its newline) for a logged point."""
    return _format_group([step], [ts], [values], tuple(values))[:-1]


def _exact(step: Any, ts: float, values: dict[str, Any]) -> str:
    try:
        body = json.dumps(values)
    except TypeError:
        body = json.dumps(to_jsonable(values))
    head = f'{{"step": {json.dumps(to_jsonable(step))}, "time": {_time_text(ts)}'
    return head + (", " + body[1:] if values else "}") + "\n"


def _format_group(
    steps: Sequence[Any],
    stamps: Sequence[float],
    dicts: Sequence[dict[str, Any]],
    keys: tuple[str, ...],
) -> str:
    """The lines of points that all hold ``keys``: one format call when all are plain."""
    columns = [list(map(itemgetter(key), dicts)) for key in keys]
    if set(map(type, steps)) == {int} and all(map(_plain_column, columns)):
        flat = tuple(chain.from_iterable(zip(steps, _time_column(stamps), *columns, strict=True)))
        return (_format_for(keys) * len(steps)) % flat
    return "".join(map(_exact, steps, stamps, dicts))


def format_points(points: Sequence[Point], last: dict[str, Any]) -> str:
    """The JSONL text of ``points``; ``last`` is updated with each key's latest value."""
    if not points:
        return ""
    steps, stamps, dicts = _unzip(points)
    keys = tuple(dicts[-1])
    # The usual batch: every point has the same keys. Equal sizes and every key found
    # prove it without building each point's key tuple (a point with the same keys in
    # another order is written in this order: the same JSON object).
    if set(map(len, dicts)) == {len(keys)}:
        try:
            text = _format_group(steps, stamps, dicts, keys)
        except KeyError:
            pass
        else:
            last.update(dicts[-1])
            return text
    parts = []
    for group_keys, group in groupby(points, key=_key_tuple):
        g_steps, g_stamps, g_dicts = _unzip(list(group))
        last.update(g_dicts[-1])
        parts.append(_format_group(g_steps, g_stamps, g_dicts, group_keys))
    return "".join(parts)
