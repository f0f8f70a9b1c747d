"""``runlab.import_tree``: bring a foreign result tree into a store, incrementally.

One walk of the tree finds the source runs (see each format's module for what makes
a folder one). Each is matched to the run imported from it before, by
``imported_from`` (the source's absolute path) and ``source_format``, read from the
``run.json`` files of the store (files are the truth; only files holding an
``imported_from`` are parsed). Then:

- a source never imported → a new run, its id claimed like any run's;
- a source whose files changed (their mtimes and sizes, kept as ``source_stamp``)
  or that is read differently now (another ``--metric``, ``--name-format``) → its run
  is rewritten in place, same id;
- an unchanged source → nothing is read or written (10,000 unchanged folders cost
  10,000 ``stat`` calls per file read);
- a run imported from under this tree, in this format, whose source is gone → the
  run is deleted from the store. Runs recorded by runlab itself and runs imported
  from elsewhere are never touched. For naklar trees the settings file's name is part
  of the format: the runs of ``conf.json`` files are apart from those of ``conf.pkl``,
  and a mistyped ``--settings`` name removes nothing. Two runs of one source (left by
  two imports at once) → the newer is deleted, so nothing stays duplicated.

A source that cannot be read is one warning (:class:`SourceWarning`), counted as
skipped; the import goes on, and an earlier run of that source is kept as it was.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runlab.importers.source import Found, SourceError, SourceRun
from runlab.importers.writer import remove_run, write_run
from runlab.record.layout import INDEX_FILE, RunDir, StoreLayout
from runlab.store import Store

SKIP_DIRS = frozenset({".git", "__pycache__", ".hg", ".svn"})


class SourceWarning(UserWarning):
    """A source folder could not be read and was skipped; the message names the file."""


class Format(Protocol):
    """What a format reader provides (see ``meticulous.py`` for the smallest one)."""

    @property
    def name(self) -> str:
        """The ``source_format`` recorded in ``run.json``."""

    @property
    def source_file(self) -> str | None:
        """naklar trees: the settings file's name (its runs are matched apart); else None."""

    def signature(self) -> str: ...

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]: ...

    def read(self, found: Found, name: str) -> SourceRun: ...


class Action(str, enum.Enum):
    """What an import does to one run."""

    IMPORT = "import"
    UPDATE = "update"
    REMOVE = "remove"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Change:
    """One run imported, updated or removed (``run_id`` is None for a dry run's import)."""

    action: Action
    source: Path
    run_id: str | None


@dataclass(frozen=True)
class Skipped:
    """A source left out: ``kind`` is counted in the summary, ``message`` is the warning."""

    source: Path
    kind: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    root: Path
    store: Path
    format: str
    changes: tuple[Change, ...]
    skipped: tuple[Skipped, ...]
    unchanged: int
    dry_run: bool
    run_ids: tuple[str, ...] = ()
    """Every run of the tree after the import, in source order: imported, updated,
    unchanged, or kept because its source could not be read (a dry run lists only the
    runs already in the store). ``runlab.load(store).where(...)`` can narrow to them."""

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def imported(self) -> int:
        return self.count(Action.IMPORT)

    @property
    def updated(self) -> int:
        return self.count(Action.UPDATE)

    @property
    def removed(self) -> int:
        return self.count(Action.REMOVE)

    def summary_line(self) -> str:
        """``imported N, updated M, removed K, skipped S (2 malformed JSON, …)``.

        Reasons are counted, the most frequent first; unchanged runs are added last.
        """
        kinds: dict[str, int] = {}
        for skip in self.skipped:
            kinds[skip.kind] = kinds.get(skip.kind, 0) + 1
        ordered = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
        reasons = ", ".join(f"{n} {kind}" for kind, n in ordered)
        counts = (self.imported, self.updated, self.removed, len(self.skipped))
        if self.dry_run:
            words = ("dry run: would import", "update", "remove", "skip")
        else:
            words = ("imported", "updated", "removed", "skipped")
        line = ", ".join(f"{w} {n}" for w, n in zip(words, counts, strict=True))
        if reasons:
            line += f" ({reasons})"
        if self.unchanged:
            line += f"; {self.unchanged} unchanged"
        return line


@dataclass(frozen=True)
class _Previous:
    """A run imported before: where it came from and what its source looked like then."""

    run_id: str
    record: dict[str, Any]

    @property
    def stamp(self) -> str | None:
        return self.record.get("source_stamp")


