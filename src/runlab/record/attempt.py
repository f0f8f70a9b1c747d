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
from runlab.record.files import atomic_write_json, atomic_write_text
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
) -> dict[str, Any]:
    """Write params, git patch and ``run.json`` (status running) for a new attempt.

    ``record`` is a fresh :func:`~runlab.record.run.base_record`; with a ``previous``
    record of the same folder, the attempt continues it: attempt + 1, the first start
    kept, duration carried over, and name, description and tags kept unless given anew.
    Returns the record as written.
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
    atomic_write_json(run_dir.params_json, params)
    if defaults is not None:
        atomic_write_json(run_dir.defaults_json, to_jsonable(dict(defaults)))
    if git is not None and git.dirty and git.diff:
        atomic_write_text(run_dir.git_diff, git.diff)
    atomic_write_json(run_dir.run_json, record)
    layout.mark_changed(run_dir.id)
    return record
