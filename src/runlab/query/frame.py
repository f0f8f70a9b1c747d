"""A :class:`~runlab.query.table.RunTable` as a pandas DataFrame with the right dtypes.

Each column is built once from its Python values with the dtype its
:class:`~runlab.query.types.DType` names (never inferred by pandas from the first
rows): ``boolean``, ``Int64``, ``float64``, pandas' string dtype, ``datetime64[UTC]``,
or ``object`` for JSON and mixed columns, which keeps each value as its own type. The
frame has a plain RangeIndex; the run id is the ``id`` column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runlab.query.types import DType

if TYPE_CHECKING:
    import pandas as pd

    from runlab.query.table import RunTable


def to_frame(table: RunTable) -> pd.DataFrame:
    """The DataFrame of ``table``: one column per table column, in table order."""
    import pandas as pd

    n = len(table)
    series = {
        col.name: _series(values, col.dtype, n)
        for col, values in zip(table.columns, table.data, strict=True)
    }
    frame = pd.DataFrame(series, index=pd.RangeIndex(n))
    return frame


def _series(values: tuple[Any, ...], dtype: DType, n: int) -> pd.Series[Any]:
    import numpy as np
    import pandas as pd

    if dtype is DType.BOOL:
        return pd.Series(pd.array(list(values), dtype="boolean"))
    if dtype is DType.INT:
        return pd.Series(pd.array(list(values), dtype="Int64"))
    if dtype is DType.FLOAT:
        # None becomes NaN here, in numpy's C loop.
        return pd.Series(np.array(values, dtype="float64"))
    if dtype is DType.DATETIME:
        return pd.Series(
            pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        )
    if dtype is DType.STR and n:
        series = pd.Series(values, dtype=object)
        if series.notna().any():
            return series.astype(_string_dtype())
        return series
    # JSON, mixed and all-missing columns keep each value as the Python object it is.
    return pd.Series(values, dtype=object)


def _string_dtype() -> Any:
    """pandas' default string dtype: ``str`` on pandas 3, ``object`` before it."""
    import pandas as pd

    return pd.Series(["x"]).dtype
