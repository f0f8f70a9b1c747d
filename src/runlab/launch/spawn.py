"""Start one command of a run, and judge how it ended.

A command line runs directly when it needs no shell (``command_argv``), in its own
session, stdin empty, stdout and stderr to its log. On Linux this is ``os.posix_spawnp``
(glibc's clone-and-exec) rather than ``subprocess.Popen``: for a short command Popen's
Python-side work (a pipe to report exec errors, several calls that each drop and retake
the GIL) costs the launcher more than the command itself, and the launcher's loop waits
behind it. The child gets what Popen would give it: a new session (so a run's whole tree
can be signalled), ``/dev/null`` on stdin, the default handlers for the signals Python
ignores (SIGPIPE, SIGXFSZ), an empty signal mask, and none of the launcher's files
(Python opens them all close-on-exec). Elsewhere, Popen.

A program named without a ``/`` is looked up on the launcher's ``PATH`` once per sweep,
not by every spawn: ``posix_spawnp`` tries each ``PATH`` folder with an ``execve`` in
the child, and a sweep runs the same few programs a thousand times. When the program
found is gone by the time a run starts, that run looks it up again.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from runlab.launch.runfolder import Outcome
from runlab.record.status import RunStatus

# glibc implements POSIX_SPAWN_SETSID; other systems may not (os raises NotImplementedError).
USE_POSIX_SPAWN = sys.platform.startswith("linux") and hasattr(os, "posix_spawnp")
# Characters that need a shell; a command without them is executed directly (no sh).
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]#~=%{}\n!]")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")  # shlex's whitespace, not str.split's wider set
TIMEOUT_EXIT_CODE = 124  # as coreutils `timeout` reports it
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
    """A command started with ``posix_spawnp``; ``wait`` and ``poll`` reap it, as Popen's do.

    Only the launcher's loop reaps its commands, so no other thread can take an exit
    code from under it.
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
        """The exit code if the process has ended (reaping it), else None."""
        if self.returncode is None:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
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


def command_argv(line: str) -> list[str]:
    """The argv for a rendered command: run directly when it needs no shell.

    Without shell syntax there are no quotes, escapes or comments either, so
    ``shlex.split`` would only split at its whitespace: done here with one regex, as
    ``shlex`` reads a line character by character.
    """
    if _SHELL_SYNTAX.search(line):
        return ["/bin/sh", "-c", line]
    return [word for word in _SHLEX_SPACE.split(line) if word]


def judge(
    name: str, code: int, *, timed_out: bool, cancelled: bool, timeout: float | None
) -> Outcome | None:
    """The outcome of a command that exited with ``code``; None when it succeeded.

    A command the launcher stopped (``timed_out``, ``cancelled``) is judged by why it
    was stopped, not by how it answered the signal.
    """
    if timed_out:
        return Outcome(
            RunStatus.FAILED, TIMEOUT_EXIT_CODE, f"command {name!r} timed out after {timeout:g}s"
        )
    if cancelled:
        return Outcome(RunStatus.INTERRUPTED, 128 + signal.SIGTERM, f"command {name!r} interrupted")
    if code == 0:
        return None
    if code < 0:
        sig = -code
        status = (
            RunStatus.INTERRUPTED if sig in (signal.SIGINT, signal.SIGTERM) else RunStatus.FAILED
        )
        return Outcome(status, 128 + sig, f"command {name!r} killed by {signal.Signals(sig).name}")
    return Outcome(RunStatus.FAILED, code, f"command {name!r} exited with {code}")


def signal_group(proc: Process, sig: int) -> None:
    """Send ``sig`` to the process group ``proc`` leads (its whole tree); gone is fine."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
