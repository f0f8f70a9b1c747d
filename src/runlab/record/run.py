"""The live run: the object a script holds while it runs, writing only its own folder.

Writes are designed for a crash at any instant: ``run.json``, ``params.json`` and
``summary.json`` are replaced atomically; ``metrics.jsonl`` is appended by a flusher
thread at least every half second (so a logged point is on disk within a second and
``log`` itself costs a list append); ``.heartbeat`` is touched every 15 s so another
host can tell a live run from a lost one. After each state change the run drops a
marker in ``.changed/`` for the index to pick up.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
import shlex
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from time import time as _now
from types import TracebackType
from typing import IO, Any

from runlab.canonical import to_jsonable
from runlab.errors import UsageError
from runlab.record import hooks
from runlab.record.capture import Capture
from runlab.record.files import atomic_write_json, atomic_write_text, read_json, replacing
from runlab.record.flusher import FLUSHER, WAKE_AT
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.metrics import Point, format_points
from runlab.record.status import HEARTBEAT_SECONDS, RunStatus, identity

FORMAT_VERSION = 1
SIGTERM_EXIT_CODE = 128 + 15
SIGINT_EXIT_CODE = 128 + 2
# An interrupted run that saved a checkpoint exits with this code (EX_TEMPFAIL: "try
# again later"), so a cluster wrapper can tell "preempted, resumable" from a failure.
RESUMABLE_EXIT_CODE = 75


class Terminated(SystemExit):
    """Raised in the main thread on SIGTERM so runs unwind and record ``interrupted``.

    A SystemExit (code 143, as a shell reports SIGTERM) so an uncaught one ends the
    interpreter quietly, as the default SIGTERM action would.
    """

    def __init__(self) -> None:
        super().__init__(SIGTERM_EXIT_CODE)


def utc_iso(ts: float) -> str:
    """ISO 8601 UTC time with microseconds, the only time format in records."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def outcome_of(exc: BaseException | None) -> tuple[RunStatus, int, str | None]:
    """Map how a run's code ended to (status, exit code, error line)."""
    if exc is None:
        return RunStatus.COMPLETED, 0, None
    if isinstance(exc, Terminated):
        return RunStatus.INTERRUPTED, SIGTERM_EXIT_CODE, "terminated by SIGTERM"
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or code == 0:
            return RunStatus.COMPLETED, 0, None
        if isinstance(code, int):
            return RunStatus.FAILED, code, f"SystemExit: {code}"
        return RunStatus.FAILED, 1, f"SystemExit: {code}"
    if isinstance(exc, KeyboardInterrupt):
        return RunStatus.INTERRUPTED, SIGINT_EXIT_CODE, "KeyboardInterrupt"
    lines = traceback.format_exception_only(type(exc), exc)
    return RunStatus.FAILED, 1, lines[-1].strip() if lines else type(exc).__name__


