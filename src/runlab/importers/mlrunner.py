"""mlrunner output: every folder holding a ``param`` file is one run.

mlrunner runs each parameter combination's commands in ``output/<Name_value-...>/``
and keeps two small YAML files there. What is read and how it is mapped:

- ``param``: the keys not starting with ``_`` → ``params.json``; ``_name`` → the run's
  name; ``_time`` (``20220316.030151``, local time) → ``start``; ``_scripts`` (one shell
  line per command) → ``command``, joined with ``&&`` in the order ``param`` lists them;
- ``stat`` (``train: finished``): a ``failed`` command → ``failed`` (named in the
  message); else a ``running`` one → ``running`` when a log changed in the last
  minute, else ``lost``; all ``finished`` → ``completed``; no ``stat`` → ``queued``
  (mlrunner writes it when a command starts, so none has);
- ``log.<command>.<time>``: the newest log of each command → ``logs/<command>.log``
  (what ``runlab logs RUN --command NAME`` shows); the newest log's time → ``end``.

mlrunner's metrics come from parsers the user writes over the logs, so an imported
run has no summary: apply the parsers with ``runlab parse --parser module`` (mlrunner's
``latest_log("test", output_dir)`` is ``run.latest_log("test")``). A re-import keeps
the summary they wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runlab.importers.settings import load_yaml
from runlab.importers.source import (
    Found,
    SourceRun,
    ToolFormat,
    as_dict,
    live_status,
    local_time,
    newest,
)
from runlab.record.status import RunStatus

MARKER = "param"
STAT = "stat"
LOG_PREFIX = "log."


class MLRunnerFormat(ToolFormat):
    """Folders written by mlrunner's ``run``."""

    name = "mlrunner"

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]:
        if MARKER not in names:
            return []
        logs = sorted(n for n in names if n.startswith(LOG_PREFIX))
        files = [MARKER, *([STAT] if STAT in names else []), *logs]
        return [Found(folder, tuple(folder / n for n in files))]

    def read(self, found: Found, name: str) -> SourceRun:
        folder = found.path
        spec = as_dict(folder / MARKER, load_yaml(folder / MARKER))
        has_stat = any(p.name == STAT for p in found.files)
        stat = as_dict(folder / STAT, load_yaml(folder / STAT) or {}) if has_stat else None
        logs = _latest_logs([p for p in found.files if p.name.startswith(LOG_PREFIX)])
        status, error = _status(stat)
        last_log = newest(list(logs.values()))
        if status is RunStatus.RUNNING:
            status = live_status(newest(list(found.files)))
        scripts = spec.get("_scripts")
        command = None
        if isinstance(scripts, dict) and scripts:
            command = " && ".join(str(s).strip() for s in scripts.values())
        start = local_time(str(spec["_time"]), "%Y%m%d.%H%M%S") if "_time" in spec else None
        return SourceRun(
            name=str(spec.get("_name") or name),
            params={k: v for k, v in spec.items() if not k.startswith("_")},
            status=status,
            logs={f"logs/{cmd}.log": path for cmd, path in logs.items()},
            error=error,
            exit_code={RunStatus.COMPLETED: 0}.get(status),
            start=start,
            end=last_log if status.finished else None,
            command=command,
            last_active=newest(list(found.files)),
        )


def _latest_logs(paths: list[Path]) -> dict[str, Path]:
    """The newest log of each command: ``log.<command>.<YYYYmmdd.HHMMSS>`` sorts by time."""
    latest: dict[str, Path] = {}
    for path in sorted(paths, key=lambda p: p.name):
        rest = path.name[len(LOG_PREFIX) :]
        command = rest.split(".", 1)[0]
        if command:
            latest[command] = path
    return latest


def _status(stat: dict[str, Any] | None) -> tuple[RunStatus, str | None]:
    if stat is None or not stat:
        return RunStatus.QUEUED, None
    failed = [str(c) for c, s in stat.items() if s == "failed"]
    if failed:
        return RunStatus.FAILED, f"mlrunner: command {', '.join(failed)} failed"
    if any(s == "running" for s in stat.values()):
        return RunStatus.RUNNING, None
    return RunStatus.COMPLETED, None
