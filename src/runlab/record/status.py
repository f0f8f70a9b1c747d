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


_IDENTITY: tuple[int, str, float | None] | None = None


def identity() -> tuple[int, str, float | None]:
    """This process's pid, host name and start time: asked once, and again after a fork.

    Every record and claim a process writes carries them (a sweep: one a run), each
    costs a system call, and the start time tells a reused pid from the writer.
    """
    global _IDENTITY
    if _IDENTITY is None:
        pid = os.getpid()
        _IDENTITY = (pid, socket.gethostname(), process_start_time(pid))
    return _IDENTITY


def _forget_identity() -> None:
    global _IDENTITY
    _IDENTITY = None


os.register_at_fork(after_in_child=_forget_identity)


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