class Run:
    """One run's folder, open for writing. Make one with :func:`runlab.start`.

    Usage::

        with runlab.start({"lr": 0.1}) as run:
            run.log(loss=0.3)            # step 0, then 1, 2, ... unless step= is given
            run.summary(acc=0.93)
            with run.open("model.pkl", "wb") as f:
                f.write(b"...")
    """

    def __init__(
        self,
        layout: StoreLayout,
        run_dir: RunDir,
        record: dict[str, Any],
        params: Mapping[str, Any],
        *,
        summary: Mapping[str, Any] | None = None,
        capture: bool = True,
        catch: bool = False,
        owns_status: bool = True,
    ) -> None:
        self._layout = layout
        self._run_dir = run_dir
        self._record = record
        self.params: dict[str, Any] = dict(params)
        self._summary: dict[str, Any] = dict(summary or {})
        self._last_logged: dict[str, Any] = {}
        self._catch = catch
        self._owns_status = owns_status
        self._buffer: list[Point] = []
        self._step = 0
        self._lock = threading.Lock()
        self._metrics_file: IO[str] | None = None
        # The attempt's clock starts at the time run.json records, so that a first
        # attempt's duration is exactly end - start (not end - this constructor).
        started = record.get("attempt_start")
        self._attempt_start = parse_iso(started) if started else time.time()
        self._finished = False
        self._capture = (
            Capture(run_dir.stdout_log, run_dir.stderr_log) if capture and owns_status else None
        )
        self._next_beat = time.monotonic() + HEARTBEAT_SECONDS
        FLUSHER.add(self)

    # -- identity -------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._run_dir.id

    @property
    def dir(self) -> Path:
        return self._run_dir.path

    @property
    def name(self) -> str:
        return str(self._record.get("name") or self.id)

    @property
    def status(self) -> RunStatus:
        return RunStatus(self._record["status"])

    @property
    def record(self) -> dict[str, Any]:
        """A copy of what ``run.json`` holds now."""
        return dict(self._record)

    def __repr__(self) -> str:
        return f"<Run {self.id} {self._record.get('status')} {self.dir}>"

    # -- writing --------------------------------------------------------------------
    def log(self, step: int | None = None, **values: Any) -> None:
        """Append one point of the step series; cheap (buffered, flushed in the background)."""
        # A training loop may call this half a million times a second, and the flusher
        # formats while this waits for the GIL: one tuple appended, nothing else.
        if step is None:
            step = self._step
        self._step = step + 1
        buffer = self._buffer
        buffer.append((step, _now(), values))
        if len(buffer) > WAKE_AT:
            FLUSHER.wake()

    def summary(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        """Merge final results into ``summary.json`` (written at once); return the summary."""
        if values is not None and not isinstance(values, Mapping):
            raise UsageError(f"summary() takes a mapping or keywords, not {type(values).__name__}")
        # Merge onto the file, not only onto our copy: a child process writing through
        # runlab.current() may have added values since, and a rewrite would drop them.
        on_disk = read_json(self._run_dir.summary_json, default={}, warn=False)
        if isinstance(on_disk, dict):
            self._summary = {**self._summary, **on_disk}
        self._summary.update(to_jsonable(dict(values or {}, **more)))
        atomic_write_json(self._run_dir.summary_json, self._summary)
        self._layout.mark_changed(self.id)
        return dict(self._summary)

    def set_tags(self, **tags: Any) -> None:
        """Set ``key=value`` tags (``None`` removes one); they show as ``tags.<key>`` columns."""
        current = dict(self._record.get("tags") or {})
        for key, value in tags.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = to_jsonable(value)
        self._record["tags"] = current
        self._write_record()

    def open(self, name: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open a file inside the run's ``artifacts/`` folder (parents created on write)."""
        path = self._run_dir.artifact(name)
        if any(c in mode for c in "wax+"):
            path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(mode, **kwargs)

    def save(self, obj: Any, name: str, *, format: str = "json") -> Path:
        """Save ``obj`` as artifact ``name``: ``json``, ``pickle`` or ``gzip`` (gzipped pickle)."""
        return save_artifact(self._run_dir, obj, name, format=format)

    def load(self, name: str) -> Any:
        """Load what :meth:`save` wrote under ``name``, whatever its format."""
        return load_artifact(self._run_dir, name)

    # -- continuation ---------------------------------------------------------------
    @property
    def attempt(self) -> int:
        """1 for a first run; more when this run continues an interrupted or failed one."""
        return int(self._record.get("attempt") or 1)

    def checkpoint(self, state: Any) -> None:
        """Save ``state`` (any picklable object) atomically; :meth:`restore` returns it later.

        Usage::

            state = run.restore({"epoch": 0})
            for epoch in range(state["epoch"], 100):
                ...
                run.checkpoint({"epoch": epoch + 1})
        """
        with replacing(self._run_dir.checkpoint) as tmp, open(tmp, "wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, default: Any = None) -> Any:
        """The last state saved with :meth:`checkpoint` in this run folder, else ``default``."""
        try:
            with open(self._run_dir.checkpoint, "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            return default

    # -- life -----------------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self.finish_from(exc, tb)
        if isinstance(exc, (KeyboardInterrupt, Terminated)) and self._run_dir.checkpoint.exists():
            raise SystemExit(RESUMABLE_EXIT_CODE) from exc
        return bool(self._catch and isinstance(exc, Exception))

    def finish_from(self, exc: BaseException | None, tb: TracebackType | None = None) -> None:
        """Finish with the status that ending by ``exc`` (None: normally) means."""
        status, code, error = outcome_of(exc)
        if status is RunStatus.INTERRUPTED and self._run_dir.checkpoint.exists():
            code = RESUMABLE_EXIT_CODE
        text = None
        if exc is not None and status is RunStatus.FAILED and not isinstance(exc, SystemExit):
            text = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
        self.finish(status, exit_code=code, error=error, error_text=text)

    def finish(
        self,
        status: RunStatus | str = RunStatus.COMPLETED,
        *,
        exit_code: int | None = None,
        error: str | None = None,
        error_text: str | None = None,
    ) -> None:
        """Flush everything, record the final status, and release the streams. Idempotent."""
        if self._finished:
            return
        self._finished = True
        FLUSHER.remove(self)
        self.flush_metrics()
        if self._metrics_file is not None:
            self._metrics_file.close()
        if self._capture is not None:
            self._capture.stop()
        hooks.forget(self)
        if self._last_logged:
            missing = {k: v for k, v in self._last_logged.items() if k not in self._summary}
            if missing:
                self.summary(missing)
        if not self._owns_status:
            return
        status = RunStatus(status)
        if error_text or (error and status is not RunStatus.COMPLETED):
            # A formatted traceback already ends with a newline: end the file with exactly one.
            text = (error_text or error or "").rstrip("\n")
            atomic_write_text(self._run_dir.error_txt, text + "\n")
        now = time.time()
        self._record.update(
            status=status.value,
            end=utc_iso(now),
            duration=round(
                float(self._record.get("duration") or 0.0) + now - self._attempt_start, 6
            ),
            exit_code=exit_code
            if exit_code is not None
            else (0 if status is RunStatus.COMPLETED else 1),
            error=error,
        )
        self._write_record()

    # -- internals ------------------------------------------------------------------
    def _write_record(self) -> None:
        atomic_write_json(self._run_dir.run_json, self._record)
        self._layout.mark_changed(self.id)

    def beat_if_due(self) -> None:
        """Touch ``.heartbeat`` when 15 s have passed (called by the flusher thread)."""
        if not self._owns_status or time.monotonic() < self._next_beat:
            return
        self._next_beat = time.monotonic() + HEARTBEAT_SECONDS
        self._run_dir.beat()

    def flush_metrics(self) -> None:
        """Append the buffered points to ``metrics.jsonl`` (the flusher thread and finish)."""
        with self._lock:
            if not self._buffer:
                return
            # Take a prefix and delete it in place instead of swapping the list: a log()
            # that read self._buffer just before a swap would append to the old list
            # after it was written out, and that point would be lost. Slicing and slice
            # deletion are each atomic under the GIL, so log() needs no lock.
            n = len(self._buffer)
            batch = self._buffer[:n]
            del self._buffer[:n]
            text = format_points(batch, self._last_logged)
            if self._metrics_file is None:
                self._metrics_file = self._run_dir.metrics_jsonl.open("a", encoding="utf-8")
                # A run killed mid-write left a torn last line; without a newline first the
                # next point would be glued onto it and skipped along with it on read.
                if not _ends_with_newline(self._run_dir.metrics_jsonl):
                    text = "\n" + text
            self._metrics_file.write(text)
            self._metrics_file.flush()


def _ends_with_newline(path: Path) -> bool:
    """True when ``path`` is empty or its last byte is a newline."""
    with path.open("rb") as f:
        if f.seek(0, os.SEEK_END) == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


_SAVE_SUFFIXES = {"json": ".json", "pickle": ".pkl", "gzip": ".pkl.gz"}


def save_artifact(run_dir: RunDir, obj: Any, name: str, *, format: str = "json") -> Path:
    """Save ``obj`` as artifact ``name`` in ``format``; return the file's path."""
    suffix = _SAVE_SUFFIXES.get(format)
    if suffix is None:
        raise UsageError(f"save format {format!r}: use json, pickle or gzip")
    path = run_dir.artifact(name + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "json":
        atomic_write_json(path, obj)
    else:
        opener = gzip.open if format == "gzip" else open
        with replacing(path) as tmp, opener(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    # load_artifact tries the formats in a fixed order, so an older save of the same
    # name in another format would shadow this one: remove it.
    for other in _SAVE_SUFFIXES.values():
        if other != suffix:
            run_dir.artifact(name + other).unlink(missing_ok=True)
    return path


def load_artifact(run_dir: RunDir, name: str) -> Any:
    """Load artifact ``name`` saved as ``.json``, ``.pkl`` or ``.pkl.gz``."""
    for suffix in (".json", ".pkl", ".pkl.gz"):
        path = run_dir.artifact(name + suffix)
        if path.exists():
            if suffix == ".json":
                return read_json(path)
            opener = gzip.open if suffix == ".pkl.gz" else open
            with opener(path, "rb") as f:
                return pickle.load(f)
    raise UsageError(f"run {run_dir.id} has no artifact {name!r} (.json, .pkl or .pkl.gz)")


def base_record(
    run_id: str,
    *,
    name: str | None,
    description: str,
    tags: Mapping[str, Any] | None,
    params_hash: str,
    git: Mapping[str, Any] | None,
    command: list[str] | None = None,
    sweep: str | None = None,
) -> dict[str, Any]:
    """The ``run.json`` of a run starting now in this process."""
    now = utc_iso(time.time())
    argv = list(command) if command is not None else list(sys.argv)
    pid, host, pid_start = identity()
    return {
        "format": FORMAT_VERSION,
        "id": run_id,
        "name": name or run_id,
        "description": description,
        "tags": to_jsonable(dict(tags)) if tags else {},
        "sweep": sweep,
        "status": RunStatus.RUNNING.value,
        "attempt": 1,
        "start": now,
        "attempt_start": now,
        "end": None,
        "duration": None,
        "host": host,
        "pid": pid,
        "pid_start": pid_start,
        "cwd": os.getcwd(),
        "argv": argv,
        "command": _command_line(tuple(argv), command is None),
        "python": _PYTHON,
        "executable": sys.executable,
        "exit_code": None,
        "error": None,
        "git": dict(git) if git is not None else None,
        "params_hash": params_hash,
    }


_PYTHON = sys.version.split()[0]


@functools.lru_cache(maxsize=16)
def _command_line(argv: tuple[str, ...], script: bool) -> str:
    """The shell line of ``argv`` (a script's prefixed by its interpreter), quoted once.

    Every run of a sweep in one process has the same argv, and quoting is a regex per
    argument.
    """
    return shlex.join([Path(sys.executable).name, *argv] if script else argv)
