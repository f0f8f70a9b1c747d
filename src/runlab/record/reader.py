"""Read one run folder back: record, params, summary, metrics, logs, and its live status.

Readers never write. They tolerate what a crash leaves behind: a missing or truncated
JSON file reads as empty (with a warning), a torn metrics line is skipped.
"""

from __future__ import annotations

import os
import stat
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.record.files import iter_jsonl, read_json
from runlab.record.layout import RunDir
from runlab.record.run import load_artifact
from runlab.record.status import RunStatus, is_lost

if TYPE_CHECKING:
    import pandas as pd


def effective_status(record: dict[str, Any], run_dir: RunDir) -> RunStatus:
    """The status a reader should show: ``lost`` for a ``running`` run whose process is gone."""
    raw = record.get("status") or RunStatus.LOST.value
    try:
        status = RunStatus(raw)
    except ValueError:
        return RunStatus.LOST
    if status is RunStatus.RUNNING and is_lost(record, run_dir.last_beat()):
        return RunStatus.LOST
    return status


class RunReader:
    """A finished or live run, read from its folder. Files are read lazily, once."""

    def __init__(self, path: str | os.PathLike[str] | RunDir) -> None:
        self.run_dir = path if isinstance(path, RunDir) else RunDir(Path(path))

    def __repr__(self) -> str:
        return f"<RunReader {self.id} {self.status.value} {self.dir}>"

    @property
    def id(self) -> str:
        return self.run_dir.id

    @property
    def dir(self) -> Path:
        return self.run_dir.path

    @cached_property
    def record(self) -> dict[str, Any]:
        return read_json(self.run_dir.run_json, default={}) or {}

    @property
    def name(self) -> str:
        return str(self.record.get("name") or self.id)

    @cached_property
    def params(self) -> dict[str, Any]:
        return read_json(self.run_dir.params_json, default={}) or {}

    @cached_property
    def defaults(self) -> dict[str, Any]:
        return read_json(self.run_dir.defaults_json, default={}) or {}

    @cached_property
    def summary(self) -> dict[str, Any]:
        return read_json(self.run_dir.summary_json, default={}) or {}

    @property
    def tags(self) -> dict[str, Any]:
        return dict(self.record.get("tags") or {})

    @property
    def status(self) -> RunStatus:
        return effective_status(self.record, self.run_dir)

    def metrics(self) -> pd.DataFrame:
        """The step series as a DataFrame: one row per ``log`` call, columns step, time, keys."""
        import pandas as pd

        frame = pd.DataFrame.from_records(list(iter_jsonl(self.run_dir.metrics_jsonl)))
        if frame.empty:
            return pd.DataFrame(columns=["step", "time"])
        return frame

    @property
    def stdout(self) -> str:
        return _read_text(self.run_dir.stdout_log)

    @property
    def stderr(self) -> str:
        return _read_text(self.run_dir.stderr_log)

    @property
    def error(self) -> str:
        return _read_text(self.run_dir.error_txt)

    @property
    def git_diff(self) -> str:
        return _read_text(self.run_dir.git_diff)

    def latest_log(self, name: str) -> Path | None:
        """The newest log file called ``name`` in this run (by mtime), or None if there is none.

        ``name`` is a command name (``train`` finds ``logs/train.log``), ``stdout`` or
        ``stderr``, a file name, or a glob. A name without ``/`` is looked for, as itself
        and with ``.log`` added, in the run folder, in ``logs/`` and in earlier attempts'
        ``logs/attempt-<n>/``; one with ``/`` (``logs/*.log``) is a glob from the run
        folder. mlrunner's ``latest_log("test", output_dir)`` is ``run.latest_log("test")``.
        """
        if not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise UsageError(f"log {name!r}: give a name or a glob inside the run folder")
        if "/" in name:
            patterns = [name]
        else:
            patterns = [
                f"{folder}{pattern}"
                for folder in ("", "logs/", "logs/attempt-*/")
                for pattern in dict.fromkeys((name, f"{name}.log"))
            ]
        newest: tuple[int, str] | None = None
        for pattern in patterns:
            for path in self.dir.glob(pattern):
                try:
                    info = path.stat()
                except OSError:  # removed between the listing and the stat
                    continue
                if stat.S_ISREG(info.st_mode):
                    key = (info.st_mtime_ns, str(path))
                    newest = key if newest is None or key > newest else newest
        return Path(newest[1]) if newest else None

    def load(self, name: str) -> Any:
        """Load an artifact saved with ``run.save(obj, name)``."""
        return load_artifact(self.run_dir, name)

    def artifact(self, name: str) -> Path:
        """The path of a file written with ``run.open(name, ...)``."""
        return self.run_dir.artifact(name)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
