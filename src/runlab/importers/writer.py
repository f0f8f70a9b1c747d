"""Write a :class:`SourceRun` as an ordinary run folder, update one, or remove one.

An imported run is a run like any other: the same files, ``run.json`` with the same
keys (``host``, ``pid`` and the interpreter are unknown, so null), plus
``imported_from`` (the absolute source folder), ``source_format`` (and for naklar
trees ``source_file``, the settings file's name) and
``source_stamp`` (what the source files looked like when read, so a re-import
re-reads only what changed). ``run.json`` is written last: a crash mid-way leaves a
folder without it, which is no run, and a new folder is removed on error.

An update rewrites the folder in place, each file atomically, and deletes the files
the previous import wrote that the new reading no longer has (``run.json`` lists
them as ``imported_files``). What came from elsewhere stays: tags set on the run, a
summary ``runlab parse`` pulled out of its logs, notes, artifacts.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runlab.canonical import config_hash
from runlab.errors import StoreError
from runlab.importers.source import Found, SourceError, SourceRun
from runlab.record.attempt import begin_attempt
from runlab.record.files import atomic_write_json, atomic_write_text, replacing
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.run import base_record, utc_iso
from runlab.record.status import RunStatus


def write_run(
    layout: StoreLayout,
    source: SourceRun,
    *,
    found: Found,
    source_format: str,
    source_file: str | None = None,
    stamp: str,
    run_dir: RunDir | None = None,
    previous: Mapping[str, Any] | None = None,
) -> RunDir:
    """Write ``source`` into a new run folder (claimed like any run) or over ``run_dir``."""
    new = run_dir is None
    try:
        target = layout.claim_next() if run_dir is None else run_dir
    except OSError as exc:
        raise StoreError(f"cannot create a run in {layout.root}: {exc.strerror or exc}") from exc
    try:
        written = _write_files(target, source)
        if previous is not None:
            _delete_stale(target, written, previous.get("imported_files") or ())
        record = _record(target.id, source, found, source_format, stamp, previous)
        if source_file is not None:
            record["source_file"] = source_file
        record["imported_files"] = sorted(written)
        begin_attempt(
            layout,
            target,
            record,
            source.params,
            previous=None,
            git=None,
            defaults=source.defaults,
        )
    except BaseException as exc:
        if new:
            shutil.rmtree(target.path, ignore_errors=True)
        if isinstance(exc, OSError):
            raise StoreError(
                f"cannot write run {target.id} in {layout.root}: {exc.strerror or exc}"
            ) from exc
        raise
    return target


def remove_run(layout: StoreLayout, run_id: str) -> None:
    """Delete a run folder: moved aside first, so readers see it whole or not at all."""
    path = layout.run_dir(run_id).path
    trash = layout.root / f".removing-{run_id}-{os.getpid()}"
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        pass  # removed meanwhile (by hand, or by another import): the index still hears of it
    except OSError as exc:
        raise StoreError(f"cannot remove run {run_id} in {layout.root}: {exc.strerror}") from exc
    layout.mark_changed(run_id)
    shutil.rmtree(trash, ignore_errors=True)


def _iso(ts: float | None) -> str | None:
    return utc_iso(ts) if ts is not None else None


def _record(
    run_id: str,
    source: SourceRun,
    found: Found,
    source_format: str,
    stamp: str,
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    tags = dict((previous or {}).get("tags") or {})
    record = base_record(
        run_id,
        name=source.name,
        description=source.description,
        tags=tags,
        params_hash=config_hash(source.params),
        git=source.git,
        command=list(source.argv or ()),
    )
    exit_code = source.exit_code
    if exit_code is None and source.status is RunStatus.COMPLETED:
        exit_code = 0  # what a completed run exits with, whatever the tool wrote down
    duration = None
    if source.start is not None and source.end is not None and source.end >= source.start:
        duration = round(source.end - source.start, 6)
    record.update(
        status=source.status.value,
        attempt=source.attempt,
        start=_iso(source.start),
        attempt_start=_iso(source.start),
        end=_iso(source.end),
        duration=duration,
        host=None,
        pid=None,
        pid_start=None,
        cwd=None,
        argv=list(source.argv) if source.argv else None,
        command=source.command,
        python=None,
        executable=None,
        exit_code=exit_code,
        error=source.error,
        imported_from=str(found.path),
        source_format=source_format,
        source_stamp=stamp,
        imported_at=utc_iso(time.time()),
    )
    return record


def _write_files(run_dir: RunDir, source: SourceRun) -> set[str]:
    """Write everything but params, defaults and run.json; return the names written."""
    written: set[str] = set()
    if source.summary:
        atomic_write_json(run_dir.summary_json, dict(source.summary))
        written.add("summary.json")
    if source.metrics:
        lines = "".join(json.dumps(dict(point)) + "\n" for point in source.metrics)
        atomic_write_text(run_dir.metrics_jsonl, lines)
        written.add("metrics.jsonl")
    for name, origin in source.logs.items():
        _copy(origin, run_dir.path / name)
        written.add(name)
    for report in source.reports:
        name = f"reports/{report['attempt']}.json"
        (run_dir.path / "reports").mkdir(exist_ok=True)
        atomic_write_json(run_dir.path / name, dict(report))
        written.add(name)
    if source.error_text or (source.error and source.status is not RunStatus.COMPLETED):
        text = (source.error_text or source.error or "").rstrip("\n")
        atomic_write_text(run_dir.error_txt, text + "\n")
        written.add("error.txt")
    if source.defaults is not None:
        written.add("defaults.json")  # begin_attempt writes it
    if source.status is RunStatus.RUNNING and source.last_active is not None:
        # The reader's verdict on a running run is the age of its last beat: the
        # source's last change is that beat (see record/status.py).
        run_dir.beat()
        os.utime(run_dir.heartbeat, (source.last_active, source.last_active))
        written.add(".heartbeat")
    return written


def _copy(origin: Path, target: Path) -> None:
    """Copy a log so the run folder never shows half of it.

    A source log that cannot be read is the source's fault (SourceError: the folder
    is skipped); anything else failing is the store's.
    """
    try:
        source = origin.open("rb")
    except OSError as exc:
        raise SourceError(origin, "unreadable file", exc.strerror or str(exc)) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, replacing(target) as tmp, tmp.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


def _delete_stale(run_dir: RunDir, written: set[str], before: Sequence[str]) -> None:
    """Delete the files the previous import wrote that this one did not."""
    for name in before:
        if not isinstance(name, str) or name in written:
            continue
        relative = Path(name)
        if not relative.is_absolute() and ".." not in relative.parts:
            (run_dir.path / relative).unlink(missing_ok=True)
