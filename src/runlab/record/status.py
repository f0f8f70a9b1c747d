"""Run statuses, and the read-time verdict that turns a dead ``running`` run into ``lost``.

A run cannot record its own death by SIGKILL or power loss, so ``lost`` is never
written: whoever reads a ``running`` record decides. On the run's own host the pid
tells (and its start time, so a recycled pid is not mistaken for the run); from
another host only the heartbeat file's age can tell.
"""

from __future__ import annotations

import enum
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

HEARTBEAT_SECONDS = 15.0
LOST_AFTER_SECONDS = 60.0


class RunStatus(str, enum.Enum):
    """Where a run is in its life; the values are what ``run.json`` and the index hold."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    LOST = "lost"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.INTERRUPTED)


def process_start_time(pid: int) -> float | None:
    """The start time of process ``pid`` (epoch seconds), None if it does not exist."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


_own_start: tuple[int, float | None] = (0, None)


def own_start_time() -> float | None:
    """This process's start time, asked once per process (a fork gets its own)."""
    global _own_start
    pid = os.getpid()
    if _own_start[0] != pid:
        _own_start = (pid, process_start_time(pid))
    return _own_start[1]


def is_lost(
    record: Mapping[str, Any], heartbeat_mtime: float | None, *, now: float | None = None
) -> bool:
    """True when a ``running`` record's process is gone (see module docstring)."""
    if record.get("status") != RunStatus.RUNNING.value:
        return False
    if record.get("host") == socket.gethostname() and record.get("pid"):
        started = process_start_time(int(record["pid"]))
        if started is None:
            return True
        recorded = record.get("pid_start")
        return recorded is not None and abs(started - float(recorded)) > 1.0
    if heartbeat_mtime is None:
        return True
    return ((now or time.time()) - heartbeat_mtime) > LOST_AFTER_SECONDS
