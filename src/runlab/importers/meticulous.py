"""meticulous experiments: every folder holding ``args.json`` is one run.

meticulous writes one numbered folder per experiment (``experiments/1/``). What is
read and how it is mapped:

- ``args.json`` → ``params.json``; ``default_args.json`` → ``defaults.json``;
- ``metadata.json``: ``githead-sha``/``githead-message`` → ``git`` (meticulous refuses
  a dirty tree, so ``dirty`` is false), ``description``, ``start-time`` (or the older
  ``timestamp``) and ``end-time`` (local times) → ``start``/``end``/``duration``,
  ``command`` → ``argv`` and ``command``;
- ``STATUS``: ``SUCCESS`` → ``completed`` (exit 0); ``ERROR`` → ``failed``, the text
  after the first line (the traceback, or ``sys.exit(n)``) → ``error.txt``, its last
  line → the run's message, ``n`` → the exit code; ``RUNNING`` → ``running`` when the
  folder changed in the last minute, else ``lost``; no or another STATUS →
  ``completed`` when ``summary.json`` exists, else ``failed``;
- ``summary.json`` → ``summary.json``; ``stdout``/``stderr`` → ``stdout.log``/``stderr.log``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from runlab.importers.source import (
    Found,
    SourceError,
    SourceRun,
    ToolFormat,
    as_dict,
    live_status,
    load_json,
    local_time,
    mtime,
    newest,
)
from runlab.record.status import RunStatus

MARKER = "args.json"
FILES = (
    "args.json",
    "default_args.json",
    "metadata.json",
    "STATUS",
    "summary.json",
    "stdout",
    "stderr",
)
_EXIT = re.compile(r"^sys\.exit\((-?\d+)\)\s*$")


class MeticulousFormat(ToolFormat):
    """Folders written by meticulous's ``Experiment``."""

    name = "meticulous"

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]:
        if MARKER not in names:
            return []
        return [Found(folder, tuple(folder / n for n in FILES if n in names))]

    def read(self, found: Found, name: str) -> SourceRun:
        folder = found.path
        present = {p.name for p in found.files}
        params = as_dict(folder / MARKER, load_json(folder / MARKER))
        defaults = _optional_dict(folder / "default_args.json", present)
        metadata = _optional_dict(folder / "metadata.json", present) or {}
        summary = _optional_dict(folder / "summary.json", present)
        status, error, error_text, exit_code = _status(folder, present, summary is not None)
        if status is RunStatus.RUNNING:
            status = live_status(newest(list(found.files)))
        start = _time(metadata.get("start-time") or metadata.get("timestamp"))
        end = _time(metadata.get("end-time"))
        if end is None and status.finished:
            end = mtime(folder / "STATUS") if "STATUS" in present else newest(list(found.files))
        argv = metadata.get("command")
        argv = tuple(str(a) for a in argv) if isinstance(argv, list) else None
        git = None
        if metadata.get("githead-sha"):
            git = {
                "sha": metadata.get("githead-sha"),
                "branch": None,
                "message": str(metadata.get("githead-message") or "").strip() or None,
                "dirty": False,
                "root": None,
            }
        logs = {
            f"{stream}.log": folder / stream for stream in ("stdout", "stderr") if stream in present
        }
        return SourceRun(
            name=name,
            params=params,
            status=status,
            summary=summary or {},
            defaults=defaults,
            logs=logs,
            error=error,
            error_text=error_text,
            exit_code=exit_code,
            start=start,
            end=end,
            description=str(metadata.get("description") or ""),
            command=shlex.join(argv) if argv else None,
            argv=argv,
            git=git,
            last_active=newest(list(found.files)),
        )


def _optional_dict(path: Path, present: set[str]) -> dict[str, Any] | None:
    if path.name not in present:
        return None
    return as_dict(path, load_json(path))


def _time(value: Any) -> float | None:
    return local_time(value) if isinstance(value, str) else None


def _status(
    folder: Path, present: set[str], has_summary: bool
) -> tuple[RunStatus, str | None, str | None, int | None]:
    """(status, error line, error.txt text, exit code) from the STATUS file."""
    text = ""
    if "STATUS" in present:
        try:
            text = (folder / "STATUS").read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise SourceError(folder / "STATUS", "unreadable file", exc.strerror or "") from None
    word, detail = parse_status(text)
    if word == "SUCCESS":
        return RunStatus.COMPLETED, None, None, 0
    if word == "RUNNING":
        return RunStatus.RUNNING, None, None, None
    if word == "ERROR":
        exited = _EXIT.match(detail.strip())
        if exited:
            code = int(exited.group(1))
            return RunStatus.FAILED, f"SystemExit: {code}", detail, code
        return RunStatus.FAILED, last_line(detail) or "ERROR", detail or None, 1
    if has_summary:
        return RunStatus.COMPLETED, None, None, None
    reason = f"STATUS says {word!r}" if "STATUS" in present else "no STATUS file"
    return RunStatus.FAILED, f"meticulous: {reason} and no summary.json", None, None


def parse_status(text: str) -> tuple[str, str]:
    """Return (status word, traceback) of a ``STATUS`` file's text, old or new.

    Whitespace around the word is dropped, so the ``SUCCESS\\n`` meticulous wrote reads
    as ``SUCCESS``; an empty file reads as ``UNKNOWN``.
    """
    first, _, rest = text.partition("\n")
    return first.strip() or "UNKNOWN", rest.strip("\n")


def last_line(text: str) -> str:
    """The last non-blank line of ``text`` (of a traceback: the exception), else ``""``."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
