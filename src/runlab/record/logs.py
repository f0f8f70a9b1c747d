"""Read a run's log files: the last lines, and what is appended while the run lives.

Logs can be gigabytes, so the tail is found by reading blocks backwards from the end,
never the whole file. Logs are read as bytes and passed on as bytes: a program may
write any encoding, and a multi-byte character may be split across two reads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from runlab.record.files import read_json
from runlab.record.layout import RunDir

_BLOCK = 65536


def tail_offset(path: Path, lines: int) -> int:
    """Return the byte offset where the last ``lines`` lines of ``path`` begin.

    A newline that ends the file closes the last line rather than starting another,
    so ``b"a\\nb\\n"`` has two lines. A missing file, or one with fewer lines, gives 0.
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return 0
    with f:
        size = f.seek(0, os.SEEK_END)
        if lines <= 0:
            return size
        pos = size
        seen = 0
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            end = len(block)
            while (found := block.rfind(b"\n", 0, end)) >= 0:
                end = found
                if pos + found == size - 1:
                    continue
                seen += 1
                if seen == lines:
                    return pos + found + 1
        return 0


def read_from(path: Path, offset: int) -> bytes:
    """Return the bytes of ``path`` from ``offset`` to its current end (none if it is missing)."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


def tail_lines(path: Path, lines: int) -> list[str]:
    """Return the last ``lines`` lines of ``path`` as text, undecodable bytes replaced."""
    text = read_from(path, tail_offset(path, lines)).decode("utf-8", errors="replace")
    return text.splitlines()


def follow(
    path: Path,
    *,
    offset: int = 0,
    running: Callable[[], bool],
    poll_seconds: float = 0.25,
) -> Iterator[bytes]:
    """Yield what ``path`` holds from ``offset`` on, then what is appended, until not ``running()``.

    ``running`` is asked before each read, so whatever the run wrote before it ended is
    still yielded: a run finishes writing its logs before it records its final status.
    """
    while True:
        alive = running()
        chunk = b""
        try:
            with path.open("rb") as f:
                f.seek(offset)
                chunk = f.read(_BLOCK)
        except FileNotFoundError:
            pass
        if chunk:
            offset += len(chunk)
            yield chunk
        elif not alive:
            return
        else:
            time.sleep(poll_seconds)


def command_logs(run_dir: RunDir) -> list[Path]:
    """The per-command logs of a sweep run (``logs/<command>.log``), in template order.

    The order is that of the commands in ``run.json`` (template order, then the attempt
    that wrote each log), not of file times, which tie within a clock tick when commands
    are quick and which a later step written to the same folder would reorder. Logs of
    commands ``run.json`` does not name (runs recorded before it named them) follow, in
    the order they were written.
    """
    logs = [p for p in (run_dir.path / "logs").glob("*.log") if p.is_file()]
    record = read_json(run_dir.run_json, default={}, warn=False)
    steps = record.get("commands") if isinstance(record, dict) else None
    order: dict[str, tuple[int, int]] = {}
    if isinstance(steps, dict):
        for position, (name, step) in enumerate(steps.items()):
            attempt = step.get("attempt") if isinstance(step, dict) else None
            order[name] = (position, attempt if isinstance(attempt, int) else 0)
    known = sorted((p for p in logs if p.stem in order), key=lambda p: order[p.stem])
    rest = sorted(
        (p for p in logs if p.stem not in order), key=lambda p: (p.stat().st_mtime, p.name)
    )
    return known + rest
