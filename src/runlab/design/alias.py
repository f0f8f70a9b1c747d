"""mlrunner's ``alias:``: one name that sets several params, or values that set params.

Two forms, both on the first document of a sweep file::

    alias:
      lr: [encoder-lr, decoder-lr]          # lr=0.1 sets both to 0.1
      size: {small: {dim: 64}, big: {dim: 512}}   # size=big sets dim=512

An alias applies after defaults and documents merge, so ``where`` rules see the params
it set; the alias name itself is not a param of the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runlab.design.base import Candidate, Context, Design
from runlab.design.sweeptext import YamlDocument
from runlab.errors import UsageError


@dataclass(frozen=True)
class Alias:
    """One ``alias`` entry: the params a name fans out to, or the params each value sets."""

    name: str
    targets: tuple[str, ...] = ()
    cases: Mapping[Any, Mapping[str, Any]] | None = None

    def apply(self, params: dict[str, Any]) -> None:
        value = params.pop(self.name)
        if self.cases is None:
            params.update(dict.fromkeys(self.targets, value))
            return
        try:
            params.update(self.cases[value])
        except (KeyError, TypeError):
            known = ", ".join(repr(v) for v in self.cases)
            raise UsageError(
                f"alias {self.name!r}: value {value!r} is not one of {known}"
            ) from None

    @property
    def sets(self) -> set[str]:
        """Every param name this alias may set."""
        if self.cases is None:
            return set(self.targets)
        return {key for case in self.cases.values() for key in case}


def read_aliases(settings: Any, head: YamlDocument, file: str) -> dict[str, Alias]:
    out = {}
    for name, spec in (settings.alias or {}).items():
        line = head.at("alias", name)
        if isinstance(spec, list):
            if not spec or not all(spec):
                raise UsageError(f"{file}:{line}: alias {name!r}: list the params it sets")
            out[name] = Alias(name, targets=tuple(spec))
            continue
        shapes = {frozenset(case) for case in spec.values()}
        if not spec or frozenset() in shapes or len(shapes) > 1:
            raise UsageError(
                f"{file}:{line}: alias {name!r}: every value must set the same "
                "non-empty set of params"
            )
        out[name] = Alias(name, cases={k: dict(v) for k, v in spec.items()})
    return out


class Aliased(Design):
    """A design whose generated configs have their ``alias`` keys replaced (see above)."""

    _label = "Aliased"

    def __init__(self, design: Design, aliases: Mapping[str, Alias]) -> None:
        super().__init__()
        self._design, self._aliases = design, dict(aliases)

    def _candidates(self, ctx: Context) -> Iterator[Candidate]:
        for candidate in self._design._candidates(ctx):
            params = dict(candidate.params)
            for name in [key for key in params if key in self._aliases]:
                self._aliases[name].apply(params)
            yield Candidate(params, candidate.template, candidate.rules)

    def _param_repr(self) -> list[str]:
        return [repr(self._design), f"aliases={sorted(self._aliases)}"]
