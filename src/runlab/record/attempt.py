"""Begin an attempt of a run in its folder: the one sequence every way of starting a run uses.

``runlab.start`` (a script), ``runlab exec`` and the sweep launcher all reach this, so
a run folder looks the same however it was made, and a re-used folder (``--run-id``,
``--resume``, a sweep re-running a failed config) keeps its first start time, adds up
its duration and counts its attempts the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runlab.canonical import to_jsonable
from runlab.record.files import atomic_write_json, atomic_write_text, create_json, create_text
from runlab.record.git import GitState
from runlab.record.layout import RunDir, StoreLayout


def begin_attempt(
    layout: StoreLayout,
    run_dir: RunDir,
    record: dict[str, Any],
    params: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None,
    git: GitState | None,
    defaults: Mapping[str, Any] | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """Write params, git patch and ``run.json`` (status running) for a new attempt.

    ``record`` is a fresh :func:`~runlab.record.run.base_record`; with a ``previous``
    record of the same folder, the attempt continues it: attempt + 1, the first start
    kept, duration carried over, and name, description and tags kept unless given anew.
    Returns the record as written.

    ``fresh``: the caller created ``run_dir`` by ``mkdir`` a moment ago and nothing else
    is in it yet. Then the files before ``run.json`` are written in place, without the
    temp file and rename each (see :func:`~runlab.record.files.create_text`): no reader
    can see them half-written, because ``run.json`` appears only after them, by a
    rename, and every reader of these files skips a folder without one:
    :meth:`~runlab.store.Store.run_dir` and ``resolve`` (``show``, ``diff``, tags),
    ``iter_run_dirs`` (rebuild, ``parse``, importers, ``find_resumable``), the index's
    ingest and rescan (``run.json`` read first, the folder skipped without it), the
    meticulous and mlrunner readers (``run.json`` or another marker first), the plan
    (``run.json`` only); ``runlab.current()`` runs in a task, started after the attempt
    opened.
    A launcher killed while writing them leaves a folder without ``run.json``, as
    before: the next launcher takes it over after a minute and writes them atomically.
    """
    record = dict(record)
    if previous is not None:
        # base_record names a run after its id when no name was given: keep the old name then
        named = record.get("name") not in (None, run_dir.id)
        record.update(
            attempt=int(previous.get("attempt") or 1) + 1,
            start=previous.get("start") or record["start"],
            duration=previous.get("duration") or 0.0,
            name=record["name"] if named else previous.get("name") or run_dir.id,
            description=record.get("description") or previous.get("description") or "",
            tags={**(previous.get("tags") or {}), **(record.get("tags") or {})},
        )
        # error.txt and git.diff describe the previous attempt; left in place they would
        # contradict this one's record (a completed run with an error, a clean tree with
        # a diff). This attempt writes its own below when it has one.
        run_dir.error_txt.unlink(missing_ok=True)
        run_dir.git_diff.unlink(missing_ok=True)
    write_json, write_text = (
        (create_json, create_text) if fresh else (atomic_write_json, atomic_write_text)
    )
    write_json(run_dir.file("params.json"), params)
    if defaults is not None:
        write_json(run_dir.file("defaults.json"), to_jsonable(dict(defaults)))
    if git is not None and git.dirty and git.diff:
        write_text(run_dir.file("git.diff"), git.diff)
    atomic_write_json(run_dir.file("run.json"), record)
    layout.mark_changed(run_dir.id)
    return record
