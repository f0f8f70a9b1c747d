"""Building large structures fast: the cyclic garbage collector held off while they are
made, and texts of many mappings made once per distinct value.

Expanding and planning 100,000 configs, or reading 100,000 runs into a table, allocates
millions of small objects that all survive: every few hundred allocations start a
collection, and the older generations walk every live object again (a third of a plan's
time, 0.2 s of a 0.8 s groupby, measured). Those objects are tuples, dicts, numbers and
strings that form no reference cycles, so pausing the collector misses nothing.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the collector for the block (also a decorator: ``@paused_gc()``).

    Nested blocks, or a caller that turned the collector off, leave it as it was. On
    leaving, what the block made goes straight to the oldest generation: otherwise the
    first young collection after the block walks every object the block made, and
    later ones again.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def column_texts(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    text: Callable[[str, Any], str],
    kinds: Collection[frozenset[type]],
) -> Iterator[tuple[str, ...]] | None:
    """Per row, ``text(key, row[key])`` for each of ``keys``, each made once per value.

    A grid of 100,000 configs holds a few distinct values per key, so rendering each
    once and looking the rest up costs a fraction of rendering every value. That needs
    every row to hold every key, and each key's values all of one type in ``kinds``
    (equal values, the memo's keys, must render alike: ``True`` and ``1``, or ``0.0``
    and ``-0.0``, may not); None when they do not.
    """
    columns = []
    for key in keys:
        try:
            values = list(map(operator.itemgetter(key), rows))
        except KeyError:
            return None
        if frozenset(map(type, values)) not in kinds:
            return None
        memo = {value: text(key, value) for value in dict.fromkeys(values)}
        columns.append(map(memo.__getitem__, values))
    return zip(*columns, strict=True)
