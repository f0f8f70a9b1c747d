"""The result of expanding a design: the configs to run and the configs dropped, with why.

These are immutable values so that the planner, the launcher and a CLI printing
``runlab sweep expand`` all see one list, in one order, with one name per config.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from runlab.canonical import to_jsonable


@dataclass(frozen=True, init=False)
class Config:
    """One concrete configuration of an expanded design, immutable.

    ``params`` is a read-only mapping (copy it with ``dict(config.params)`` to change
    it), ``name`` a safe run-folder name unique within its expansion, ``hash`` the
    canonical :func:`~runlab.canonical.config_hash` of ``params``, and ``index`` its
    0-based position in the expansion. ``canonical`` is the canonical JSON text
    ``hash`` was computed from, when the expansion kept it (empty otherwise), so a
    planner can derive further hashes of the config without normalising it again.
    """

    params: Mapping[str, Any]
    name: str
    hash: str
    index: int
    canonical: str = field(default="", repr=False, compare=False)

    def __init__(
        self, params: Mapping[str, Any], name: str, hash: str, index: int, canonical: str = ""
    ) -> None:
        # An expansion makes one per config, and the generated frozen __init__ sets each
        # field through a call of object.__setattr__: four times the cost of one update.
        self.__dict__.update(params=params, name=name, hash=hash, index=index, canonical=canonical)

    def __hash__(self) -> int:
        # The generated __hash__ would hash the mappingproxy, which cannot be hashed.
        return hash((self.hash, self.name, self.index))

    def to_json(self) -> dict[str, Any]:
        """Return the config as JSON data: index, name, hash and params."""
        return {
            "index": self.index,
            "name": self.name,
            "hash": self.hash,
            "params": to_jsonable(dict(self.params)),
        }


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def private_params(params: Mapping[str, Any]) -> MappingProxyType[str, Any]:
    """Return a read-only copy of ``params`` that shares nothing mutable with them.

    Grid axes and fixed values are objects shared by many configs, so a config gets
    its own copy; a config of scalars (nearly every one) needs only a shallow one.
    """
    if _IMMUTABLE.issuperset(map(type, params.values())):
        return MappingProxyType(dict(params))
    return MappingProxyType(copy.deepcopy(dict(params)))


class DropReason(enum.Enum):
    """Why a generated config is not in an expansion."""

    RULE = "rule"  # a where rule rejected it
    DUPLICATE = "duplicate"  # an earlier config has the same canonical hash


@dataclass(frozen=True)
class Dropped:
    """A config a design generated but will not run, with the reason.

    ``rule`` is the text of the rejecting rule (for :attr:`DropReason.RULE`);
    ``duplicate_of`` the kept config with the same hash (for :attr:`DropReason.DUPLICATE`).
    """

    params: Mapping[str, Any]
    hash: str
    reason: DropReason
    rule: str | None = None
    duplicate_of: Config | None = None

    def __hash__(self) -> int:
        return hash((self.hash, self.reason, self.rule))

    def __str__(self) -> str:
        if self.duplicate_of is not None:
            kept = self.duplicate_of
            why = f"duplicate of #{kept.index} {kept.name}"
        else:
            why = f"rule {self.rule!r}"
        return f"{dict(self.params)!r} dropped: {why}"

    def to_json(self) -> dict[str, Any]:
        """Return the dropped config as JSON data, naming the kept config it duplicates."""
        kept = self.duplicate_of
        return {
            "params": to_jsonable(dict(self.params)),
            "hash": self.hash,
            "reason": self.reason.value,
            "rule": self.rule,
            "duplicate_of": None if kept is None else {"index": kept.index, "name": kept.name},
        }


@dataclass(frozen=True)
class Expansion:
    """The ordered configs of a design and what was dropped on the way, immutable.

    ``varying`` lists, sorted, the keys whose values differ across ``configs`` (a key
    missing from some configs varies too): the columns worth showing in a table.

    Usage::

        expansion = Grid(lr=[0.1, 0.01]).expand("lr-sweep")
        [c.name for c in expansion]     # ['lr=0.1', 'lr=0.01']
        expansion.dropped               # () when no rule or duplicate removed anything
    """

    configs: tuple[Config, ...]
    dropped: tuple[Dropped, ...] = ()
    varying: tuple[str, ...] = ()
    sweep: str | None = None

    def __len__(self) -> int:
        return len(self.configs)

    def __iter__(self) -> Iterator[Config]:
        return iter(self.configs)

    def __getitem__(self, index: int) -> Config:
        return self.configs[index]

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the configs, in order."""
        return tuple(config.name for config in self.configs)

    def to_json(self) -> dict[str, Any]:
        """Return the expansion as JSON data, for ``sweep expand --json`` and the like."""
        return {
            "sweep": self.sweep,
            "varying": list(self.varying),
            "configs": [config.to_json() for config in self.configs],
            "dropped": [dropped.to_json() for dropped in self.dropped],
        }
