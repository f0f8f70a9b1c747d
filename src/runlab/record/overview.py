"""What ``runlab show`` tells about one run, gathered from its folder in one value.

The CLI formats it (a rich layout, or JSON); keeping the gathering here lets the web
page and tests use the same facts without going through the command line.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from runlab.record.logs import tail_lines
from runlab.record.reader import RunReader
from runlab.record.run import parse_iso
from runlab.record.status import RunStatus

TAIL_LINES = 10


@dataclass(frozen=True)
class RunOverview:
    """One run at a glance: its record, params, summary and the end of its logs.

    ``status`` is the effective status (``lost`` for a dead ``running`` run); ``duration``
    of a live run is the time since its attempt started. Immutable: a snapshot.
    """

    id: str
    name: str
    status: RunStatus
    description: str
    tags: dict[str, Any]
    start: str | None
    end: str | None
    duration: float | None
    host: str | None
    command: str | None
    cwd: str | None
    git: dict[str, Any] | None
    attempt: int
    exit_code: int | None
    error: str | None
    dir: str
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    stdout_tail: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The overview as JSON data (the status as its string)."""
        data = asdict(self)
        data["status"] = self.status.value
        return data


def overview(reader: RunReader, *, tail: int = TAIL_LINES) -> RunOverview:
    """Gather what ``runlab show`` prints about the run ``reader`` reads."""
    record = reader.record
    status = reader.status
    duration = record.get("duration")
    if status is RunStatus.RUNNING and record.get("attempt_start"):
        # A live run records its duration only when it ends; show how long it has run.
        previous = float(duration or 0.0)
        duration = round(previous + time.time() - parse_iso(str(record["attempt_start"])), 3)
    return RunOverview(
        id=reader.id,
        name=reader.name,
        status=status,
        description=str(record.get("description") or ""),
        tags=reader.tags,
        start=record.get("start"),
        end=record.get("end"),
        duration=duration,
        host=record.get("host"),
        command=record.get("command"),
        cwd=record.get("cwd"),
        git=record.get("git"),
        attempt=int(record.get("attempt") or 1),
        exit_code=record.get("exit_code"),
        error=record.get("error"),
        dir=str(reader.dir),
        params=reader.params,
        summary=reader.summary,
        stdout_tail=tail_lines(reader.run_dir.stdout_log, tail),
        stderr_tail=tail_lines(reader.run_dir.stderr_log, tail),
    )
