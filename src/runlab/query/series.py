"""The step series of many runs as one long DataFrame: ``runs.series("loss")``.

Columns: ``id``, ``step``, ``time`` (epoch seconds, as ``metrics.jsonl`` has it),
``value``, then each param asked for (``params=["params.lr"]``), repeated on every point
of its run. Rows: runs in row order, each run's points in file order; points that do
not hold the key are left out.

Speed: a run's whole ``metrics.jsonl`` is parsed with one ``json.loads`` of its lines
joined into a JSON array (tens of times faster than a call per line), after a plain
substring test skips files that never mention the key. A file that does not parse so
(a torn last line after a crash, a damaged line) is read line by line, skipping bad
lines with a warning, as :func:`runlab.record.files.iter_jsonl` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.query.table import Column
from runlab.record.files import iter_jsonl

if TYPE_CHECKING:
    import pandas as pd

_STEP = itemgetter("step")
_TIME = itemgetter("time")


def read_points(path: Path, key: str) -> tuple[list[Any], list[Any], list[Any]]:
    """The steps, times and values of ``key`` in one ``metrics.jsonl`` (empty if missing)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [], []
    if json.dumps(key) not in text and json.dumps(key, ensure_ascii=False) not in text:
        return [], [], []
    try:
        points = json.loads("[" + text.strip().replace("\n", ",") + "]")
    except ValueError:
        points = list(iter_jsonl(path))
    try:  # every point a dict holding the key: map() walks them in C
        values = list(map(itemgetter(key), points))
        steps = list(map(_STEP, points))
        times = list(map(_TIME, points))
    except (KeyError, TypeError):
        points = [p for p in points if isinstance(p, dict) and key in p]
        values = [p[key] for p in points]
        steps = [p.get("step") for p in points]
        times = [p.get("time") for p in points]
    return steps, times, values


def series_frame(
    runs: Sequence[tuple[str, Path]],
    key: str,
    params: Sequence[Column],
    param_values: Mapping[str, Sequence[Any]],
) -> pd.DataFrame:
    """The long DataFrame of ``key`` over ``runs`` (id, metrics.jsonl path) in that order.

    ``param_values[name][k]`` is param ``name`` of the ``k``-th run.
    """
    import numpy as np
    import pandas as pd

    from runlab.query.frame import to_frame
    from runlab.query.table import RunTable

    ids: list[str] = []
    counts: list[int] = []
    steps: list[Any] = []
    times: list[Any] = []
    values: list[Any] = []
    for run_id, path in runs:
        run_steps, run_times, run_values = read_points(path, key)
        ids.append(run_id)
        counts.append(len(run_values))
        steps += run_steps
        times += run_times
        values += run_values
    repeat = np.array(counts, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "id": pd.Series(np.repeat(np.array(ids, dtype=object), repeat), dtype=_str_dtype()),
            "step": _numbers(steps, integer=True),
            "time": _numbers(times, integer=False),
            "value": _numbers(values, integer=False),
        }
    )
    if params:
        per_run = RunTable(tuple(params), tuple(tuple(param_values[c.name]) for c in params))
        extra = to_frame(per_run)
        extra = extra.loc[extra.index.repeat(repeat)].reset_index(drop=True)
        frame = pd.concat([frame, extra], axis=1)
    return frame


def _numbers(items: list[Any], *, integer: bool) -> Any:
    """A numpy array when every item is a plain number; else pandas' nullable or object."""
    import numpy as np
    import pandas as pd

    kinds = set(map(type, items))
    if integer and kinds <= {int}:
        return np.array(items, dtype=np.int64)
    if integer and kinds <= {int, type(None)}:
        return pd.array(items, dtype="Int64")
    if kinds <= {int, float, type(None)}:
        return np.array(items, dtype=np.float64)  # None becomes NaN
    return pd.Series(items, dtype=object)


def _str_dtype() -> Any:
    from runlab.query.frame import _string_dtype

    return _string_dtype()
