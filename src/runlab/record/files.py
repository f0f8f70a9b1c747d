"""Atomic JSON files and append-only JSONL, the only ways runlab writes a record.

Readers elsewhere (another process, another host over NFS) may read any file at any
moment, so a JSON file is never rewritten in place: it is written to a temp file in
the same folder and moved over the old one with ``os.replace``. ``metrics.jsonl`` is
only appended to; a torn last line (a crash mid-write) is skipped on read with a warning.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runlab.canonical import to_jsonable


class RecordWarning(UserWarning):
    """A record file was damaged (torn line, truncated JSON) and was partly skipped."""


# One encoder for every value: json.dumps with any option builds a new one per call, and
# without indent= or default= it encodes in C.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _compact(value: Any) -> str:
    try:
        return _ENCODE(value)
    except TypeError:
        return _ENCODE(to_jsonable(value))


def dumps(data: Any) -> str:
    """Serialise record data: a dict puts one top-level key per line, each value compact.

    As readable as indented JSON for the flat records runlab writes, and several times
    faster (``indent=`` makes ``json`` use its pure-Python encoder). numpy values become
    numbers; NaN stays NaN, as Python's ``json`` reads it.
    """
    if not isinstance(data, dict) or not data:
        return _compact(data)
    items = ",\n".join(f"  {_compact(str(k))}: {_compact(v)}" for k, v in data.items())
    return "{\n" + items + "\n}"


def _file_mode() -> int:
    # mkstemp creates 0600 files; records are shared like any file the user writes,
    # so they get the mode the umask gives (read once: os.umask can only be read by setting it).
    global _MODE
    if _MODE is None:
        mask = os.umask(0o022)
        os.umask(mask)
        _MODE = 0o666 & ~mask
    return _MODE


_MODE: int | None = None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    # One writer per (process, thread) at a time, so this name is free without
    # mkstemp's random probing; O_EXCL-free because a crash may have left it behind.
    tmp = os.path.join(path.parent, f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, dumps(data) + "\n")


def read_json(path: Path, *, default: Any = None, warn: bool = True) -> Any:
    """Return the JSON in ``path``; ``default`` if it is missing or damaged (with a warning)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    try:
        return json.loads(text)
    except ValueError as exc:
        if warn:
            warnings.warn(f"{path}: unreadable JSON ({exc}); ignored", RecordWarning, stacklevel=2)
        return default


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield each record of a JSONL file, skipping a torn or damaged line with a warning."""
    try:
        f = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                warnings.warn(
                    f"{path}:{number}: torn or damaged line skipped", RecordWarning, stacklevel=2
                )
                continue
            if isinstance(record, dict):
                yield record
