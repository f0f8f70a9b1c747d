"""Sweep-file text to values: YAML documents with the line of every key, distribution strings.

This is the lexical layer under :mod:`runlab.design.sweepfile`: it knows YAML and
Python call syntax, not what the keys mean.

YAML is read with PyYAML's SafeLoader (over libyaml's parser when PyYAML has it),
changed in two ways so values mean what they read as: ``1e-4`` is a float (as in
YAML 1.2; YAML 1.1 reads a string), and ``2024-01-01`` stays a string (YAML 1.1 makes
a date, which is not JSON data). Each document keeps the line of every mapping key and
list item, so an error about any value can name ``file:line``; a key given twice in
one mapping is an error (PyYAML silently keeps the last).

Distributions are written as strings, ``"loguniform(1e-4, 1e-1)"``, and read with
:mod:`ast` over plain values only, never ``eval``.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.design.distributions import Distribution, choice, loguniform, normal, randint, uniform
from runlab.errors import UsageError

DISTRIBUTIONS = {
    "choice": choice,
    "loguniform": loguniform,
    "normal": normal,
    "randint": randint,
    "uniform": uniform,
}
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(.*\)\s*$", re.S)
# YAML 1.2 floats with an exponent and no dot (1e-4), which YAML 1.1 reads as strings.
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


def suggest(word: str, known: Any) -> str:
    """Return `` (did you mean 'x'?)`` for the closest of ``known``, or an empty string."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def yaml_loader() -> type:
    """Return the SafeLoader for sweep files and override values (see the module docstring)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789."))
    return Loader


@functools.cache
def fast_yaml_loader() -> type | None:
    """Return :func:`yaml_loader` over libyaml's C parser, or None without libyaml.

    The same resolvers and constructor, so the same values and key lines, ten times
    faster on a long list of values; its error messages are worded differently, so
    :func:`read_documents` reports a file it rejects through the pure-Python loader.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None

    class FastLoader(base):  # type: ignore[misc, valid-type]
        pass

    FastLoader.yaml_implicit_resolvers = yaml_loader().yaml_implicit_resolvers
    return FastLoader


@dataclass(frozen=True)
class YamlDocument:
    """One YAML document: its data, where it starts, and the line of every key and item."""

    data: Any
    line: int
    lines: Mapping[tuple[Any, ...], int]

    def at(self, *path: Any) -> int:
        """Return the line of ``path`` (keys and list indices), or of its nearest parent."""
        parts = tuple(path)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.line


def _index(node: Any, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], file: str) -> None:
    """Record the line of every mapping key and list item under ``node``; refuse repeated keys."""
    import yaml

    if len(path) > 100:  # a YAML anchor that contains itself (&a [*a]) would never end
        raise UsageError(f"{file}:{node.start_mark.line + 1}: values are nested too deeply")
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            line = key_node.start_mark.line + 1
            here = (*path, key)
            if here in lines and key != "<<":
                first = lines[here]
                raise UsageError(
                    f"{file}:{line}: key {key!r} is given twice (first at line {first})"
                )
            lines[here] = line
            _index(value_node, here, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index(item, (*path, i), lines, file)


def read_documents(path: Path, file: str) -> list[YamlDocument]:
    """Return the file's YAML documents with their key lines; errors name file:line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{file}: is a folder, not a sweep file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{file}: not UTF-8 text") from None
    fast = fast_yaml_loader()
    if fast is not None:
        try:
            return _documents(fast(text), file)
        except yaml.YAMLError:
            pass  # the pure-Python loader reads it again, to say what is wrong in its words
    try:
        return _documents(yaml_loader()(text), file)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UsageError(f"{file}:{line}: invalid YAML: {problem}") from None


def _documents(loader: Any, file: str) -> list[YamlDocument]:
    """Return every document ``loader`` reads, with its key lines; YAML errors propagate."""
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            lines: dict[tuple[Any, ...], int] = {}
            _index(node, (), lines, file)
            data = loader.construct_document(node)
            documents.append(YamlDocument(data, node.start_mark.line + 1, lines))
    finally:
        loader.dispose()
    return documents


def _literal(node: ast.expr, text: str) -> Any:
    """Return the value of a distribution argument: numbers, strings, bare words, lists."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, (bytes, complex)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, text) for item in node.elts]
    if isinstance(node, ast.Name):  # choice([adam, sgd]) reads as YAML would
        return {"true": True, "false": False, "null": None}.get(node.id, node.id)
    token = ast.get_source_segment(text, node) or type(node).__name__
    raise UsageError(f"distribution {text!r}: {token!r} is not a plain value")


def parse_distribution(text: str, *, strict: bool = True) -> Distribution | None:
    """Return the distribution a string such as ``"uniform(0, 1)"`` writes, else ``None``.

    Only ``uniform``, ``loguniform``, ``randint``, ``normal`` and ``choice`` are read,
    through :mod:`ast`; arguments must be plain values. With ``strict``, a call-shaped
    string whose name is close to one of them (``"lognormal(0, 1)"``) is an error, not
    a silently fixed string.
    """
    match = _CALL.match(text)
    if not match:
        return None
    name = match.group(1)
    if name not in DISTRIBUTIONS:
        hint = suggest(name, DISTRIBUTIONS)
        if strict and hint:
            raise UsageError(f"unknown distribution {name!r} in {text!r}{hint}")
        return None
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise UsageError(f"distribution {text!r} is not valid: {err.msg}") from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise UsageError(f"distribution {text!r}: write it as {name}(...)")
    if any(keyword.arg is None for keyword in call.keywords):
        raise UsageError(f"distribution {text!r}: ** arguments are not allowed")
    args = [_literal(arg, text) for arg in call.args]
    kwargs = {k.arg: _literal(k.value, text) for k in call.keywords if k.arg is not None}
    try:
        return DISTRIBUTIONS[name](*args, **kwargs)
    except TypeError as err:
        raise UsageError(f"distribution {text!r}: {err}") from None
