"""What every design shares: options, the expansion pipeline, ``len``, ``+`` and ``repr``.

Expanding a design runs one pipeline, in this order, for each generated config:

1. the design's own params (one Point, a Grid's product, a Sample's draws);
2. ``defaults`` merged *under* them (an inner design's defaults beat an enclosing
   Group's), and a Group's shared params *over* them (an outer Group's beat an inner's);
3. ``repeat`` keys added, ``0..N-1``, fastest-varying (an enclosing Group's repeat
   varies faster than its member's, as if it looped around each member config);
4. ``where`` rules, the design's own and every enclosing Group's, on the final config;
5. de-duplication by :func:`~runlab.canonical.config_hash` over the whole expansion,
   keeping the first (so ``1`` and ``1.0`` are one config);
6. names, from the nearest ``name=`` template or else the varying keys.

A design is immutable once built: its inputs are copied and checked at construction,
so a bad value is reported before anything runs.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from runlab.bulk import paused_gc
from runlab.canonical import canonical_json, canonical_value, config_hash, hash_text
from runlab.design.expansion import (
    Config,
    Dropped,
    DropReason,
    Expansion,
    private_params,
)
from runlab.design.naming import RESERVED_FIELDS, Template, assign_names, varying_keys
from runlab.design.rules import Rule, compile_rules, describe_rules
from runlab.errors import UsageError


@dataclass(frozen=True)
class Context:
    """What enclosing Groups pass down to a member while expanding."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    repeats: tuple[tuple[str, int], ...] = ()
    template: Template | None = None


@dataclass(frozen=True)
class Selection:
    """The configs an expansion keeps, in order, with their templates, hashes and canonical
    texts; and each dropped config with why: the rule, or the position of the kept one
    it duplicates."""

    params: list[dict[str, Any]]
    templates: list[Template | None]
    hashes: list[str]
    texts: list[str]
    drops: list[tuple[dict[str, Any], Rule | int]]


class Candidate(NamedTuple):
    """A generated config before rules and de-duplication, with what will judge and name it.

    ``text`` is the canonical JSON text of ``params`` when the design made it along
    with them (a Grid joins each value's text, computed once per value), else empty.
    A named tuple rather than a frozen dataclass: one is made per generated config,
    and the dataclass's ``__init__`` costs three times as much.
    """

    params: dict[str, Any]
    template: Template | None
    rules: tuple[Rule, ...]
    text: str = ""


def check_key(key: Any, *, where: str) -> str:
    """Return ``key`` if it can name a param, else raise UsageError naming it."""
    if not isinstance(key, str) or not key:
        raise UsageError(f"{where}: param names must be non-empty strings, got {key!r}")
    if key in RESERVED_FIELDS:
        raise UsageError(f"{where}: param name {key!r} is reserved for name templates")
    return key


def check_value(key: str, value: Any) -> Any:
    """Return a private copy of ``value`` as plain data, or raise UsageError naming ``key``."""
    if callable(getattr(value, "tolist", None)) and getattr(value, "ndim", None) is not None:
        value = value.tolist()  # numpy scalars and arrays: params must be plain JSON data
    canonical_value(value, key=key)
    return copy.deepcopy(value)


def merge_params(
    params: Mapping[str, Any] | None, kwargs: Mapping[str, Any], *, where: str
) -> dict[str, Any]:
    """Return ``params=`` and ``**kwargs`` as one dict; ``params=`` takes reserved words."""
    merged = dict(params or {})
    for key in kwargs:
        if key in merged:
            raise UsageError(f"{where}: param {key!r} is given twice")
    merged.update(kwargs)
    for key in merged:
        check_key(key, where=where)
    return merged


