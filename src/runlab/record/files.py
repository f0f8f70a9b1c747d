"""Atomic JSON files and append-only JSONL, the only ways runlab writes a record.

Readers elsewhere (another process, another host over NFS) may read any file at any
moment, so a JSON file is never rewritten in place: it is written to a temp file in
the same folder and moved over the old one with ``os.replace``. The one exception is
:func:`create_text`, for a new folder's files that no reader looks at yet. ``metrics.jsonl``
is only appended to; a torn last line (a crash mid-write) is skipped on read with a warning.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import warnings
from collections.abc import Iterator
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from runlab.canonical import to_jsonable


class RecordWarning(UserWarning):
    """A record file was damaged (torn line, truncated JSON) and was partly skipped."""


# One C encoder for every container: json.dumps, and JSONEncoder.encode too, build a new
# one per call, which costs more than encoding a small dict. Without a circular-reference
# check (markers=None): record data comes from JSON or to_jsonable and is never circular,
# and a circular value still fails (RecursionError) before any file is touched. Where
# json has no C encoder (another interpreter), its own encoder does the same work.
if c_make_encoder is not None:
    _ENCODER = c_make_encoder(
        None, json.JSONEncoder().default, encode_basestring, None, ": ", ", ", False, False, True
    )
else:  # pragma: no cover - CPython always has it
    _ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False).iterencode
_STRING = encode_basestring  # what the encoder does for a str, minus the call
_INF = float("inf")
# O_CLOEXEC: a child the run starts later must not inherit a half-written temp file.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
# This process's pid, for temp file names: a run's record writes ask for it several times,
# and os.getpid() is a system call. A forked child sets its own before it runs on.
_PID = os.getpid()


def _forked() -> None:
    global _PID
    _PID = os.getpid()


os.register_at_fork(after_in_child=_forked)


def _compact(value: Any) -> str:
    """One value as compact JSON; scalars skip the encoder, which costs microseconds a call.

    ``repr`` of an int or a finite float is exactly what the encoder writes, so the
    file is the same either way; everything else (NaN, containers, numpy) goes through it.
    """
    kind = type(value)
    if kind is str:
        return _STRING(value)
    if kind is float:
        if -_INF < value < _INF:
            return repr(value)
    elif kind is int:
        return repr(value)
    elif value is None:
        return "null"
    elif kind is bool:
        return "true" if value else "false"
    try:
        return "".join(_ENCODER(value, 0))
    except TypeError:
        return "".join(_ENCODER(to_jsonable(value), 0))


def dumps(data: Any) -> str:
    """Serialise record data: a dict puts one top-level key per line, each value compact.

    As readable as indented JSON for the flat records runlab writes, and several times
    faster (``indent=`` makes ``json`` use its pure-Python encoder). numpy values become
    numbers; NaN stays NaN, as Python's ``json`` reads it.
    """
    if not isinstance(data, dict) or not data:
        return _compact(data)
    compact = _compact
    items = ",\n  ".join(
        [
            f"{_STRING(k) if type(k) is str else compact(str(k))}: {compact(v)}"
            for k, v in data.items()
        ]
    )
    return "{\n  " + items + "\n}"


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half.

    Plain ``os`` calls on the file descriptor, because a run writes four of these and a
    Python file object costs more system calls than the write itself. The file gets the
    mode the umask gives, like any file the user writes (the kernel applies the umask).
    """
    target = os.fspath(path)
    folder, sep, name = target.rpartition(os.sep)
    # One writer per (process, thread) at a time, so this name is free without
    # mkstemp's random probing.
    tmp = f"{folder}{sep}.{name}.{_PID}.{threading.get_ident()}.tmp"
    data = text.encode("utf-8")
    try:
        fd = os.open(tmp, _CREATE, 0o666)
    except FileExistsError:
        # Left by a crash of an earlier writer with this pid: it may have another mode.
        os.unlink(tmp)
        fd = os.open(tmp, _CREATE, 0o666)
    try:
        _write_and_close(fd, data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temp file beside ``path`` for a writer that needs a path (pickle, savefig, parquet).

    When the block ends well the temp file replaces ``path`` whole; when it fails the
    temp file is removed: readers see the old file or the new one, never half, and
    nothing half-written is left behind.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, dumps(data) + "\n")


def create_text(path: str | os.PathLike[str], text: str) -> None:
    """Create ``path`` holding ``text``, written in place: only for a file no reader sees yet.

    The caller's promise: ``path`` is in a folder this process has just created, and
    every reader skips that folder until a later file appears in it (a run folder until
    its ``run.json``), so no reader can see this file half-written and the temp file
    and rename of :func:`atomic_write_text` buy nothing. ``O_EXCL``: an existing file
    means the promise is broken, and that is an error rather than an overwrite. A
    failed write removes the file again.
    """
    fd = os.open(path, _CREATE, 0o666)
    try:
        _write_and_close(fd, text.encode("utf-8"))
    except BaseException:
        os.unlink(path)
        raise


def create_json(path: str | os.PathLike[str], data: Any) -> None:
    """:func:`create_text` for JSON, in the same format as :func:`atomic_write_json`."""
    create_text(path, dumps(data) + "\n")


def _write_and_close(fd: int, data: bytes) -> None:
    try:
        written = os.write(fd, data)
        if written < len(data):  # a short write (a signal, a full disk): write the rest
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike[str], *, default: Any = None, warn: bool = True) -> Any:
    """Return the JSON in ``path``; ``default`` if it is missing or damaged (with a warning)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
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
