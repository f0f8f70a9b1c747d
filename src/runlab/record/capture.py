"""Tee the process's stdout and stderr into a run's log files, at the file-descriptor level.

Python-level redirection (``contextlib.redirect_stdout``) misses what C extensions and
child processes write, because they write to fd 1 and 2 directly. So fd 1/2 are pointed
at pipes while the run lives; one thread copies both pipes to the real terminal and to
the logs. When the process has no usable fd (a notebook, a test runner that swapped
``sys.stdout``) the capture falls back to wrapping ``sys.stdout``/``sys.stderr``.
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

# A child process that outlives the run keeps the pipe open; past this we stop
# waiting for its end-of-file rather than hang the run's finish.
_DRAIN_TIMEOUT = 2.0


class _FdTee:
    """One fd pointed into a pipe; the pump copies the pipe to the original fd and a log."""

    def __init__(self, fd: int, stream: IO[str], log: Path) -> None:
        self.fd = fd
        self.stream = stream
        self.log = log.open("ab", buffering=0)
        stream.flush()
        self.saved = os.dup(fd)
        # The saved fd and the log are closed by whichever ends last: stop(), or the pump
        # at end-of-file. Closing them while a pump still runs (a child outlived the run)
        # freed their numbers for reuse, and the pump then wrote into whatever file got them.
        self.lock = threading.Lock()
        self.pumped = False
        self.stopped = False
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)

    def copy(self) -> bool:
        """Copy what the pipe holds; False at end-of-file (every writer has closed it)."""
        try:
            chunk = os.read(self.read_end, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            return False
        with contextlib.suppress(OSError):
            os.write(self.saved, chunk)
        with contextlib.suppress(OSError, ValueError):
            self.log.write(chunk)
        return True

    def ended(self) -> None:
        """The pipe reached end-of-file: release now if stop() came first."""
        os.close(self.read_end)
        with self.lock:
            self.pumped = True
            if self.stopped:
                self._release()

    def restore(self) -> None:
        """Point the fd back at the original; closes our last copy of the pipe's write end."""
        with contextlib.suppress(ValueError, OSError):
            self.stream.flush()
        os.dup2(self.saved, self.fd)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.pumped:
                self._release()
            # else: a child still holds the pipe; the pump releases at its end-of-file,
            # and what the child writes until then still reaches the terminal and this log.

    def _release(self) -> None:
        os.close(self.saved)
        self.log.close()


def _pump(tees: list[_FdTee]) -> None:
    """Copy every tee's pipe until each reaches end-of-file: one thread for both streams."""
    with selectors.DefaultSelector() as selector:
        for tee in tees:
            selector.register(tee.read_end, selectors.EVENT_READ, tee)
        left = len(tees)
        while left:
            for key, _ in selector.select():
                tee = key.data
                if not tee.copy():
                    selector.unregister(tee.read_end)
                    tee.ended()
                    left -= 1


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
        self._thread: threading.Thread | None = None
        if self._tees:
            self._thread = threading.Thread(
                target=_pump, args=(list(self._tees),), name="runlab-capture", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Restore the streams; everything written before this call is in the logs."""
        for tee in reversed(self._tees):
            tee.restore()
        if self._thread is not None:
            self._thread.join(_DRAIN_TIMEOUT)
        for tee in self._tees:
            tee.stop()
        for name, original, stream_tee in reversed(self._streams):
            stream_tee.flush()
            if getattr(sys, name) is stream_tee:
                setattr(sys, name, original)
            stream_tee.log.close()
        self._tees.clear()
        self._streams.clear()
