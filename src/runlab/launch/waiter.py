"""How the launcher's loop waits: for a process to end, a pipe to fill, or a wake-up.

The launcher (``launch/local.py``) decides what happens to runs; this module only tells
it when something happened, whatever the system offers:

- a process's end: its pidfd becomes readable (Linux 5.3+). Without pidfds (RHEL 8's
  4.18 kernels, macOS) the process is polled: SIGCHLD wakes the wait when the loop runs
  in the main thread (signal handlers are the main thread's), and in another thread the
  wait lasts at most a few milliseconds;
- a worker's answer: its stdout becomes readable;
- ``wake()``: a byte on a pipe, the one thing a signal handler or another thread does to
  the loop. The pipe lives as long as the waiter, so a ``wake()`` that comes as a launch
  ends never writes into an fd number used again.
"""

from __future__ import annotations

import os
import selectors
import signal
import threading
import weakref
from collections.abc import Callable
from typing import Any

from runlab.launch.spawn import Process

# How often a process without a pidfd is asked whether it ended: when nothing else wakes
# the wait, and when SIGCHLD does (in case another handler takes it meanwhile).
_POLL_SECONDS = 0.005
_POLL_WITH_SIGCHLD_SECONDS = 0.5


class Waiter:
    """One loop's waiting: ``open`` before a launch, ``close`` after it.

    Usage::

        waiter.open()
        waiter.watch(proc, on_end)        # on_end() once proc has ended (not yet reaped)
        waiter.add_reader(fd, on_data)    # on_data() whenever fd has something
        waiter.wait(timeout)              # sleep until then or something happened
        waiter.close()
    """

    def __init__(self) -> None:
        self._pipe: tuple[int, int] | None = None
        self._selector: selectors.BaseSelector | None = None
        self._pidfds: dict[int, int] = {}  # pid -> its pidfd, while watched
        self._polled: dict[int, tuple[Process, Callable[[], None]]] = {}
        self._sigchld: tuple[Any] | None = None  # the handler ours replaced, while it does

    def open(self) -> None:
        if self._pipe is None:
            self._pipe = os.pipe()
            for fd in self._pipe:
                os.set_blocking(fd, False)
            weakref.finalize(self, _close_all, self._pipe)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._pipe[0], selectors.EVENT_READ, None)

    def close(self) -> None:
        """Stop waiting: pidfds closed, SIGCHLD's handler put back. The pipe stays."""
        for pidfd in self._pidfds.values():
            os.close(pidfd)
        self._pidfds.clear()
        self._polled.clear()
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._sigchld is not None:
            signal.signal(signal.SIGCHLD, self._sigchld[0])
            self._sigchld = None

    def wake(self) -> None:
        """End the current or the next wait; safe in a signal handler and from any thread."""
        pipe = self._pipe
        if pipe is not None:
            try:
                os.write(pipe[1], b"!")
            except OSError:  # the pipe is full: the wait ends already
                pass

    def watch(self, proc: Process, on_end: Callable[[], None]) -> None:
        """Call ``on_end()`` from a later ``wait`` once ``proc`` has ended."""
        assert self._selector is not None
        try:
            pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # not Linux 5.3+: polled
            self._polled[proc.pid] = (proc, on_end)
            self._listen_for_children()
            return
        self._pidfds[proc.pid] = pidfd

        def ended() -> None:
            assert self._selector is not None
            self._selector.unregister(pidfd)
            os.close(self._pidfds.pop(proc.pid))
            on_end()

        self._selector.register(pidfd, selectors.EVENT_READ, ended)

    def add_reader(self, fd: int, on_data: Callable[[], None]) -> None:
        assert self._selector is not None
        self._selector.register(fd, selectors.EVENT_READ, on_data)

    def remove_reader(self, fd: int) -> None:
        assert self._selector is not None
        self._selector.unregister(fd)

    def wait(self, timeout: float) -> None:
        """Sleep at most ``timeout`` seconds, then call back what happened meanwhile."""
        assert self._selector is not None
        if self._polled:
            limit = _POLL_WITH_SIGCHLD_SECONDS if self._sigchld else _POLL_SECONDS
            timeout = min(timeout, limit)
        for key, _ in self._selector.select(max(0.0, timeout)):
            if key.data is None:
                _drain(key.fd)
            else:
                key.data()
        for pid, (proc, on_end) in list(self._polled.items()):
            if proc.poll() is not None:
                del self._polled[pid]
                on_end()

    def _listen_for_children(self) -> None:
        """Have SIGCHLD end the wait, so that polled processes are asked at once."""
        if self._sigchld is not None or threading.current_thread() is not threading.main_thread():
            return
        self._sigchld = (signal.signal(signal.SIGCHLD, lambda signum, frame: self.wake()),)


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


def _drain(fd: int) -> None:
    """Empty the wake-up pipe (its bytes only end a wait)."""
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
