"""From a spec (ExpSpace, ExpTensor, ExpGroup) to its experiments, and to a runlab design.

The order is pymake's, so ``{_id}`` numbers the same experiments as it did:

1. a group is flattened, in order, its shared settings set in each member (an outer
   group's over an inner one's);
2. each member becomes axes: an ExpSpace's values are single values, an ExpTensor's
   ``list`` and ``set`` entries are axes; ``_bind`` is taken out as rules;
3. command-line settings replace the spec's (an :class:`ExpVector` is an axis); a
   setting whose values include ``_null`` is removed; the script's ``_default_expe``
   fills settings the member lacks;
4. the product runs over the settings sorted by name (the last varies fastest), and the
   ``_bind`` rules drop experiments;
5. ``_expe_name`` (the spec) and ``_expe_id`` (the counter across the whole spec) are
   added, as pymake added them to every experiment.

Each experiment becomes one runlab Point named after its files (see :mod:`.paths`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from runlab.compat.pymake.bind import BindRule, parse_rules
from runlab.compat.pymake.paths import EXPE_ID, SPEC_NAME, folder_of, output_path, stem_of
from runlab.compat.pymake.types import ExpGroup, ExpSpace, ExpVector
from runlab.design import Group, Point
from runlab.errors import UsageError

NULL = "_null"
DEFAULT_EXPE = "_default_expe"


@dataclass(frozen=True)
class Member:
    """One tensor of a flattened spec: its axes (name → values) and its ``_bind`` rules."""

    axes: dict[str, list[Any]]
    rules: tuple[BindRule, ...]


@dataclass(frozen=True)
class Expe:
    """One experiment: its settings (with ``_expe_name``/``_expe_id``), run name and files."""

    settings: dict[str, Any]
    name: str
    path: PurePosixPath


def _axis(key: str, value: Any, *, tensor: bool) -> list[Any]:
    if isinstance(value, ExpVector):
        return list(value)
    if tensor and isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: (type(v).__name__, repr(v)))
    if tensor and isinstance(value, list):
        if not value:
            raise UsageError(f"ExpTensor entry {key!r} is an empty list; give at least one value")
        return list(value)
    return [value]


def flatten(
    design: Any, shared: Mapping[str, Any] | None = None
) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
    """(member, shared settings) of a design, groups flattened in order."""
    shared = dict(shared or {})
    if isinstance(design, ExpGroup):
        out: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
        for member in design:
            out += flatten(member, {**design.shared, **shared})
        return out
    if isinstance(design, Mapping):
        return [(design, shared)]
    raise UsageError(
        f"a spec holds ExpSpace, ExpTensor, ExpGroup or dict values, not {type(design).__name__}"
    )


def make_member(
    design: Mapping[str, Any],
    shared: Mapping[str, Any],
    settings: Mapping[str, Any],
    defaults: Mapping[str, Any],
    rules: Sequence[str],
) -> Member:
    """The axes and rules of one member, command-line settings and defaults applied."""
    tensor = not isinstance(design, ExpSpace)
    values = {**design, **shared}
    bind = parse_rules(values.pop("_bind", None)) + parse_rules(list(rules))
    axes = {key: _axis(key, value, tensor=tensor) for key, value in values.items()}
    for key, value in settings.items():
        axes[key] = _axis(key, value, tensor=False)
    for key in [k for k, v in axes.items() if any(isinstance(x, str) and x == NULL for x in v)]:
        del axes[key]
    for key, value in defaults.items():
        if key not in axes and key != "_spec":
            axes[key] = [value]
    return Member(axes, bind)


def experiments(
    design: Any,
    spec: str,
    *,
    settings: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
    rules: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Every experiment of a spec, in pymake's order, as settings dicts."""
    out: list[dict[str, Any]] = []
    for member, shared in flatten(design):
        made = make_member(member, shared, settings or {}, defaults or {}, rules)
        keys = sorted(made.axes)
        for combo in itertools.product(*(made.axes[k] for k in keys)):
            expe = dict(zip(keys, combo, strict=True))
            if all(_keeps(rule, expe, spec) for rule in made.rules):
                out.append(expe)
    for number, expe in enumerate(out):
        expe[SPEC_NAME] = spec
        expe[EXPE_ID] = number
    return out


def _keeps(rule: BindRule, expe: Mapping[str, Any], spec: str) -> bool:
    try:
        return rule(expe)
    except KeyError as err:
        raise UsageError(
            f"spec {spec!r}: {rule!r} names setting {err.args[0]!r}, which experiment "
            f"{dict(expe)!r} does not have"
        ) from None


def name_runs(expes: Sequence[Mapping[str, Any]]) -> list[Expe]:
    """Each experiment with its files and a unique run name (its file name when unique).

    Experiments whose file names coincide in different folders are named
    ``<refdir>-<repeat>-<file name>``; two that would write the same files are an error.
    """
    paths = [output_path(e) for e in expes]
    stems = [stem_of(e) for e in expes]
    seen: dict[PurePosixPath, int] = {}
    for index, path in enumerate(paths):
        if path in seen:
            first = expes[seen[path]]
            differ = sorted(k for k in expes[index] if expes[index][k] != first.get(k))
            differ = [k for k in differ if k != EXPE_ID]
            raise UsageError(
                f"experiments #{seen[path]} and #{index} of spec {first[SPEC_NAME]!r} would "
                f"both write {path}: add {', '.join(differ) or 'their settings'} or {{_id}} "
                "to _format"
            )
        seen[path] = index
    counts: dict[str, int] = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    out = []
    for expe, path, stem in zip(expes, paths, stems, strict=True):
        name = stem if counts[stem] == 1 else "-".join((*folder_of(expe).parts, stem))
        out.append(Expe(dict(expe), name.replace("/", "-"), path))
    return out


def as_design(expes: Sequence[Expe], spec: str) -> Group:
    """The runlab design of a spec's experiments: one named Point each, in order."""
    if not expes:
        raise UsageError(f"spec {spec!r} has no experiments: its _bind rules drop them all")
    points = [
        Point(params=e.settings, name=e.name.replace("{", "{{").replace("}", "}}")) for e in expes
    ]
    return Group(*points)


def default_design(defaults: Mapping[str, Any]) -> ExpSpace:
    """The one experiment of ``_default_expe``, for a run with no spec."""
    return ExpSpace({k: v for k, v in defaults.items() if k != "_spec"})


__all__ = [
    "DEFAULT_EXPE",
    "NULL",
    "Expe",
    "as_design",
    "default_design",
    "experiments",
    "flatten",
    "name_runs",
]
