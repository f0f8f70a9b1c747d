"""Where an experiment's files go: ``<data>/<_refdir>/<_repeat>/<_format>.<ext>``, as pymake.

``_format`` names the files of one experiment (the *stem*), ``_refdir`` (default
``default``) and ``_repeat`` (default: none) the two folders above it; all three are
templates over the experiment's settings:

- ``{key}`` is the setting's value, ``{key:.3f}`` with a format spec;
- ``{_id}`` is the experiment's counter in its spec (0, 1, ... across a group);
- ``${name}`` (and ``{_name}``) is the spec's name, the attribute of the ExpDesign class.

Values are written as pymake wrote them, so old analysis code finds the files: a float
with more than two decimals as ``%.2f``, ``1.0`` as ``1``, ``1e-05`` as is. Two
experiments whose files would coincide are an error before anything runs (pymake wrote
both into one file). Every part must stay below the data folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from runlab.errors import UsageError

SPEC_NAME = "_expe_name"
EXPE_ID = "_expe_id"
DEFAULT_REFDIR = "default"
_FIELD = re.compile(r"\{\{|\}\}|\$\{(?P<spec_name>[^{}]*)\}|\{(?P<field>[^{}]*)\}|[{}]")


def transcribe(value: Any) -> str:
    """A setting's value as pymake wrote it in file names."""
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            return text
        decimals = text.split(".", 1)[1]
        if decimals == "0":
            return f"{value:.0f}"
        return f"{value:.2f}" if len(decimals) > 2 else text
    if isinstance(value, (list, tuple)):
        return "-".join(transcribe(v) for v in value) if value else "empty"
    if isinstance(value, dict):
        return "-".join(f"{k}={transcribe(v)}" for k, v in sorted(value.items()))
    return str(value)


def render(template: str, expe: Mapping[str, Any], *, what: str) -> str:
    """Fill one of ``_format``, ``_refdir``, ``_repeat`` from an experiment's settings."""
    if not isinstance(template, str):
        return transcribe(template)

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match["spec_name"] is not None:
            return str(expe.get(SPEC_NAME, ""))
        field = match["field"]
        if field is None:
            raise UsageError(f"{what} {template!r}: unmatched {token!r}")
        key, _, spec = field.partition(":")
        if key == "_id":
            value: Any = expe.get(EXPE_ID, 0)
        elif key == "_name":
            value = expe.get(SPEC_NAME, "")
        elif key in expe:
            value = expe[key]
        else:
            raise UsageError(
                f"{what} {template!r} names {key!r}, which experiment "
                f"{expe.get(SPEC_NAME, '')}#{expe.get(EXPE_ID, 0)} does not have"
            )
        if not spec:
            return transcribe(value)
        try:
            return format(value, spec)
        except (TypeError, ValueError):
            raise UsageError(f"{what} {template!r}: {spec!r} does not format {value!r}") from None

    return _FIELD.sub(fill, template)


def _relative(text: str, *, what: str) -> PurePosixPath:
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts:
        raise UsageError(f"{what} {text!r} must stay below the data folder")
    return path


def folder_of(expe: Mapping[str, Any]) -> PurePosixPath:
    """``<refdir>/<repeat>`` of an experiment, relative to the data folder."""
    refdir = render(expe.get("_refdir", DEFAULT_REFDIR), expe, what="_refdir") or DEFAULT_REFDIR
    folder = _relative(refdir, what="_refdir")
    repeat = expe.get("_repeat")
    if repeat is not None and repeat is not False and str(repeat) != "-1":
        text = render(repeat, expe, what="_repeat")
        if text:
            folder = folder / _relative(text, what="_repeat")
    return folder


def stem_of(expe: Mapping[str, Any]) -> str:
    """The file name of an experiment without extension: its rendered ``_format``.

    Without ``_format`` it is ``<spec name>-<id>``, unique within the spec.
    """
    template = expe.get("_format") or "${name}-{_id}"
    stem = render(template, expe, what="_format")
    if not stem.strip() or stem in (".", ".."):
        raise UsageError(f"_format {template!r} gives an empty file name")
    return _relative(stem, what="_format").as_posix()


def output_path(expe: Mapping[str, Any]) -> PurePosixPath:
    """``<refdir>/<repeat>/<stem>``: where the experiment's files go, below the data folder."""
    return folder_of(expe) / stem_of(expe)
