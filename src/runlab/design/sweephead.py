"""The first document of a YAML sweep file: its settings, checked, with errors naming file:line.

Settings are checked by a pydantic model (strict: ``workers: "2"`` is an error, not 2),
whose errors :func:`read_settings` turns into one line naming the key and its line.
Building that model costs about 0.1 s, a tenth of planning a 100,000-config sweep, and
nearly every file holds only plain values (strings, ints, a mapping of defaults), so
those are checked by plain type tests first (:func:`_plain_settings`) and the model is
built only for a file with anything else: ``alias``, ``metrics``, a value of another
type, an unknown key. The plain tests accept only what the model accepts, with the
same result, so a file reads the same either way and every error comes from the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runlab.design.sweeptext import YamlDocument, suggest
from runlab.errors import UsageError

# What each first-document key holds, for error messages; the keys are the known keys.
HELP = {
    "after": "a command string",
    "alias": "a mapping of alias to a list of params or to {value: {param: value}}",
    "default": "a mapping of param names to default values",
    "metrics": "a mapping like {bleu: {log: test, regex: '...'}}",
    "name": "a non-empty sweep name",
    "repeat": "a positive int",
    "resource": "a list of device ids like [0, 1] or ['0,1', '2,3']",
    "retries": "an int >= 0",
    "sample": "a mapping like {n: 20, seed: 0}",
    "store": "a store folder path",
    "task": "a Python callable written module:function",
    "template": "a command string or a mapping of named commands",
    "timeout": "seconds or a duration like 30s, 10m, 2h",
    "where": "a rule string or a list of rule strings",
    "workers": "a positive int",
}
_SUB_HELP = {"sample.n": "a positive int", "sample.seed": "an int"}


@functools.cache
def _settings_model() -> Any:
    """Return the pydantic model of the first document (built on first use: pydantic is heavy)."""
    from pydantic import BaseModel, ConfigDict, Field

    class SampleOptions(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        n: int = Field(ge=1)
        seed: int = 0

    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        template: str | dict[str, str] | None = None
        default: dict[str, Any] | None = None
        resource: list[int | str] | int | str | None = None
        alias: dict[str, list[str] | dict[Any, dict[str, Any]]] | None = None
        name: str | None = Field(None, min_length=1)
        store: str | None = Field(None, min_length=1)
        workers: int | None = Field(None, ge=1)
        repeat: int | None = Field(None, ge=1)
        where: str | list[str] | None = None
        sample: SampleOptions | None = None
        timeout: int | float | str | None = None
        retries: int | None = Field(None, ge=0)
        after: str | None = None
        metrics: dict[str, dict[str, str | int | float | bool | None]] | None = None
        task: str | None = None

    return Settings


def _describe(error: Any, head: YamlDocument) -> tuple[int, int, int, str]:
    """Return the sort key, line and message of one pydantic error (its loc walked in the data)."""
    node, path = head.data, []
    for part in error["loc"]:  # skip the union tags pydantic puts in loc, like 'int'
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(str(part))
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
    line = head.at(*path)
    key = path[0] if path else "?"
    rank = (head.at(*path[:1]), -len(path), line)
    if error["type"] == "extra_forbidden":
        if len(path) == 1:
            hint = suggest(str(key), HELP) or (
                "; params go under default: or in a sweep document after ---"
            )
            return (*rank, f"unknown key {key!r}{hint}")
        return (*rank, f"{key}: unknown key {path[-1]!r}{suggest(str(path[-1]), ('n', 'seed'))}")
    if error["type"] == "missing":
        return (*rank, f"{key}: missing key {error['loc'][-1]!r}")
    dotted = ".".join(str(p) for p in path[:2])
    help_text = _SUB_HELP.get(dotted) or HELP.get(str(key), "a valid value")
    shown = dotted if dotted in _SUB_HELP else key
    return (*rank, f"{shown}: expected {help_text}, got {error['input']!r}")


@dataclass(frozen=True)
class SampleOptions:
    """``sample: {n, seed}``: draw ``n`` configs per document with this seed."""

    n: int
    seed: int = 0


@dataclass(frozen=True)
class Settings:
    """The checked settings of a sweep file's first document (see ``HELP`` for each key)."""

    template: str | dict[str, str] | None = None
    default: dict[str, Any] | None = None
    resource: list[int | str] | int | str | None = None
    alias: dict[str, list[str] | dict[Any, dict[str, Any]]] | None = None
    name: str | None = None
    store: str | None = None
    workers: int | None = None
    repeat: int | None = None
    where: str | list[str] | None = None
    sample: SampleOptions | None = None
    timeout: int | float | str | None = None
    retries: int | None = None
    after: str | None = None
    metrics: dict[str, dict[str, str | int | float | bool | None]] | None = None
    task: str | None = None