class Design:
    """Base of Point, Grid, Sample and Group: a set of configurations, expanded on demand.

    Keyword options every design accepts:

    - ``defaults``: params merged under every config (a config's own value wins);
    - ``where``: a rule or list of rules (string expressions or callables taking the
      config dict); a config is kept only if every rule is true;
    - ``repeat``: add ``repeat_key`` (default ``"seed"``) with values ``0..repeat-1``;
    - ``name``: a name template such as ``"{model}-{lr}"``.
    """

    _label = "Design"

    def __init__(
        self,
        *,
        defaults: Mapping[str, Any] | None = None,
        where: Any = None,
        repeat: int | None = None,
        repeat_key: str = "seed",
        name: str | None = None,
    ) -> None:
        label = self._label
        if defaults is not None and not isinstance(defaults, Mapping):
            raise UsageError(f"{label}: defaults must be a dict, got {type(defaults).__name__}")
        self._defaults = {
            check_key(k, where=f"{label} defaults"): check_value(k, v)
            for k, v in (defaults or {}).items()
        }
        self._rules = compile_rules(where)
        check_key(repeat_key, where=f"{label} repeat_key")
        if repeat is None:
            if repeat_key != "seed":
                raise UsageError(f"{label}: repeat_key={repeat_key!r} needs repeat=N")
            self._repeat: tuple[tuple[str, int], ...] = ()
        elif isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise UsageError(f"{label}: repeat must be a positive int, got {repeat!r}")
        else:
            self._repeat = ((repeat_key, repeat),)
        self._template = None if name is None else Template.parse(name)

    # -- what each kind of design provides -------------------------------------------

    def _raw(self) -> Iterator[dict[str, Any]]:
        """Yield the design's own params, one dict per config, in the documented order."""
        raise NotImplementedError

    def _param_repr(self) -> list[str]:
        """Return the leading parts of the repr (positional args and params)."""
        raise NotImplementedError

    def _plain(self, defaults: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]] | None:
        """Return the configs of ``_raw`` with ``defaults`` merged under them, and their
        canonical texts, when the design can make both faster than the pipeline; else None."""
        return None

    # -- the pipeline ----------------------------------------------------------------

    def _inner(self, ctx: Context) -> Context:
        """Return the context of this design's configs: its options over the enclosing ones."""
        outer_keys = {key for key, _ in ctx.repeats}
        for key, _ in self._repeat:
            if key in outer_keys:
                raise UsageError(
                    f"{self._label}: repeat key {key!r} is also repeated by an enclosing "
                    "Group; pass repeat_key= to use another name"
                )
        return Context(
            defaults={**ctx.defaults, **self._defaults},
            overrides=ctx.overrides,
            rules=self._rules + ctx.rules,
            repeats=self._repeat + ctx.repeats,
            template=self._template or ctx.template,
        )

    def _candidates(self, ctx: Context) -> Iterator[Candidate]:
        """Yield every config of this design under ``ctx``, before rules and de-duplication."""
        ctx = self._inner(ctx)
        if not (ctx.overrides or ctx.repeats):
            plain = self._plain(ctx.defaults)
            if plain is not None:
                template, rules = ctx.template, ctx.rules
                for params, text in zip(*plain, strict=True):
                    yield Candidate(params, template, rules, text)
                return
        if not (ctx.overrides or ctx.defaults or ctx.repeats):
            # Nothing to merge: one dict per config instead of three.
            for raw in self._raw():
                yield Candidate(dict(raw), ctx.template, ctx.rules)
            return
        repeat_keys = [key for key, _ in ctx.repeats]
        ranges = [range(n) for _, n in ctx.repeats]
        for raw in self._raw():
            core = {**raw, **ctx.overrides}
            for key in repeat_keys:
                if key in core:
                    raise UsageError(
                        f"{self._label}: repeat key {key!r} is already a param "
                        f"(= {core[key]!r}); pass repeat_key= to use another name"
                    )
            base = {**ctx.defaults, **core}
            for combo in itertools.product(*ranges):
                params = {**base, **dict(zip(repeat_keys, combo, strict=True))}
                yield Candidate(params, ctx.template, ctx.rules)

    def _plan(self) -> Selection:
        """Return the configs kept after rules and de-duplication, and every drop."""
        ctx = self._inner(Context())
        plain = None if ctx.rules or ctx.overrides or ctx.repeats else self._plain(ctx.defaults)
        candidates: Iterable[Candidate]
        if plain is None:
            candidates = self._candidates(Context())
        else:
            params, texts = plain
            hashes = list(map(hash_text, texts))
            if len(set(hashes)) == len(hashes):  # nothing to drop: keep them all at once
                return Selection(params, [ctx.template] * len(params), hashes, texts, [])
            template, rules = itertools.repeat(ctx.template), itertools.repeat(ctx.rules)
            candidates = map(Candidate, params, template, rules, texts)
        kept = Selection([], [], [], [], [])
        position: dict[str, int] = {}
        for candidate in candidates:
            if candidate.rules:
                failing = next((r for r in candidate.rules if not r.keeps(candidate.params)), None)
                if failing is not None:
                    kept.drops.append((candidate.params, failing))
                    continue
            text = candidate.text or canonical_json(candidate.params)
            digest = hash_text(text)
            if digest in position:
                kept.drops.append((candidate.params, position[digest]))
                continue
            position[digest] = len(kept.params)
            kept.params.append(candidate.params)
            kept.templates.append(candidate.template)
            kept.hashes.append(digest)
            kept.texts.append(text)
        return kept

    def expand(self, sweep: str | None = None) -> Expansion:
        """Return the configs of this design, named, in order, and what was dropped.

        ``sweep`` fills ``{_sweep}`` in templates and names a config when nothing
        varies. Raises UsageError, before anything runs, on a rule naming a missing
        key or a template that gives two configs one name.
        """
        if sweep is not None and (not isinstance(sweep, str) or not sweep):
            raise UsageError(f"sweep name must be a non-empty string, got {sweep!r}")
        with paused_gc():
            return self._expand(sweep)

    def _expand(self, sweep: str | None) -> Expansion:
        kept = self._plan()
        params, hashes = kept.params, kept.hashes
        varying = varying_keys(params)
        names = assign_names(params, hashes, kept.templates, sweep=sweep, varying=varying)
        # Configs get private copies: Grid axes and fixed values are shared objects.
        configs = tuple(
            map(Config, map(private_params, params), names, hashes, range(len(params)), kept.texts)
        )
        dropped = []
        for generated, why in kept.drops:
            frozen = MappingProxyType(copy.deepcopy(generated))
            if isinstance(why, Rule):
                dropped.append(Dropped(frozen, config_hash(frozen), DropReason.RULE, rule=why.text))
            else:
                kept_config = configs[why]
                dropped.append(
                    Dropped(
                        frozen, kept_config.hash, DropReason.DUPLICATE, duplicate_of=kept_config
                    )
                )
        return Expansion(configs, tuple(dropped), varying, sweep)

    # -- the Python protocol ---------------------------------------------------------

    def __len__(self) -> int:
        """The number of configs that would run: after rules and de-duplication."""
        return len(self._plan().params)

    def __add__(self, other: object) -> Design:
        """Return the Group of both designs, flattening bare Groups: ``a + b + c``."""
        if not isinstance(other, Design):
            return NotImplemented
        # designs.py imports this module, so Group can only be imported at call time.
        from runlab.design.designs import Group

        return Group(*_members(self), *_members(other))

    def _options_repr(self) -> list[str]:
        parts = []
        if self._defaults:
            parts.append(f"defaults={self._defaults!r}")
        if self._rules:
            parts.append(f"where={describe_rules(self._rules)}")
        for key, n in self._repeat:
            parts.append(f"repeat={n}")
            if key != "seed":
                parts.append(f"repeat_key={key!r}")
        if self._template is not None:
            parts.append(f"name={self._template.text!r}")
        return parts

    def _is_bare(self) -> bool:
        """Whether this design has no options (a bare Group can be flattened by ``+``)."""
        return not (self._defaults or self._rules or self._repeat or self._template)

    def __repr__(self) -> str:
        return f"{self._label}({', '.join(self._param_repr() + self._options_repr())})"


def _members(design: Design) -> tuple[Design, ...]:
    """The designs ``+`` should list: a bare Group's members, else the design itself."""
    from runlab.design.designs import Group

    if isinstance(design, Group) and design._is_bare():
        return design.members
    return (design,)