def run_import(
    root: Path,
    store: Store,
    fmt: Format,
    *,
    metrics: Sequence[str] = (),
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the tree at ``root`` (a resolved folder) into ``store`` with reader ``fmt``."""
    layout = store.layout
    signature = f"{fmt.signature()}|metrics={','.join(sorted(metrics))}"
    found_all = _discover(root, fmt, exclude=store.root.resolve())
    sources = sorted(found_all, key=lambda f: _natural(f.path))
    previous = _imported_runs(layout, fmt.name, fmt.source_file)
    changes: list[Change] = []
    skipped: list[Skipped] = []
    unchanged = 0
    run_ids: list[str] = []
    for done, found in enumerate(sources, 1):
        runs = previous.pop(str(found.path), [])
        for duplicate in runs[1:]:
            changes.append(_remove(layout, duplicate, found.path, dry_run))
        before = runs[0] if runs else None
        stamp = _stamp(signature, found.files)
        if before is not None and before.stamp == stamp:
            unchanged += 1
            run_ids.append(before.run_id)
        else:
            try:
                source = _with_metrics(_read(fmt, found, root), metrics)
                change = _write(layout, source, found, fmt, stamp, before, dry_run)
                changes.append(change)
                if change.run_id is not None:
                    run_ids.append(change.run_id)
            except SourceError as exc:
                skipped.append(Skipped(found.path, exc.kind, str(exc)))
                warnings.warn(str(exc), SourceWarning, stacklevel=3)
                if before is not None:
                    run_ids.append(before.run_id)
        if progress is not None:
            progress(done, len(sources))
    prefix = str(root).rstrip(os.sep) + os.sep
    for source_path, runs in sorted(previous.items()):
        if source_path == str(root) or source_path.startswith(prefix):
            for run in runs:
                changes.append(_remove(layout, run, Path(source_path), dry_run))
    return ImportReport(
        root=root,
        store=store.root,
        format=fmt.name,
        changes=tuple(changes),
        skipped=tuple(skipped),
        unchanged=unchanged,
        dry_run=dry_run,
        run_ids=tuple(run_ids),
    )


def _read(fmt: Format, found: Found, root: Path) -> SourceRun:
    try:
        return fmt.read(found, _name(root, found.path))
    except OSError as exc:  # a file gone or locked between the walk and the read
        where = Path(exc.filename) if exc.filename else found.path
        raise SourceError(where, "unreadable file", exc.strerror or str(exc)) from None


def _write(
    layout: StoreLayout,
    source: SourceRun,
    found: Found,
    fmt: Format,
    stamp: str,
    before: _Previous | None,
    dry_run: bool,
) -> Change:
    action = Action.IMPORT if before is None else Action.UPDATE
    if dry_run:
        return Change(action, found.path, before.run_id if before else None)
    run_dir = write_run(
        layout,
        source,
        found=found,
        source_format=fmt.name,
        source_file=fmt.source_file,
        stamp=stamp,
        run_dir=RunDir(layout.root / before.run_id) if before else None,
        previous=before.record if before else None,
    )
    return Change(action, found.path, run_dir.id)


def _remove(layout: StoreLayout, run: _Previous, source: Path, dry_run: bool) -> Change:
    if not dry_run:
        remove_run(layout, run.run_id)
    return Change(Action.REMOVE, source, run.run_id)


def _with_metrics(source: SourceRun, keys: Sequence[str]) -> SourceRun:
    """Move the params named ``keys`` into the summary (naklar keeps results among settings)."""
    moved = {k: source.params[k] for k in keys if k in source.params}
    if not moved:
        return source
    params = {k: v for k, v in source.params.items() if k not in moved}
    return dataclasses.replace(source, params=params, summary={**moved, **source.summary})


def _name(root: Path, path: Path) -> str:
    relative = path.relative_to(root).as_posix()
    return root.name if relative == "." else relative


def _natural(path: Path) -> list[Any]:
    """Sort key putting ``2`` before ``10`` in every part of a path."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(path))]


def _stamp(signature: str, files: tuple[Path, ...]) -> str:
    """A digest of how the source is read and of each file's mtime and size."""
    digest = hashlib.sha256(signature.encode())
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        digest.update(f"\0{path.name}\0{st.st_mtime_ns}\0{st.st_size}".encode())
    return digest.hexdigest()[:20]


def _discover(root: Path, fmt: Format, *, exclude: Path) -> Iterator[Found]:
    """Every source run under ``root`` (itself included).

    Left out: the target store, any other runlab store (a folder holding ``index.db``)
    and version-control folders. Symbolic links to folders are not followed.
    """
    skip = str(exclude)
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        names: set[str] = set()
        subfolders: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS and entry.path != skip:
                            subfolders.append(entry.path)
                    elif entry.is_file():
                        names.add(entry.name)
        except OSError:
            continue  # vanished or unreadable: nothing to import from it
        if INDEX_FILE in names:
            continue  # a runlab store: its runs are runlab's already
        stack.extend(subfolders)
        yield from fmt.find(Path(folder), frozenset(names))


def _imported_runs(
    layout: StoreLayout, source_format: str, source_file: str | None
) -> dict[str, list[_Previous]]:
    """The runs imported in ``source_format`` (from ``source_file``), by source, oldest first."""
    found: dict[str, list[_Previous]] = {}
    for run_dir in layout.iter_run_dirs():
        try:
            data = run_dir.run_json.read_bytes()
        except OSError:
            continue
        if b'"imported_from"' not in data:
            continue  # most runs were not imported: skip parsing them
        try:
            record = json.loads(data)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("source_format") != source_format:
            continue
        if record.get("source_file") != source_file:
            continue
        source = record.get("imported_from")
        if isinstance(source, str):
            found.setdefault(source, []).append(_Previous(run_dir.id, record))
    return found
