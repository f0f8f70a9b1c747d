"""The meticulous command's table operations on the experiments DataFrame, in pandas.

:func:`shape` applies them in meticulous's order: filter (``DataFrame.query``), group
(numeric columns get ``_mean`` and ``_std``, others ``_count``), sort, select columns,
keep the last rows. :func:`export` writes the result in the format the file's suffix
names. Every user error is a :class:`~runlab.errors.UsageError` naming the option.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.query import Column, DType, RunTable
from runlab.record.files import replacing

if TYPE_CHECKING:
    import pandas as pd

PICKLE_SUFFIX = ".pd"


def shape(
    frame: pd.DataFrame,
    *,
    filter: str | None = None,
    groupby: Sequence[str] = (),
    sort: Sequence[str] = (),
    sort_reverse: bool = False,
    columns: Sequence[str] = (),
    tail: int | None = None,
) -> pd.DataFrame:
    """The experiments table after each given operation, applied in meticulous's order."""
    if filter:
        frame = filter_rows(frame, filter)
    if groupby:
        frame = group(frame, groupby)
    if sort:
        frame = sort_rows(frame, sort, reverse=sort_reverse)
    if columns:
        frame = select(frame, columns)
    if tail is not None:
        if tail < 0:
            raise UsageError(f"--tail {tail}: give a count of rows, 0 or more")
        frame = frame.tail(tail)
    return frame


def filter_rows(frame: pd.DataFrame, expression: str) -> pd.DataFrame:
    """The rows for which the pandas query ``expression`` holds (index levels usable too)."""
    try:
        return frame.query(expression)
    except (SyntaxError, NameError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"--filter {expression!r}: {_reason(exc)}") from None


def group(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per distinct value of ``keys`` (the new index), aggregating every other column.

    Numeric columns (not bools) become ``<name>_mean`` and ``<name>_std`` (sample
    standard deviation: missing for a group of one); others become ``<name>_count``
    (values present). The index levels ``sha`` and ``expid`` are columns like the others,
    so ``expid_count`` is the size of each group. Groups with a missing key are kept.
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    flat = _flat(frame)
    _check_names("--groupby", keys, list(flat.columns))
    try:
        groups = flat.groupby(list(keys), dropna=False, sort=True)
        parts: dict[str, pd.Series[Any]] = {}
        for name in flat.columns:
            if name in keys:
                continue
            values = flat[name]
            if is_numeric_dtype(values) and not is_bool_dtype(values):
                parts[f"{name}_mean"] = groups[name].mean()
                parts[f"{name}_std"] = groups[name].std()
            else:
                parts[f"{name}_count"] = groups[name].count()
        if not parts:
            return pd.DataFrame(index=groups.size().index)
        return pd.DataFrame(parts)
    except TypeError as exc:  # a key column holding lists or dicts
        raise UsageError(f"--groupby {','.join(keys)}: {_reason(exc)}") from None


def sort_rows(frame: pd.DataFrame, keys: Sequence[str], *, reverse: bool = False) -> pd.DataFrame:
    """Rows ordered by ``keys``, largest first as meticulous did; ``reverse``: smallest first.

    Missing values come last either way; rows that tie keep their order.
    """
    _check_names("--sort", keys, [*frame.index.names, *frame.columns])
    try:
        return frame.sort_values(
            by=list(keys), ascending=reverse, kind="stable", na_position="last"
        )
    except TypeError as exc:  # values of several types in one column
        raise UsageError(f"--sort {','.join(keys)}: {_reason(exc)}") from None


def select(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Only the columns ``names``, in that order; index levels named there stay the index."""
    levels = [n for n in frame.index.names if n is not None]
    _check_names("--columns", names, [*levels, *frame.columns])
    chosen = list(dict.fromkeys(n for n in names if n not in levels))
    return frame[chosen]


def export(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` in the format its suffix names; return ``path``.

    ``.pd`` pickles the DataFrame (index included: ``pd.read_pickle`` gives it back);
    the others (``.csv``, ``.json``, ``.md``, ``.tex``, and runlab's ``.html`` and
    ``.parquet``) write the table with the index levels as its first columns, through
    runlab's writers: whole files or nothing, LaTeX specials escaped.
    """
    from runlab.query.export import export as write

    path = Path(path)
    if check_export(path) == PICKLE_SUFFIX:
        try:
            with replacing(path) as tmp:
                frame.to_pickle(tmp)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path
    return write(to_table(frame), path)


def check_export(path: Path) -> str:
    """Return the suffix of ``path`` if :func:`export` can write it, else raise UsageError."""
    from runlab.query.export import WRITERS

    suffix = path.suffix.lower()
    if suffix != PICKLE_SUFFIX and suffix not in WRITERS:
        known = ", ".join(sorted([PICKLE_SUFFIX, *WRITERS]))
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise UsageError(f"cannot export to {path}: {got}; use one of {known}")
    return suffix


def to_table(frame: pd.DataFrame) -> RunTable:
    """``frame`` as a runlab :class:`~runlab.query.RunTable`: index levels first, typed columns."""
    flat = _flat(frame)
    names = [str(name) for name in flat.columns]
    data = [tuple(_plain(v) for v in flat[name].tolist()) for name in flat.columns]
    return _typed(names, data)


def table_of(names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> RunTable:
    """A typed table of ``rows`` (dicts; a missing key is missing) with columns ``names``."""
    return _typed(names, [tuple(row.get(name) for row in rows) for name in names])


def _typed(names: Sequence[str], data: Sequence[tuple[Any, ...]]) -> RunTable:
    columns = []
    for name, values in zip(names, data, strict=True):
        kind = "params" if name.startswith("args_") else "run"
        kind = "metrics" if name.startswith("summary_") else kind
        columns.append(Column(name, kind, _dtype(values)))
    return RunTable(tuple(columns), tuple(data))


def format_frame(frame: pd.DataFrame) -> str:
    """The table as the terminal shows it (long cells cut, no line wrapping)."""
    return str(frame.to_string(max_colwidth=60))


# -- internals ------------------------------------------------------------------------------
def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its named index levels as columns (a plain RangeIndex is dropped)."""
    if all(n is None for n in frame.index.names):
        return frame.reset_index(drop=True)
    return frame.reset_index()


def _check_names(option: str, names: Sequence[str], known: Sequence[Any]) -> None:
    known_names = [str(k) for k in known if k is not None]
    for name in names:
        if name not in known_names:
            # `k` for `args_k`: the prefix is the usual slip, and too short for difflib.
            prefixed = [k for k in known_names if k.endswith(f"_{name}")]
            close = list(dict.fromkeys([*prefixed, *difflib.get_close_matches(name, known_names)]))
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "columns: " + ", ".join(known_names)
            )
            raise UsageError(f"{option}: no column {name!r}; {hint}")


def _plain(value: Any) -> Any:
    """A cell as plain Python: NaN and pandas' NA become None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _dtype(values: tuple[Any, ...]) -> DType:
    types = {type(v) for v in values if v is not None}
    if not types:
        return DType.EMPTY
    if types == {bool}:
        return DType.BOOL
    if types == {int}:
        return DType.INT
    if types <= {int, float}:
        return DType.FLOAT
    if types == {str}:
        return DType.STR
    return DType.MIXED


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
