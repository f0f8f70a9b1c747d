"""Annotate finished runs: tags in ``run.json``, free-text notes in ``notes.md``.

Both write through the record layer's rules (files first, then a ``.changed/`` marker
so the next index reader re-ingests the run, which makes them searchable):

- :func:`set_tags` rewrites ``run.json`` atomically (temp file + ``os.replace``) with
  its ``tags`` updated. A run still ``queued`` or ``running`` is refused: it holds its
  record in memory and its next write would drop the new tags.
- :func:`add_note` appends a dated paragraph to the run folder's ``notes.md``, a file
  the run itself never writes, so it works on live runs too. A note is markdown people
  read (``runlab show`` could show it) and the search indexes (``ls --search``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runlab.canonical import to_jsonable
from runlab.errors import StoreError, UsageError
from runlab.index.rows import NOTES_FILE
from runlab.record.files import atomic_write_json, read_json
from runlab.record.reader import effective_status
from runlab.record.status import RunStatus
from runlab.store import Store

_LIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def set_tags(
    store: Store, ref: str | int, tags: Mapping[str, Any], *, remove: Sequence[str] = ()
) -> dict[str, Any]:
    """Set ``tags`` and drop the ``remove`` keys on run ``ref`` (id or name); its new tags.

    Usage::

        set_tags(store, 7, {"stage": "final"}, remove=["draft"])
    """
    run_dir = store.resolve(ref)
    record = read_json(run_dir.run_json, default=None)
    if not isinstance(record, dict):
        raise StoreError(f"{run_dir.run_json}: unreadable; cannot tag run {run_dir.id}")
    status = effective_status(record, run_dir)
    if status in _LIVE:
        raise UsageError(
            f"run {run_dir.id} is {status.value}: it rewrites its run.json and would drop "
            "the tags; tag it once it has ended"
        )
    current = dict(record.get("tags") or {})
    for key in tags:
        if not str(key).strip():
            raise UsageError("tag: empty key; write KEY=VALUE")
    missing = [key for key in remove if key not in current]
    if missing:
        have = ", ".join(sorted(current)) or "none"
        raise UsageError(f"run {run_dir.id} has no tag {missing[0]!r} (its tags: {have})")
    for key in remove:
        del current[key]
    current.update(to_jsonable(dict(tags)))
    record["tags"] = current
    atomic_write_json(run_dir.run_json, record)
    store.layout.mark_changed(run_dir.id)
    return current


def add_note(store: Store, ref: str | int, text: str, *, now: datetime | None = None) -> Path:
    """Append ``text`` as a dated paragraph to run ``ref``'s ``notes.md``; return its path.

    Usage::

        add_note(store, "best", "diverged after epoch 40; lr too high")
    """
    body = text.strip()
    if not body:
        raise UsageError("note: the text is empty; write what to remember about the run")
    run_dir = store.resolve(ref)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    path = run_dir.path / NOTES_FILE
    entry = f"## {stamp:%Y-%m-%d %H:%M} UTC\n\n{body}\n\n"
    # One write of the whole entry with O_APPEND: concurrent notes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, entry.encode("utf-8"))
    finally:
        os.close(fd)
    # An append leaves the folder's mtime alone, and that mtime is what `runlab index`
    # and the PostgreSQL mirror compare: move it, as a rename in the folder would.
    try:
        os.utime(run_dir.path)
    except PermissionError:
        pass  # another user's run: the marker below still gets the note indexed here
    store.layout.mark_changed(run_dir.id)
    return path
