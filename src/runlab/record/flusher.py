"""One background thread per process writes every live run's metrics and heartbeats.

``run.log`` only appends to a list; this thread writes the points out at least every
half second (sooner when a run's buffer grows past :data:`WAKE_AT` points), and touches
each run's ``.heartbeat`` every 15 s so other hosts can tell a live run from a lost one.
One thread serves every run of the process: starting a thread per run cost more than
all of a run's file writes together. The thread starts with the first run and stays
(idle, it wakes twice a second); a forked child starts its own when it needs one.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Protocol

FLUSH_SECONDS = 0.5
# Buffered points that wake the thread at once. Small batches format faster per point:
# a batch's text stays in the CPU cache the training loop shares (20,000 cost ~10 % more).
WAKE_AT = 5_000


class Flushable(Protocol):
    def flush_metrics(self) -> None: ...

    def beat_if_due(self) -> None: ...


class _Flusher:
    def __init__(self) -> None:
        self._runs: list[Flushable] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False
        self._woken = False

    def add(self, run: Flushable) -> None:
        with self._lock:
            self._runs.append(run)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="runlab-flush", daemon=True)
                self._thread.start()

    def remove(self, run: Flushable) -> None:
        with self._lock:
            if run in self._runs:
                self._runs.remove(run)

    def wake(self) -> None:
        # Called by every log() past WAKE_AT until this thread gets the GIL, thousands of
        # calls later: only the first pays for Event.set (a lock and a notify).
        if not self._woken:
            self._woken = True
            self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self._woken = False
            with self._lock:
                runs = list(self._runs)
            for run in runs:
                try:
                    run.flush_metrics()
                    run.beat_if_due()
                except OSError as exc:  # a full disk must not end the thread for every run
                    if not self._warned:
                        self._warned = True
                        warnings.warn(f"runlab could not write metrics: {exc}", stacklevel=1)

    def _after_fork(self) -> None:
        self.__init__()  # type: ignore[misc]  # the parent's thread and lock are not ours


FLUSHER = _Flusher()
os.register_at_fork(after_in_child=FLUSHER._after_fork)
