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
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from runlab.errors import UsageError


def canonical_value(value: Any, *, key: str = "") -> Any:
    """Return ``value`` as plain JSON data normalised for hashing and storage."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, Mapping):
        return {
            str(k): canonical_value(v, key=f"{key}.{k}" if key else str(k))
            for k, v in value.items()
        }
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


def canonical_json(config: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a config (sorted keys, normalised numbers)."""
    return json.dumps(canonical_value(dict(config)), sort_keys=True, separators=(",", ":"))


def config_hash(config: Mapping[str, Any]) -> str:
    """Return the 16-hex-digit identity of a config; equal configs give equal hashes."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


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
