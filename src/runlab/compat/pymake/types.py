"""pymake's design objects: ExpSpace, ExpTensor, ExpGroup and the ExpDesign class holding them.

They are plain containers, as in pymake, so spec files written for pymake build them
unchanged; :mod:`.expand` is what turns them into experiments:

- ``ExpSpace(**settings)`` is one experiment (a list in it is one value);
- ``ExpTensor(**settings)`` is the cartesian product of its ``list`` and ``set`` entries
  (every other entry, tuples included, is one value);
- ``ExpGroup([exp1, exp2], **shared)`` is the union of its members, ``shared`` set in each;
- a class inheriting ``ExpDesign`` (in ``spec/``) holds them as class attributes, and the
  attribute's name is the spec's name (``${name}`` in ``_format``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any


class ExpSpace(dict):  # type: ignore[type-arg]
    """A dict whose keys read as attributes: ``expe.lr`` is ``expe["lr"]``.

    It is also the settings an action sees as ``self.expe`` and the shared ``self.D``.
    """

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def copy(self) -> ExpSpace:
        return type(self)(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> ExpSpace:
        return type(self)({k: copy.deepcopy(v, memo) for k, v in self.items()})


class ExpTensor(dict):  # type: ignore[type-arg]
    """A grid of experiments: every ``list`` or ``set`` entry is an axis of the product."""


class ExpVector(list):  # type: ignore[type-arg]
    """Values given on the command line (``--key 10 20``): an axis, whatever the spec said."""


class ExpGroup(list):  # type: ignore[type-arg]
    """Heterogeneous designs run together; keyword settings are set in every member."""

    def __init__(self, members: Iterable[Any] | Mapping[str, Any] = (), **shared: Any) -> None:
        items = [members] if isinstance(members, Mapping) else list(members)
        super().__init__(copy.deepcopy(items) if shared else items)
        self.shared = dict(shared)


class ExpDesign:
    """Base class of the spec classes in ``spec/``: their design attributes are the specs.

    Attributes starting with ``_`` are not specs (``_alias`` and the like are ignored).
    """


def is_design(value: Any) -> bool:
    """Whether ``value`` is one of the design objects a spec attribute can hold."""
    return isinstance(value, (ExpSpace, ExpTensor, ExpGroup))


def kind(value: Any) -> str:
    """The pymake class name of a design object, for listings."""
    for cls in (ExpSpace, ExpTensor, ExpGroup):
        if isinstance(value, cls):
            return cls.__name__
    return type(value).__name__
