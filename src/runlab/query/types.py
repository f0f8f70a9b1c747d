"""The type of each runs-table column, decided from every value the index has seen.

The index's dynamic columns are untyped (SQLite keeps each value as given) and its
``columns`` table records which of ``bool``, ``int``, ``float``, ``str`` and ``json``
each column has held. A column's :class:`DType` follows from that set, never from the
first value a reader happens to meet:

    ======================  ===========  ==================================
    types seen              DType        pandas dtype (``Runs.df()``)
    ======================  ===========  ==================================
    bool                    BOOL         ``boolean``
    int                     INT          ``Int64``
    float, or int + float   FLOAT        ``float64``
    str                     STR          pandas' string dtype (``str``)
    json                    JSON         ``object`` holding lists / dicts
    anything else           MIXED        ``object``, each value its own type
    nothing (all missing)   EMPTY        ``object`` of None
    ======================  ===========  ==================================
"""

from __future__ import annotations

import enum


class DType(str, enum.Enum):
    """What the values of one column are; decides conversion, sorting and aggregation."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STR = "str"
    JSON = "json"
    MIXED = "mixed"
    DATETIME = "datetime"
    EMPTY = "empty"

    def __str__(self) -> str:
        return self.value

    @property
    def numeric(self) -> bool:
        """True for the types whose groups get a mean and a standard deviation."""
        return self in (DType.INT, DType.FLOAT)


FIXED_DTYPES: dict[str, DType] = {
    "id": DType.STR,
    "name": DType.STR,
    "status": DType.STR,
    "start": DType.DATETIME,
    "end": DType.DATETIME,
    "duration": DType.FLOAT,
    "exit_code": DType.INT,
    "git_sha": DType.STR,
    "git_dirty": DType.BOOL,
    "host": DType.STR,
    "description": DType.STR,
    "message": DType.STR,
    "attempt": DType.INT,
    "sweep": DType.STR,
}
"""The dtype of each fixed column of the index, in ``FIXED_COLUMNS`` order (a test checks)."""

_SINGLE = {
    frozenset({"bool"}): DType.BOOL,
    frozenset({"int"}): DType.INT,
    frozenset({"float"}): DType.FLOAT,
    frozenset({"int", "float"}): DType.FLOAT,
    frozenset({"str"}): DType.STR,
    frozenset({"json"}): DType.JSON,
    frozenset(): DType.EMPTY,
}


def dtype_of(types: frozenset[str]) -> DType:
    """The DType of a dynamic column that has held values of ``types``."""
    return _SINGLE.get(frozenset(types), DType.MIXED)
