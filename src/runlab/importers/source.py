"""What every format reader gives back: one foreign run, read once, as plain data.

A reader turns the files of one source folder into a :class:`SourceRun`; the writer
turns that into a runlab run folder. Readers never write, and they raise
:class:`SourceError` with one line naming the file at fault when a folder cannot be
read: the import warns, counts the folder as skipped and goes on with the others.

Values from foreign files become JSON data here (:func:`plain`), once: numpy scalars
become numbers, dates ISO text, sets sorted lists, and arrays the short text
``ndarray(shape=(150,), dtype=int64)`` (an array is a result, not a parameter: the
source folder still holds it, and a 150-element list would make a poor column).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from runlab.record.status import LOST_AFTER_SECONDS, RunStatus

_REPR_LIMIT = 200


class SourceError(Exception):
    """A source folder that cannot be imported; ``str()`` is the one-line warning.

    ``kind`` is the short reason the summary line counts (``malformed JSON``).
    """

    def __init__(self, path: Path, kind: str, detail: str = "") -> None:
        self.path = path
        self.kind = kind
        super().__init__(f"{path}: {kind}" + (f" ({detail})" if detail else ""))


class ToolFormat:
    """The folders one old tool writes: found by a marker file, not by a settings file.

    Such a format has no options, so its name is its whole signature (the key a
    re-import matches earlier imports by).
    """

    name = ""
    source_file = None

    def signature(self) -> str:
        return self.name


@dataclass(frozen=True)
class Found:
    """A source run found under the import root: its identity and the files it is read from.

    ``path`` is the absolute source folder (for pymake, the folder joined with the
    file stem the run's files share); it becomes ``imported_from``.
    """

    path: Path
    files: tuple[Path, ...]


@dataclass(frozen=True)
class SourceRun:
    """One foreign run as runlab will record it. Mappings are plain JSON data.

    ``logs`` maps a file name inside the run folder (``stdout.log``, ``logs/train.log``)
    to the source file copied there; ``reports`` become ``reports/<n>.json``;
    ``metrics`` are the points of ``metrics.jsonl``. Times are epoch seconds.
    ``last_active`` is when the source last changed, the heartbeat of a running run.
    """

    name: str
    params: Mapping[str, Any]
    status: RunStatus
    summary: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] | None = None
    metrics: tuple[Mapping[str, Any], ...] = ()
    logs: Mapping[str, Path] = field(default_factory=dict)
    reports: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None
    error_text: str | None = None
    exit_code: int | None = None
    start: float | None = None
    end: float | None = None
    description: str = ""
    command: str | None = None
    argv: tuple[str, ...] | None = None
    git: Mapping[str, Any] | None = None
    attempt: int = 1
    last_active: float | None = None


def plain(value: Any) -> Any:
    """``value`` as JSON data (see the module docstring for what becomes what)."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [plain(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape:  # an array, not a numpy scalar
        return f"ndarray(shape={shape}, dtype={getattr(value, 'dtype', '?')})"
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 1] + "…"


def typed(text: str) -> Any:
    """A value written as text (a file name, a CSV cell) read back as int, float, bool or text."""
    stripped = text.strip()
    if stripped in ("True", "true"):
        return True
    if stripped in ("False", "false"):
        return False
    if stripped in ("None", "null", ""):
        return None
    if "_" in stripped:
        return stripped  # int("1_000") is 1000 in Python, not in a file name
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        return stripped
    return number


def load_json(path: Path) -> Any:
    """The JSON in ``path``; SourceError naming the line and column when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(path, "malformed JSON", f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise SourceError(path, "unreadable file", exc.strerror or str(exc)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        detail = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise SourceError(path, "malformed JSON", detail) from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, a nesting too deep
        raise SourceError(path, "malformed JSON", type(exc).__name__) from None


def as_dict(path: Path, data: Any) -> dict[str, Any]:
    """``data`` read from ``path`` as a plain dict; SourceError when it is not a dict."""
    if not isinstance(data, Mapping):
        raise SourceError(path, "not a dict", f"holds a {type(data).__name__}")
    result = plain(data)
    assert isinstance(result, dict)
    return result


def mtime(path: Path) -> float | None:
    """The modification time of ``path``, None when it does not exist."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def newest(paths: tuple[Path, ...] | list[Path]) -> float | None:
    """The newest modification time among ``paths`` (missing ones ignored)."""
    times = [t for t in (mtime(p) for p in paths) if t is not None]
    return max(times, default=None)


def local_time(text: str, fmt: str | None = None) -> float | None:
    """Epoch seconds of a time written by a foreign tool (naive means this host's local time)."""
    try:
        when = dt.datetime.strptime(text, fmt) if fmt else dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when.timestamp()


def live_status(last_active: float | None, *, now: float | None = None) -> RunStatus:
    """``running`` when a source that says it runs changed within a minute, else ``lost``.

    A foreign tool cannot record its own death either: a run whose files stopped
    changing longer ago than runlab's own lost threshold is judged lost at import.
    """
    if last_active is None:
        return RunStatus.LOST
    age = (now if now is not None else time.time()) - last_active
    return RunStatus.RUNNING if age <= LOST_AFTER_SECONDS else RunStatus.LOST


def numbers_only(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are numbers (a metric point holds only those)."""
    return {
        k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
