"""Start one command of a run: in its own session, stdin empty, stdout and stderr to its log.

On Linux this is ``os.posix_spawnp`` (glibc's clone-and-exec) rather than
``subprocess.Popen``: for a short command Popen's Python-side work (a pipe to report
exec errors, several calls that each drop and retake the GIL) costs the launcher more
than the command itself, and the other slot threads wait behind it. The child gets what
Popen would give it: a new session (so a run's whole tree can be signalled), ``/dev/null``
on stdin, the default handlers for the signals Python ignores (SIGPIPE, SIGXFSZ), an empty
signal mask, and none of the launcher's files (Python opens them all close-on-exec).
Elsewhere, Popen.

A program named without a ``/`` is looked up on the launcher's ``PATH`` once per sweep,
not by every spawn: ``posix_spawnp`` tries each ``PATH`` folder with an ``execve`` in
the child, and a sweep runs the same few programs a thousand times. When the program
found is gone by the time a run starts, that run looks it up again.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

# glibc implements POSIX_SPAWN_SETSID; other systems may not (os raises NotImplementedError).
USE_POSIX_SPAWN = sys.platform.startswith("linux") and hasattr(os, "posix_spawnp")
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)


class Process(Protocol):
    """What the launcher needs of a started command: its pid, waiting, and polling."""

    @property
    def pid(self) -> int: ...

    def wait(self) -> int: ...

    def poll(self) -> int | None: ...


class SpawnedProcess:
    """A command started with ``posix_spawnp``, reaped by the one thread that waits on it.

    ``poll`` never reaps (two threads reaping one pid would lose its exit code): it
    answers what ``wait`` found, so until then the process counts as running.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self._pid

    def wait(self) -> int:
        """Wait for the process to end; its exit code, or -N when signal N killed it."""
        if self.returncode is None:
            _, status = os.waitpid(self._pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode


def spawn(argv: Sequence[str], *, log_fd: int, env: Mapping[str, str]) -> Process:
    """Start ``argv`` in a new session with stdout and stderr on ``log_fd``.

    Raises OSError (FileNotFoundError, PermissionError) when the program cannot start.
    """
    if not USE_POSIX_SPAWN:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )
    options: dict[str, Any] = {
        "file_actions": [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, log_fd, 1),
            (os.POSIX_SPAWN_DUP2, log_fd, 2),
        ],
        "setsid": True,
        "setsigdef": _DEFAULT_SIGNALS,
        "setsigmask": (),
    }
    program = _found(argv[0], os.environ.get("PATH"))
    if program is not None:
        try:
            return SpawnedProcess(os.posix_spawn(program, list(argv), env, **options))
        except (FileNotFoundError, PermissionError):  # changed since: search as ever
            _found.cache_clear()
    return SpawnedProcess(os.posix_spawnp(argv[0], list(argv), env, **options))


@functools.lru_cache(maxsize=64)
def _found(name: str, path: str | None) -> str | None:
    """Where ``posix_spawnp`` would find ``name`` on ``path``; None: let it search itself."""
    if not path or "/" in name:
        return None
    found = shutil.which(name, path=path)
    return os.path.abspath(found) if found else None
