"""Command-line overrides of a sweep (``lr=0.1,0.01 model=resnet ~dropout``) and ``--only``.

An override applies on top of everything: to each config the design generates, after
the file's defaults and its documents have merged, before the where rules judge the
config and before de-duplication (the sweep's ``repeat`` seeds are added after the
overrides, so they still vary fastest). So:

- ``k=v`` sets ``k`` to the one value ``v`` in every config, adding the key where a
  config lacks it;
- ``k=a,b`` makes ``k`` an axis of every document: each generated config is repeated
  once per value, the values varying fastest (several axes combine as a grid in the
  order given, the last fastest), and configs that become equal run once (the first
  is kept, as everywhere in a design);
- ``~k`` removes ``k`` from every config; it is an error when no config has ``k``.

Values are YAML scalars, read as the sweep file reads them: ``0.1`` and ``1e-4`` are
floats, ``3`` an int, ``true`` a bool, ``resnet`` a string, ``'a,b'`` a string with a
comma, and ``[64,64]`` (or ``{a: 1}``) one list (or mapping) value; ``k=[64,64],[128]``
is an axis of two lists. A sweep is checked again after its overrides: a removed key a
command still needs is an error before anything runs.

Usage::

    sweep = apply_overrides(sweep, ["lr=0.1,0.01", "model=resnet", "~dropout"])
    chosen = select_only(sweep.expand(), "0,3,5-7")
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from runlab.design.base import Candidate, Context, Design, check_key, check_value
from runlab.design.expansion import Config, Expansion
from runlab.design.sweep import Sweep, union
from runlab.errors import UsageError

_ONLY_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class Override:
    """One parsed override: ``values`` for ``k=...`` (an axis when several), ``None`` for ``~k``."""

    text: str
    key: str
    values: tuple[Any, ...] | None

    @classmethod
    def parse(cls, text: str) -> Override:
        """Parse ``k=v``, ``k=a,b`` or ``~k``; raise UsageError quoting ``text`` otherwise."""
        if not isinstance(text, str):
            raise UsageError(f"override {text!r}: expected text like lr=0.1 or ~dropout")
        if text.startswith("~"):
            key = text[1:].strip()
            if not key or "=" in key:
                raise UsageError(f"override {text!r}: write ~key to remove a key")
            return cls(text, _key(key, text), None)
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"override {text!r}: write key=value, key=a,b (an axis) or ~key (remove)"
            )
        key = _key(key.strip(), text)
        if not raw.strip():
            raise UsageError(
                f"override {text!r}: give a value (write {key}='' for an empty string)"
            )
        values = _yaml_values(raw, text)
        return cls(text, key, tuple(check_value(key, v) for v in values))

    @property
    def is_axis(self) -> bool:
        """Whether the override gives several values, so every config repeats once per value."""
        return self.values is not None and len(self.values) > 1

    def __str__(self) -> str:
        return self.text


def _key(key: str, text: str) -> str:
    return check_key(key, where=f"override {text!r}")


def _yaml_values(raw: str, text: str) -> list[Any]:
    """Read ``a,b`` as the YAML flow sequence ``[a,b]``: one item is one value."""
    import yaml

    from runlab.design.sweeptext import yaml_loader

    try:
        loaded = yaml.load(f"[{raw}]", Loader=yaml_loader())  # yaml_loader() is a SafeLoader
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or "not a YAML value"
        raise UsageError(f"override {text!r}: cannot read the value: {problem}") from None
    if not isinstance(loaded, list) or not loaded:
        raise UsageError(f"override {text!r}: cannot read the value")
    return loaded


class Overridden(Design):
    """A design whose every generated config has overrides applied (see the module docstring).

    It passes the enclosing context straight to the design it wraps, so defaults,
    where rules, repeat and name templates behave as without it; only the params of
    each generated config change, before rules judge them and duplicates are dropped.
    """

    _label = "Overridden"

    def __init__(self, design: Design, overrides: Sequence[Override]) -> None:
        super().__init__()
        if not isinstance(design, Design):
            raise UsageError(f"Overridden: {type(design).__name__} is not a design")
        self._design = design
        self._overrides = tuple(overrides)

    def _candidates(self, ctx: Context) -> Iterator[Candidate]:
        removed = [o.key for o in self._overrides if o.values is None]
        fixed = {o.key: o.values[0] for o in self._overrides if o.values and not o.is_axis}
        axes = [o for o in self._overrides if o.is_axis]
        # An enclosing repeat (the Sweep's) is added here, after the overrides, so its
        # seeds still vary fastest, as a repeat always does.
        repeat_keys = [key for key, _ in ctx.repeats]
        ranges = [range(n) for _, n in ctx.repeats]
        inner = dataclasses.replace(ctx, repeats=())
        for candidate in self._design._candidates(inner):
            base = {k: v for k, v in candidate.params.items() if k not in removed}
            base.update(fixed)
            for combo in itertools.product(*(o.values or () for o in axes)):
                params = {**base, **{o.key: value for o, value in zip(axes, combo, strict=True)}}
                for key in repeat_keys:
                    if key in params:
                        raise UsageError(
                            f"repeat key {key!r} is already a param (= {params[key]!r})"
                        )
                for seeds in itertools.product(*ranges):
                    repeated = {**params, **dict(zip(repeat_keys, seeds, strict=True))}
                    yield Candidate(repeated, candidate.template, candidate.rules)

    def _param_repr(self) -> list[str]:
        return [repr(self._design), *(repr(o.text) for o in self._overrides)]


def apply_overrides(sweep: Sweep, overrides: Sequence[str]) -> Sweep:
    """Return a new Sweep with command-line overrides applied on top of everything.

    Each item is ``k=v``, ``k=a,b`` or ``~k`` (see the module docstring for how they
    combine with documents). The new sweep is expanded and checked before it is
    returned, so a bad override fails here, in one line naming it.

    Usage::

        apply_overrides(sweep, ["lr=0.1,0.01", "model=resnet", "~dropout"])
    """
    if isinstance(overrides, str):
        raise UsageError("apply_overrides takes a list of overrides, not one string")
    parsed = [Override.parse(text) for text in overrides]
    if not parsed:
        return sweep
    seen: dict[str, str] = {}
    for override in parsed:
        if override.key in seen:
            raise UsageError(
                f"override {override.text!r}: key {override.key!r} is already "
                f"overridden by {seen[override.key]!r}"
            )
        seen[override.key] = override.text
    _check_removals(sweep, [o for o in parsed if o.values is None])
    documents = tuple(
        dataclasses.replace(doc, design=Overridden(doc.design, parsed)) for doc in sweep.documents
    )
    design = (
        union(doc.design for doc in documents) if documents else Overridden(sweep.design, parsed)
    )
    changed = dataclasses.replace(sweep, design=design, documents=documents)
    label = " ".join(o.text for o in parsed)
    try:
        changed.check()
    except UsageError as err:
        raise UsageError(f"with overrides {label}: {err}") from None
    return changed


def _check_removals(sweep: Sweep, removals: Sequence[Override]) -> None:
    if not removals:
        return
    expansion = sweep.expand()
    keys = {key for config in expansion for key in config.params}
    keys.update(key for dropped in expansion.dropped for key in dropped.params)
    for override in removals:
        if override.key in keys:
            continue
        close = difflib.get_close_matches(override.key, sorted(keys), n=1)
        hint = f" (did you mean '~{close[0]}'?)" if close else ""
        raise UsageError(
            f"override {override.text!r}: no config has the key {override.key!r}{hint}"
        )


def select_only(expansion: Expansion, only: str) -> tuple[Config, ...]:
    """Return the configs at the plan positions ``only`` lists, in plan order (``--only``).

    ``only`` is comma-separated 0-based positions and inclusive ranges: ``"0,3"``,
    ``"2-5"``, ``"0,4-6"``. A position listed twice is chosen once; a position past the
    end is an error naming it.
    """
    if not isinstance(only, str) or not only.strip():
        raise UsageError(f"--only {only!r}: give positions like 0,3 or 2-5")
    size = len(expansion)
    chosen: set[int] = set()
    for part in only.split(","):
        match = _ONLY_PART.match(part)
        if not match:
            raise UsageError(
                f"--only {only!r}: {part.strip()!r} is not a position or a range like 2-5"
            )
        first = int(match.group(1))
        last = first if match.group(2) is None else int(match.group(2))
        if last < first:
            raise UsageError(f"--only {only!r}: range {part.strip()!r} runs backwards")
        if last >= size:
            bad = first if first >= size else last
            span = f"0-{size - 1}" if size else "none"
            raise UsageError(
                f"--only {only!r}: position {bad} is out of range; "
                f"the plan has {size} configs ({span})"
            )
        chosen.update(range(first, last + 1))
    return tuple(expansion.configs[i] for i in sorted(chosen))


__all__ = ["Overridden", "Override", "apply_overrides", "select_only"]
