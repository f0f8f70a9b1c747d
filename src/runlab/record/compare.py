"""The differences between two runs: params, summary and the git state they ran at.

Values are compared by their canonical JSON (see :mod:`runlab.canonical`), so ``1``
and ``1.0`` are the same param, as they are for the config hash; ``True`` and ``1``
are not, and NaN equals NaN. Nested dicts are compared key by key under dotted
names (``optim.lr``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runlab.canonical import canonical_json
from runlab.record.reader import RunReader

GIT_KEYS = ("sha", "branch", "dirty")


class _Unset:
    """The value of a key one run does not have; shown as ``<unset>``, JSON ``null``."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Change:
    """One key whose value differs: ``a`` in the first run, ``b`` in the second."""

    key: str
    a: Any
    b: Any


@dataclass(frozen=True)
class RunDiff:
    """What differs between runs ``a`` and ``b``; keys with equal values are left out."""

    a: RunReader
    b: RunReader
    params: list[Change] = field(default_factory=list)
    summary: list[Change] = field(default_factory=list)
    git: list[Change] = field(default_factory=list)

    @property
    def sections(self) -> dict[str, list[Change]]:
        return {"params": self.params, "summary": self.summary, "git": self.git}

    def __bool__(self) -> bool:
        return any(self.sections.values())

    def as_json(self) -> dict[str, Any]:
        """JSON data: each run's id and name, then ``{section: {key: [a, b]}}`` (unset: null)."""

        def value(v: Any) -> Any:
            return None if v is UNSET else v

        data: dict[str, Any] = {
            "a": {"id": self.a.id, "name": self.a.name},
            "b": {"id": self.b.id, "name": self.b.name},
        }
        for section, changes in self.sections.items():
            data[section] = {c.key: [value(c.a), value(c.b)] for c in changes}
        return data


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return nested dicts as one level of dotted keys: ``{"o": {"lr": 1}}`` → ``{"o.lr": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Change]:
    """The keys of ``a`` and ``b`` whose values differ (or that one lacks), sorted."""
    flat_a, flat_b = flatten(a), flatten(b)
    out = []
    for key in sorted(set(flat_a) | set(flat_b)):
        va, vb = flat_a.get(key, UNSET), flat_b.get(key, UNSET)
        if va is UNSET or vb is UNSET or canonical_json({key: va}) != canonical_json({key: vb}):
            out.append(Change(key, va, vb))
    return out


def diff_runs(a: RunReader, b: RunReader) -> RunDiff:
    """Compare two runs' params, summary, and git sha, branch and dirty flag."""
    git_a = a.record.get("git") or {}
    git_b = b.record.get("git") or {}
    return RunDiff(
        a=a,
        b=b,
        params=changes(a.params, b.params),
        summary=changes(a.summary, b.summary),
        git=changes(
            {k: git_a.get(k) for k in GIT_KEYS},
            {k: git_b.get(k) for k in GIT_KEYS},
        ),
    )
