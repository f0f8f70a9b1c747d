"""Names of expanded configs: ``name=`` templates, readable default names, and their checks.

A template is text with ``{key}`` fields (any param key, dotted keys included) and
three reserved fields: ``{_id}`` (0-based position in the expansion), ``{_sweep}``
(the sweep name given to ``expand``) and ``{_hash}`` (the config hash). A field may
carry a format spec: ``{lr:.0e}``, ``{_id:03d}``, ``{_hash:.8}``. ``{{`` and ``}}`` are
literal braces.

Without a template a config is named from the keys that vary across the expansion,
sorted by key: ``lr=0.01,model=resnet``. The one config that has none of them (for
instance the only config of a Point) is named after the sweep, or, with no sweep
name, the first 8 hex digits of its hash. If two default names still coincide (``1``
and ``"1"`` render alike), both get ``-<hash>`` appended; under a template the same
coincidence is a :class:`UsageError`, because the user chose those names.

Values render as they read: ints and strings as themselves, a float with an integral
value as an int (``1.0`` is ``1``, as in the config hash), other floats with the
fewest significant digits that keep that key's values distinct (``0.001`` and
``0.004``; ``0.0012345`` and ``0.0045678`` as ``0.001`` and ``0.005``), never more
than ``repr`` (the shortest form that round-trips, so ``1e-05`` stays ``1e-05``).
Lists join their items with ``-`` (``[64, 64]`` is ``64-64``). Every name finally
goes through :func:`~runlab.record.layout.safe_name`, so it cannot contain ``/``,
start with ``.`` or leave the store.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runlab.bulk import column_texts
from runlab.canonical import canonical_value
from runlab.errors import UsageError
from runlab.record.layout import INDEX_FILE, safe_name

RESERVED_FIELDS = ("_hash", "_id", "_sweep")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_MAX_DIGITS = 17  # 17 significant digits round-trip every double
_NAME_LEN = 200  # safe_name's limit; a hash suffix must survive truncation
# The texts safe_name returns unchanged: safe characters, no "_" at either end, no
# leading "." or "-", at most _NAME_LEN characters.
_ALREADY_SAFE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.,+=@%-]{0,198}[A-Za-z0-9.,+=@%-])?")


@dataclass(frozen=True)
class Template:
    """A parsed ``name=`` template: literal text and ``(key, format_spec)`` fields."""

    text: str
    parts: tuple[str | tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Return the template of ``text``; raise UsageError on a stray or empty brace."""
        if not isinstance(text, str) or not text:
            raise UsageError(f"name template must be a non-empty string, got {text!r}")
        parts: list[str | tuple[str, str]] = []
        pos = 0
        for match in _TOKEN.finditer(text):
            parts.append(text[pos : match.start()])
            pos = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                parts.append(token[0])
            elif match.group(1) is None:
                raise UsageError(f"name template {text!r} has an unmatched {token!r}")
            else:
                key, _, spec = match.group(1).partition(":")
                if not key:
                    raise UsageError(f"name template {text!r} has an empty field {token!r}")
                parts.append((key, spec))
        parts.append(text[pos:])
        return cls(text, tuple(part for part in parts if part != ""))

    @property
    def keys(self) -> frozenset[str]:
        """The param keys the template names (reserved fields excluded)."""
        return frozenset(
            p[0] for p in self.parts if isinstance(p, tuple) and p[0] not in RESERVED_FIELDS
        )

    def render(
        self,
        params: Mapping[str, Any],
        *,
        index: int,
        sweep: str | None,
        config_hash: str,
        digits: Mapping[str, int],
    ) -> str:
        """Return the template filled from one config (before ``safe_name``)."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            key, spec = part
            if key == "_id":
                value: Any = index
            elif key == "_hash":
                value = config_hash
            elif key == "_sweep":
                if sweep is None:
                    raise UsageError(
                        f"name template {self.text!r} uses {{_sweep}} but no sweep name was given"
                    )
                value = sweep
            elif key in params:
                value = params[key]
            else:
                raise UsageError(
                    f"name template {self.text!r} names key {key!r}, "
                    f"which config #{index} {dict(params)!r} does not have"
                )
            if not spec:
                out.append(render_value(value, digits=digits.get(key)))
                continue
            try:
                out.append(format(value, spec))
            except (ValueError, TypeError):
                raise UsageError(
                    f"name template {self.text!r}: format spec {spec!r} "
                    f"does not apply to {key}={value!r}"
                ) from None
        return "".join(out)


def folder_name(text: str) -> str:
    """Return ``safe_name(text)``, without its work when ``text`` is one already.

    Names are made for every config of a sweep, and nearly all of them need no change.
    """
    if _ALREADY_SAFE.fullmatch(text) and text != INDEX_FILE:
        return text
    return safe_name(text)


def _identity(value: Any) -> str:
    """Return text equal for two values exactly when their canonical forms are equal."""
    value = canonical_value(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        # Scalars are most values; tagging by type is faster than json.dumps and keeps
        # True apart from 1 (1.0 is already 1 after canonical_value).
        return f"{type(value).__name__}:{value!r}"
    return json.dumps(value, sort_keys=True)


def render_value(value: Any, *, digits: int | None = None) -> str:
    """Return ``value`` as name text; floats with ``digits`` significant digits at most."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is bool or value is None:
        return str(value)
    value = canonical_value(value)
    if isinstance(value, float):
        if digits is None or digits >= _MAX_DIGITS:
            return repr(value)
        short = f"{value:.{digits}g}"
        # When `digits` already round-trip, repr is the same number, written shortest.
        return repr(value) if float(short) == value else short
    if isinstance(value, list):
        return "-".join(render_value(item) for item in value) if value else "empty"
    if isinstance(value, dict):
        return "-".join(f"{k}={render_value(v)}" for k, v in sorted(value.items()))
    return str(value)


