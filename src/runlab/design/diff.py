"""The difference of two designs or expansions: which keys take different values.

Two designs differ in a key when the set of values the key takes across their
configs differs (compared canonically, so ``1`` equals ``1.0``), or when it is missing
from configs of one and not the other. Keys that agree are left out, so the result
reads as pymake's diff of two designs and is what ``runlab diff A B`` will print.

Usage::

    d = diff(Grid(lr=[0.1, 0.01], model="cnn"), Grid(lr=[0.1], model="mlp"))
    [k.key for k in d.keys]   # ['lr', 'model']
    d.to_json()               # plain JSON data for --json output
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runlab.canonical import canonical_value, to_jsonable
from runlab.design.base import Design
from runlab.design.expansion import Expansion
from runlab.errors import UsageError


@dataclass(frozen=True)
class KeyDiff:
    """One key whose values differ: the distinct values in A and in B, in order of appearance.

    ``a_missing``/``b_missing`` tell whether some config of that side lacks the key (a
    key only B has shows ``a == ()`` and ``a_missing``).
    """

    key: str
    a: tuple[Any, ...]
    b: tuple[Any, ...]
    a_missing: bool = False
    b_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the key's difference as JSON data."""
        return {
            "key": self.key,
            "a": to_jsonable(list(self.a)),
            "b": to_jsonable(list(self.b)),
            "a_missing": self.a_missing,
            "b_missing": self.b_missing,
        }


@dataclass(frozen=True)
class Diff:
    """The keys two designs disagree on (sorted), and the configs only one side has.

    ``only_a``/``only_b`` are the names of configs whose hash the other side lacks;
    ``common`` counts configs both have. A Diff is true when anything differs.
    """

    keys: tuple[KeyDiff, ...]
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    common: int = 0

    def __bool__(self) -> bool:
        return bool(self.keys or self.only_a or self.only_b)

    def to_json(self) -> dict[str, Any]:
        """Return the difference as JSON data."""
        return {
            "keys": [key.to_json() for key in self.keys],
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "common": self.common,
        }


def _expansion(side: Design | Expansion, label: str) -> Expansion:
    if isinstance(side, Expansion):
        return side
    if isinstance(side, Design):
        return side.expand()
    raise UsageError(f"diff: {label} must be a design or an expansion, got {type(side).__name__}")


def _values(expansion: Expansion, key: str) -> tuple[dict[str, Any], bool]:
    """Return the distinct values of ``key`` by canonical text, and whether some config lacks it."""
    values: dict[str, Any] = {}
    missing = False
    for config in expansion:
        if key not in config.params:
            missing = True
            continue
        value = config.params[key]
        values.setdefault(json.dumps(canonical_value(value), sort_keys=True), value)
    return values, missing


def diff(a: Design | Expansion, b: Design | Expansion) -> Diff:
    """Return the keys whose values differ between ``a`` and ``b`` (designs are expanded)."""
    left, right = _expansion(a, "a"), _expansion(b, "b")
    keys = sorted({k for side in (left, right) for config in side for k in config.params})
    differing = []
    for key in keys:
        a_values, a_missing = _values(left, key)
        b_values, b_missing = _values(right, key)
        if a_values.keys() != b_values.keys() or a_missing != b_missing:
            differing.append(
                KeyDiff(
                    key,
                    tuple(a_values.values()),
                    tuple(b_values.values()),
                    a_missing=a_missing,
                    b_missing=b_missing,
                )
            )
    a_hashes = {config.hash for config in left}
    b_hashes = {config.hash for config in right}
    return Diff(
        tuple(differing),
        only_a=tuple(c.name for c in left if c.hash not in b_hashes),
        only_b=tuple(c.name for c in right if c.hash not in a_hashes),
        common=len(a_hashes & b_hashes),
    )
