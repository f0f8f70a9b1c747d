"""Canonical form and hash of a config, so that one config has one identity everywhere.

Rules (documented because sweeps and resume depend on them):

- keys are sorted; dicts nest; tuples and lists are both JSON arrays;
- a float with an integral value equals the int (``1 == 1.0``: both hash as ``1``),
  because YAML, argparse and JSON round-trips turn one into the other freely;
- ``True`` is not ``1`` (bools stay bools), ``-0.0`` is ``0``;
- NaN and infinities hash as the strings ``"nan"``, ``"inf"``, ``"-inf"``;
- numpy scalars and arrays become their Python values; a ``pathlib.Path`` its string.

Anything else that is not JSON-serialisable is a :class:`UsageError` naming the key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from runlab.errors import UsageError


def canonical_value(value: Any, *, key: str = "") -> Any:
    """Return ``value`` as plain JSON data normalised for hashing and storage."""
    kind = type(value)
    # Exact types first: a sweep hashes every config twice, and nearly every value is one.
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return _canonical_float(value)
    if kind is dict:
        return _canonical_dict(value, key)
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _canonical_float(value)
    if isinstance(value, Mapping):
        return _canonical_dict(value, key)
    if isinstance(value, (list, tuple)):
        return [canonical_value(v, key=key) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist) and getattr(value, "ndim", 0) > 0:
        return canonical_value(tolist(), key=key)
    if callable(item):
        return canonical_value(item(), key=key)
    raise UsageError(
        f"param {key or '?'!s}: {type(value).__name__} value {value!r} is not JSON data"
    )


def _canonical_float(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return float(value)


def _canonical_dict(value: Mapping[Any, Any], key: str) -> dict[str, Any]:
    out = {}
    for k, v in value.items():
        kind = type(v)
        if kind is str or kind is int or kind is bool or v is None:
            out[k if type(k) is str else str(k)] = v
        else:
            out[str(k)] = canonical_value(v, key=f"{key}.{k}" if key else str(k))
    return out


def json_encoder(
    *,
    sort_keys: bool = False,
    separators: tuple[str, str] = (", ", ": "),
    default: Callable[[Any], Any] | None = None,
) -> Callable[[Any], str]:
    """Return a function giving what ``json.dumps(value, ...)`` gives, with these options.

    ``json.dumps`` and ``JSONEncoder.encode`` build a new C encoder on every call, which
    costs more than encoding a small dict, so this builds it once: for the thousands of
    small values a sweep hashes or prints. (``ensure_ascii`` and ``allow_nan`` as in
    ``json.dumps``; no ``indent``, which only the slow pure-Python encoder does.)
    """
    item_separator, key_separator = separators
    make = getattr(json.encoder, "c_make_encoder", None)
    fallback = json.JSONEncoder(sort_keys=sort_keys, separators=separators, default=default)
    if make is None:  # an interpreter without the C accelerator
        return fallback.encode
    encode = make(
        None,  # no circular-reference check: the values are trees
        fallback.default,  # the given default, else raise TypeError as json.dumps does
        json.encoder.encode_basestring_ascii,
        None,  # no indent
        key_separator,
        item_separator,
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan
    )
    return lambda value: "".join(encode(value, 0))


# The text must never change: stored run keys are hashes of it.
_CANONICAL_TEXT = json_encoder(sort_keys=True, separators=(",", ":"))


def canonical_json(config: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a config (sorted keys, normalised numbers)."""
    return _CANONICAL_TEXT(_canonical_dict(config, ""))


def hash_text(text: str) -> str:
    """Return the 16-hex-digit hash of a canonical JSON text (see :func:`config_hash`)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_hash(config: Mapping[str, Any]) -> str:
    """Return the 16-hex-digit identity of a config; equal configs give equal hashes."""
    return hash_text(canonical_json(config))


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as JSON data for storage, keeping floats as floats.

    Unlike :func:`canonical_value` this keeps ``1.0`` a float and NaN a float, so a
    stored params or summary file reads back as it was given.
    """
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy scalars and arrays alike
        return to_jsonable(tolist())
    return repr(value)