def read_settings(head: YamlDocument, file: str) -> Settings:
    """Return the settings of the first document; the first error by line is the one raised."""
    if not isinstance(head.data, dict):
        kind = "empty" if head.data is None else f"a {type(head.data).__name__}"
        raise UsageError(
            f"{file}:{head.line}: the first document is {kind}; it must be a mapping of "
            "settings such as template:, default: and resource:"
        )
    plain = _plain_settings(head.data)
    if plain is not None:
        return plain
    from pydantic import ValidationError

    # (line of the top-level key, -depth, line, message): the first key in the file is
    # reported, and of a key's errors the deepest (a bad list item, not the whole list).
    problems: list[tuple[int, int, int, str]] = []
    for key, value in head.data.items():
        if value is None and key in HELP:
            line = head.at(str(key))
            problems.append((line, 0, line, f"{key}: expected {HELP[key]}, got nothing"))
    try:
        model = _settings_model().model_validate(head.data)
    except ValidationError as err:
        model = None
        problems.extend(_describe(error, head) for error in err.errors())
    if problems:
        _, _, line, message = min(problems)
        raise UsageError(f"{file}:{line}: {message}")
    values = {key: getattr(model, key) for key in HELP}
    if model.sample is not None:
        values["sample"] = SampleOptions(model.sample.n, model.sample.seed)
    return Settings(**values)


def _is_text(value: Any) -> bool:
    return type(value) is str


def _is_name(value: Any) -> bool:
    return type(value) is str and value != ""


def _at_least(minimum: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and value >= minimum


def _is_template(value: Any) -> bool:
    return type(value) is str or (
        type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())
    )


def _is_default(value: Any) -> bool:
    return type(value) is dict and all(type(k) is str for k in value)


def _is_resource(value: Any) -> bool:
    if type(value) is list:
        return all(type(item) in (int, str) for item in value)
    return type(value) in (int, str)


def _is_timeout(value: Any) -> bool:
    return type(value) in (int, float, str)


def _is_where(value: Any) -> bool:
    return type(value) is str or (type(value) is list and all(type(r) is str for r in value))


def _is_sample(value: Any) -> bool:
    return (
        type(value) is dict
        and "n" in value
        and set(value) <= {"n", "seed"}
        and type(value["n"]) is int
        and value["n"] >= 1
        and type(value.get("seed", 0)) is int
    )


# The values the model accepts unchanged, per key; pydantic copies containers, so do we.
_PLAIN: Mapping[str, Callable[[Any], bool]] = {
    "after": _is_text,
    "default": _is_default,
    "name": _is_name,
    "repeat": _at_least(1),
    "resource": _is_resource,
    "retries": _at_least(0),
    "sample": _is_sample,
    "store": _is_name,
    "task": _is_text,
    "template": _is_template,
    "timeout": _is_timeout,
    "where": _is_where,
    "workers": _at_least(1),
}


def _plain_settings(data: Mapping[Any, Any]) -> Settings | None:
    """Return the settings when every entry is a plain valid value, else None (ask the model)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        check = _PLAIN.get(key) if type(key) is str else None
        if check is None or not check(value):
            return None
        if type(value) is dict:
            value = dict(value)
        elif type(value) is list:
            value = list(value)
        values[key] = value
    if "sample" in values:
        values["sample"] = SampleOptions(**values["sample"])
    return Settings(**values)
