"""Watching a launch from the terminal: the progress line, the failure table, ``--debug``'s logs.

``runlab run`` (in :mod:`runlab.cli.launch`) hands each launcher event to these; they
only print, and never change what the launcher records.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from runlab.record.files import read_json
from runlab.record.layout import RunDir
from runlab.record.logs import read_from
from runlab.store import Store


class Progress:
    """The live line (done / failed / running / left, ETA) and the failure table at the end.

    On a terminal the line is redrawn in place (rich). Elsewhere (a log file, CI) it is
    plain text: a line for each run that did not complete and the progress line every
    ``PLAIN_EVERY`` seconds, because a line per run costs more than dispatching a no-op
    command and buries the failures in a long sweep's log.
    """

    PLAIN_EVERY = 10.0

    def __init__(self, total: int, skipped: int, slots: int) -> None:
        self.total, self.skipped, self.slots = total, skipped, slots
        self.done = self.failed = self.running = 0
        self.started = self.printed = time.monotonic()
        self.live: Any = None
        self.console: Any = None
        if sys.stderr.isatty():
            from rich.console import Console

            self.console = Console(stderr=True)

    def __enter__(self) -> Progress:
        if self.skipped:
            self.note(f"{self.skipped} configs already done or running: skipped")
        if self.console is not None and self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                self._line(), console=self.console, refresh_per_second=4, transient=False
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.update(self._line())
            self.live.__exit__(*exc)

    def note(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def _line(self) -> str:
        finished = self.done + self.failed
        left = self.total - finished - self.running
        eta = ""
        if finished and left + self.running:
            per_run = (time.monotonic() - self.started) / finished
            seconds = per_run * (left + self.running)
            hours, rest = divmod(int(seconds), 3600)
            eta = f" · ETA {hours}:{rest // 60:02d}:{rest % 60:02d}"
        return (
            f"done {self.done} · failed {self.failed} · running {self.running} · left {left}{eta}"
        )

    def event(self, event: Any) -> None:
        if event.kind == "start":
            self.running += 1
        elif event.kind == "finish":
            self.running -= 1
            status = event.outcome.status.value
            if status == "completed":
                self.done += 1
            else:
                self.failed += 1
                if self.live is None:
                    self.note(f"{status} {event.entry.run_id}")
        if self.live is not None:
            self.live.update(self._line())
        elif time.monotonic() - self.printed >= self.PLAIN_EVERY:
            self.printed = time.monotonic()
            self.note(self._line())

    def report(self, result: Any, store: Store) -> None:
        self.note(self._line())
        failed = {k: o for k, o in result.outcomes.items() if o.status.value != "completed"}
        if not failed:
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="runs that did not complete")
        for column in ("run", "status", "exit", "error", "folder"):
            table.add_column(column, overflow="fold")
        for run_id, outcome in failed.items():
            table.add_row(
                run_id,
                outcome.status.value,
                str(outcome.exit_code),
                outcome.error or "",
                str(Path(store.root) / run_id),
            )
        (self.console or Console(stderr=True)).print(table)


class LogEcho:
    """``run --debug``: the run's logs copied to stdout as they grow (mlrunner's ``tee``).

    The launcher writes a command's output only to ``logs/<name>.log`` (a Python
    task's to ``stdout.log``/``stderr.log``); a thread copies what was appended every
    0.1 s, in command order, so the terminal shows the output while the run goes on
    and the run folder is exactly what it is without ``--debug``.
    """

    def __init__(self, store: Store, forward: Callable[[Any], None]) -> None:
        self.store, self.forward = store, forward
        self.out = click.get_binary_stream("stdout")
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.offsets: dict[Path, int] = {}

    def __call__(self, event: Any) -> None:
        self.forward(event)
        if event.kind == "start":
            run_dir = RunDir(self.store.root / event.entry.run_id)
            # The commands this attempt executes (a retry skips those that completed).
            steps = (read_json(run_dir.run_json, default={}, warn=False) or {}).get("steps")
            paths = [run_dir.path / "logs" / f"{name}.log" for name in steps or ()]
            self.offsets = {}  # a retry starts new log files
            self.stop.clear()
            self.thread = threading.Thread(
                target=self._follow,
                args=(paths or [run_dir.stdout_log, run_dir.stderr_log],),
                daemon=True,
            )
            self.thread.start()
        elif event.kind == "finish" and self.thread is not None:
            self.stop.set()
            self.thread.join()
            self.thread = None

    def _follow(self, paths: list[Path]) -> None:
        while not self.stop.wait(0.1):
            self._copy(paths)
        self._copy(paths)  # what the last command wrote before it ended

    def _copy(self, paths: list[Path]) -> None:
        for path in paths:
            start = self.offsets.get(path, 0)
            data = read_from(path, start)
            if data:
                self.offsets[path] = start + len(data)
                self.out.write(data)
                self.out.flush()