def float_digits(values: Sequence[Any]) -> int:
    """Return the fewest significant digits under which ``values`` render distinctly."""
    if not any(issubclass(kind, float) for kind in set(map(type, values))):
        return _MAX_DIGITS  # only floats have digits to choose (checked before hashing all)
    distinct = {_identity(v): canonical_value(v) for v in values}
    floats = [v for v in distinct.values() if isinstance(v, float)]
    if not floats:
        return _MAX_DIGITS
    others = {render_value(v) for v in distinct.values() if not isinstance(v, float)}
    # Not a bisection: distinctness is not monotone in the number of digits.
    for digits in range(1, _MAX_DIGITS):
        rendered = {render_value(v, digits=digits) for v in floats}
        if len(rendered) == len(floats) and not rendered & others:
            return digits
    return _MAX_DIGITS


def varying_keys(configs: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Return, sorted, the keys whose values differ across ``configs`` or that some lack."""
    seen: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    differ: set[str] = set()  # keys already seen with two values: no need to look again
    for params in configs:
        for key, value in params.items():
            counts[key] += 1
            if key not in differ:
                values = seen[key]
                values.add(_identity(value))
                if len(values) > 1:
                    differ.add(key)
    return tuple(sorted(k for k in seen if k in differ or counts[k] < len(configs)))


def assign_names(
    configs: Sequence[Mapping[str, Any]],
    hashes: Sequence[str],
    templates: Sequence[Template | None],
    *,
    sweep: str | None,
    varying: Sequence[str] | None = None,
) -> list[str]:
    """Return one unique safe name per config (see the module docstring for the rules).

    ``varying`` is ``varying_keys(configs)`` when the caller has it already.
    """
    if varying is None:
        varying = varying_keys(configs)
    keys = {key for params in configs for key in params}
    digits = {key: float_digits([p[key] for p in configs if key in p]) for key in keys}
    texts = None
    if templates.count(None) == len(templates):
        texts = _column_texts(configs, varying, digits)
    if texts is not None and all(map(_ALREADY_SAFE.fullmatch, texts)) and INDEX_FILE not in texts:
        names = texts  # what folder_name would return for each
    else:
        names = _row_names(configs, hashes, templates, sweep=sweep, varying=varying, digits=digits)
    if len(set(names)) == len(names):  # the usual case: nothing to disambiguate
        return names
    by_name: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        by_name[name].append(index)
    for name, indices in by_name.items():
        if len(indices) < 2:
            continue
        templated = [i for i in indices if templates[i] is not None]
        if templated:
            raise _collision(name, indices, configs, templates[templated[0]])
        for i in indices:
            names[i] = f"{name[: _NAME_LEN - 17]}-{hashes[i]}"
    if len(set(names)) != len(names):  # a suffixed name met a templated one: no guessing
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UsageError(f"configs share the name {twice[0]!r}; give a name template with {{_id}}")
    return names


def _row_names(
    configs: Sequence[Mapping[str, Any]],
    hashes: Sequence[str],
    templates: Sequence[Template | None],
    *,
    sweep: str | None,
    varying: Sequence[str],
    digits: Mapping[str, int],
) -> list[str]:
    """Return each config's name, made config by config (before disambiguation)."""
    names = []
    rows = zip(configs, hashes, templates, strict=True)
    for index, (params, config_hash, template) in enumerate(rows):
        if template is not None:
            text = template.render(
                params, index=index, sweep=sweep, config_hash=config_hash, digits=digits
            )
        else:
            shown = [k for k in varying if k in params]
            text = ",".join([f"{k}={render_value(params[k], digits=digits[k])}" for k in shown])
            text = text or sweep or config_hash[:8]
        names.append(folder_name(text))
    return names


def _column_texts(
    configs: Sequence[Mapping[str, Any]], varying: Sequence[str], digits: Mapping[str, int]
) -> list[str] | None:
    """Return the default names' texts made key by key, or None where that does not apply.

    Each ``key=value`` is rendered once per distinct value (see
    :func:`runlab.bulk.column_texts`), for keys whose values are all ints, all strings
    or all floats.
    """
    if not varying:
        return None
    pieces = column_texts(
        configs, varying, lambda key, v: f"{key}={render_value(v, digits=digits[key])}", _ONE_KIND
    )
    return None if pieces is None else list(map(",".join, pieces))


_ONE_KIND = (frozenset((int,)), frozenset((str,)), frozenset((float,)))


def _collision(
    name: str,
    indices: Sequence[int],
    configs: Sequence[Mapping[str, Any]],
    template: Template | None,
) -> UsageError:
    assert template is not None
    differ = varying_keys([configs[i] for i in indices])
    missing = [key for key in differ if key not in template.keys]
    first, second = indices[0], indices[1]
    head = (
        f"name template {template.text!r} gives {len(indices)} different configs "
        f"the name {name!r} (#{first} and #{second})"
    )
    if missing:
        return UsageError(f"{head}; add the varying keys {', '.join(missing)} to it, or {{_id}}")
    return UsageError(
        f"{head}; its fields render different values alike, so use a finer "
        "format spec or add {_id}"
    )
