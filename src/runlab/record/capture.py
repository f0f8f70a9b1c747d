"""Tee the process's stdout and stderr into a run's log files, at the file-descriptor level.

Python-level redirection (``contextlib.redirect_stdout``) misses what C extensions and
child processes write, because they write to fd 1 and 2 directly. So fd 1/2 are pointed
at pipes while the run lives, and a copying thread (the "pump") copies each pipe to the
real terminal and to the log. When the process has no usable fd (a notebook, a test
runner that swapped ``sys.stdout``) the capture falls back to wrapping
``sys.stdout``/``sys.stderr``.

The pump outlives runs: one thread per process, waiting in ``epoll``/``kqueue``, with
pipes registered and unregistered from the run's thread (those selectors allow that
while another thread waits). A thread per run cost a tenth of a millisecond to start
and join, and while starting it fought the run for the GIL. At the end of a run its own
thread drains the pipes (non-blocking) and releases them; only a pipe a child process
still holds stays with the pump, which releases it at the child's end-of-file. A capture
started while another is active (a run inside a run) gets a pump of its own: its output
goes into the outer pipe, and one thread that both fills and empties a pipe could block
on it forever.
"""

from __future__ import annotations

import contextlib
import io
import os
import selectors
import sys
import threading
from pathlib import Path
from typing import IO, Any

_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
# Selectors whose registrations reach a select() already waiting in another thread; with
# any other the pump looks for new pipes every _RESCAN seconds (data waits in the pipe).
_LIVE_SELECTORS = tuple(
    getattr(selectors, name)
    for name in ("EpollSelector", "KqueueSelector")
    if hasattr(selectors, name)
)
_RESCAN = 0.05


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _FdTee:
    """One fd pointed into a pipe; the pipe is copied to the original fd and a log."""

    def __init__(self, fd: int, stream: IO[str], log: Path) -> None:
        self.fd = fd
        self.stream = stream
        self.log = os.open(log, _LOG_FLAGS, 0o666)
        stream.flush()
        self.saved = os.dup(fd)
        # Whoever copies (the pump, or stop() draining) holds the lock, and whoever sees
        # the end-of-file releases the fds under it, once: a released fd number may be
        # reused by the next file opened, which must never receive this pipe's output.
        self.lock = threading.Lock()
        self.released = False
        self.pump: _Pump | None = None
        self.read_end, write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        os.dup2(write_end, fd)
        os.close(write_end)

    def copy(self) -> None:
        """Copy what the pipe holds now; release everything at its end-of-file."""
        with self.lock:
            while not self.released:
                try:
                    chunk = os.read(self.read_end, 65536)
                except BlockingIOError:
                    return  # empty, and a writer (our fd, or a child) still holds it
                except OSError:
                    chunk = b""
                if not chunk:
                    self._release()
                    return
                with contextlib.suppress(OSError):
                    _write_all(self.saved, chunk)
                with contextlib.suppress(OSError):
                    _write_all(self.log, chunk)

    def restore(self) -> None:
        """Point the fd back at the original; closes our last copy of the pipe's write end."""
        with contextlib.suppress(ValueError, OSError):
            self.stream.flush()
        os.dup2(self.saved, self.fd)

    def _release(self) -> None:
        self.released = True
        if self.pump is not None:
            self.pump.forget(self)
        for fd in (self.read_end, self.saved, self.log):
            with contextlib.suppress(OSError):
                os.close(fd)


class _Pump:
    """A daemon thread copying every registered pipe as data arrives."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        # An idle pipe, never written, keeps the selector non-empty: kqueue returns at
        # once when asked to wait for zero events. Its write end stays open, or the read
        # end would report end-of-file, and wake the loop, forever.
        self._idle_read, self._idle_write = os.pipe()
        self._selector.register(self._idle_read, selectors.EVENT_READ, None)
        self._timeout = None if isinstance(self._selector, _LIVE_SELECTORS) else _RESCAN
        threading.Thread(target=self._loop, name="runlab-capture", daemon=True).start()

    def add(self, tee: _FdTee) -> None:
        tee.pump = self
        self._selector.register(tee.read_end, selectors.EVENT_READ, tee)

    def forget(self, tee: _FdTee) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(tee.read_end)

    def _loop(self) -> None:
        while True:
            try:
                ready = self._selector.select(self._timeout)
            except (OSError, ValueError):  # a pipe released while select() looked at it
                continue
            for key, _ in ready:
                if key.data is not None:
                    key.data.copy()


_pumps: list[_Pump] = []  # by nesting depth: _pumps[0] serves captures not inside another
_active: list[Capture] = []


def _pump_at(depth: int) -> _Pump:
    while len(_pumps) <= depth:
        _pumps.append(_Pump())
    return _pumps[depth]


def _after_fork() -> None:
    # The parent's pump threads do not exist in a child; it starts its own when needed.
    _pumps.clear()
    _active.clear()


os.register_at_fork(after_in_child=_after_fork)


class _StreamTee(io.TextIOBase):
    """Fallback: a text stream that writes to the original stream and to a log."""

    def __init__(self, original: Any, log: Path) -> None:
        self.original = original
        self.log = log.open("a", encoding="utf-8")

    def write(self, text: str) -> int:
        self.original.write(text)
        self.log.write(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()
        self.log.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.original, "isatty", lambda: False)())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")


def _has_real_fd(stream: Any, fd: int) -> bool:
    try:
        return stream is not None and stream.fileno() == fd
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False


class Capture:
    """Capture stdout and stderr into two log files until :meth:`stop`."""

    def __init__(self, stdout_log: Path, stderr_log: Path) -> None:
        self._tees: list[_FdTee] = []
        self._streams: list[tuple[str, Any, _StreamTee]] = []
        for name, fd, log in (("stdout", 1, stdout_log), ("stderr", 2, stderr_log)):
            stream = getattr(sys, name)
            if _has_real_fd(stream, fd):
                self._tees.append(_FdTee(fd, stream, log))
            else:
                tee = _StreamTee(stream, log)
                setattr(sys, name, tee)
                self._streams.append((name, stream, tee))
        if self._tees:
            pump = _pump_at(len(_active))
            for fd_tee in self._tees:
                pump.add(fd_tee)
        _active.append(self)
        self._pid = os.getpid()

    def stop(self) -> None:
        """Restore the streams; everything written before this call is in the logs."""
        if self in _active:
            _active.remove(self)
        # A forked child ending its parent's run shares the parent's pipes and epoll
        # instance: it puts its own fds back and leaves the copying to the parent.
        parent = os.getpid() == self._pid
        # Drained here rather than by the pump, so a run's end waits for no other thread:
        # taken from the pump first, or the end-of-file that restore() causes wakes it.
        for tee in self._tees:
            if parent and tee.pump is not None:
                tee.pump.forget(tee)
        for tee in reversed(self._tees):
            tee.restore()
        for tee in self._tees if parent else ():
            tee.copy()
            if not tee.released and tee.pump is not None:
                tee.pump.add(tee)  # a child process still holds the pipe: the pump waits for it
        for name, original, stream_tee in reversed(self._streams):
            stream_tee.flush()
            if getattr(sys, name) is stream_tee:
                setattr(sys, name, original)
            stream_tee.log.close()
        self._tees.clear()
        self._streams.clear()
