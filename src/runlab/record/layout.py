"""Where things are in a store and in a run folder, and how run ids are claimed.

A run id is the run folder's name. Automatic ids are consecutive integers claimed with
``mkdir`` (atomic on every filesystem, NFS included): whoever creates the folder owns the
id, so concurrent processes never collide and no lock is needed. The file ``.next-id``
is only a hint of where to start probing, so 100,000 runs do not mean 100,000 probes;
it is rewritten every 32 ids, and a stale hint costs a few extra ``mkdir`` calls, never
a duplicate.

A run tells the index it changed with a marker ``.changed/<id>``. DESIGN.md has it an
empty file; here it is a hard link to the run's ``run.json`` when there is one (an empty
file otherwise, and where hard links are refused), for two reasons. A link is a new
name, not a new inode, and a run is marked as it starts and as it ends. And a run's
``run.json`` is replaced as the run ends, which frees the inode of the record it started
with, unless the marker still holds it: then it is freed only when the index takes the
marker. Freed inodes are what slows a sweep down on ext4 without a journal (this
project's CI and benchmark machines): every new inode is looked for past each inode of
its block group freed in the last one to six minutes, so a sweep that frees an inode a
run makes each later run of it create its eight files more slowly. Readers never look
inside a marker. The cost: until the index takes them, the markers keep the first
records' blocks (a block a run, about a tenth of what a run folder takes).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from runlab.errors import UsageError
from runlab.record.files import atomic_write_text

INDEX_FILE = "index.db"
CHANGED_DIR = ".changed"
NEXT_ID_FILE = ".next-id"
HINT_EVERY = 32
_MARKER_FLAGS = os.O_CREAT | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
_MARKER_MODE = stat.S_IFREG | 0o644
_last_claimed: dict[Path, int] = {}  # per process: where its next claim starts probing

_SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.,+=@%-]*$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.,+=@%-]+")
_MAX_ID_LEN = 200


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a safe folder name inside a store, else raise UsageError.

    Allowed: letters, digits and ``_ . , + = @ % -``, not starting with ``.`` or ``-``,
    at most 200 characters, and not the index file's name.
    """
    text = str(run_id)
    if not _SAFE_ID.match(text) or len(text) > _MAX_ID_LEN or text == INDEX_FILE:
        raise UsageError(
            f"run id {text!r} is not allowed: use letters, digits and _.,+=@%- "
            "(no '/', no leading '.' or '-', at most 200 characters)"
        )
    return text


def safe_name(text: str) -> str:
    """Return ``text`` made into a safe run folder name (unsafe runs of characters → ``_``)."""
    name = _UNSAFE_CHARS.sub("_", str(text)).strip("_") or "run"
    if name[0] in ".-":
        name = "_" + name
    if name == INDEX_FILE:
        name = "_" + name
    return name[:_MAX_ID_LEN]


def id_sort_key(run_id: str) -> tuple[int, int, str]:
    """Order numeric ids numerically first, then named ids alphabetically."""
    return (0, int(run_id), "") if run_id.isdigit() else (1, 0, run_id)


@dataclass(frozen=True)
class RunDir:
    """The paths of one run folder; it holds no state beyond its location.

    The paths are computed once per object (``cached_property`` writes the instance
    dict directly, so the frozen dataclass stays immutable to callers).
    """

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    def file(self, name: str) -> str:
        """The path of ``name`` in the folder, as a string.

        For the launcher, which writes a few files of every run it starts: a string
        join costs a fraction of a pathlib one.
        """
        return f"{os.fspath(self.path)}{os.sep}{name}"

    @cached_property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @cached_property
    def params_json(self) -> Path:
        return self.path / "params.json"

    @cached_property
    def defaults_json(self) -> Path:
        return self.path / "defaults.json"

    @cached_property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @cached_property
    def metrics_jsonl(self) -> Path:
        return self.path / "metrics.jsonl"

    @cached_property
    def stdout_log(self) -> Path:
        return self.path / "stdout.log"

    @cached_property
    def stderr_log(self) -> Path:
        return self.path / "stderr.log"

    @cached_property
    def error_txt(self) -> Path:
        return self.path / "error.txt"

    @cached_property
    def git_diff(self) -> Path:
        return self.path / "git.diff"

    @cached_property
    def checkpoint(self) -> Path:
        """The last state a run saved with ``run.checkpoint``, to continue after interruption."""
        return self.path / "checkpoint.pkl"

    @cached_property
    def heartbeat(self) -> Path:
        """Touched while the run lives; its mtime tells other hosts the run is alive."""
        return self.path / ".heartbeat"

    def beat(self) -> None:
        """Say the run is alive now (creating ``.heartbeat`` at the first beat)."""
        try:
            os.utime(self.heartbeat)
        except FileNotFoundError:
            self.heartbeat.touch()

    def last_beat(self) -> float | None:
        """When the run last said it was alive: its last heartbeat, or its start.

        ``run.json`` is written when an attempt starts, so it stands for the first beat
        and starting a run creates one file fewer.
        """
        newest = None
        for path in (self.heartbeat, self.run_json):
            try:
                mtime = os.stat(path).st_mtime
            except FileNotFoundError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
        return newest

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts"

    def artifact(self, name: str | os.PathLike[str]) -> Path:
        """Return the path of artifact ``name``, refusing any path that leaves ``artifacts/``."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise UsageError(f"artifact name {str(name)!r} must be a relative path inside the run")
        return self.artifacts / rel


@dataclass(frozen=True)
class StoreLayout:
    """The paths of a store and the atomic claim of run folders in it."""

    root: Path

    @property
    def index_db(self) -> Path:
        return self.root / INDEX_FILE

    @property
    def changed_dir(self) -> Path:
        return self.root / CHANGED_DIR

    def run_dir(self, run_id: str | int) -> RunDir:
        return RunDir(self.root / check_run_id(str(run_id)))

    def iter_run_dirs(self) -> list[RunDir]:
        """Every run folder (one holding a ``run.json``), in id order."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        dirs = [
            RunDir(Path(e.path))
            for e in entries
            if e.is_dir()
            and not e.name.startswith(".")
            and os.path.exists(os.path.join(e.path, "run.json"))
        ]
        return sorted(dirs, key=lambda d: id_sort_key(d.id))

    def claim_next(self) -> RunDir:
        """Create and return the folder of the next free integer id."""
        # This process's own last claim is a better start than a hint another process
        # may not have moved for 31 ids, and reading it costs nothing.
        last = _last_claimed.get(self.root)
        if last is None:
            self.root.mkdir(parents=True, exist_ok=True)
        n, from_file = (last + 1, True) if last is not None else self._next_hint()
        root = os.fspath(self.root)
        while True:
            path = os.path.join(root, str(n))
            try:
                os.mkdir(path)
            except FileExistsError:
                n += 1
                continue
            except FileNotFoundError:  # the store was removed since this process's last claim
                self.root.mkdir(parents=True, exist_ok=True)
                continue
            # Replacing a file costs more than the rest of a claim, so the hint moves
            # every HINT_EVERY ids: a stale one costs at most that many failed mkdirs.
            if not from_file or n % HINT_EVERY == 0:
                self._write_hint(n + 1)
            _last_claimed[self.root] = n
            return RunDir(Path(path))

    def claim(self, run_id: str) -> RunDir | None:
        """Create the folder of a user-given id; None if it already exists."""
        run_dir = self.run_dir(run_id)
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.path.mkdir()
        except FileExistsError:
            return None
        return run_dir

    def mark_changed(self, run_id: str) -> None:
        """Drop the marker that tells the next index reader to ingest this run.

        A hard link to the run's ``run.json`` when it has one (see the module
        docstring), else an empty file. A marker already there stays as it is.
        """
        # String paths: a run is marked twice, and pathlib's joins cost more than the link.
        marker = self._changed_prefix + run_id
        for _ in range(2):
            try:
                os.link(f"{self._root_prefix}{run_id}{os.sep}run.json", marker)
                return
            except FileExistsError:
                return
            except FileNotFoundError:
                if os.path.isdir(self._changed_prefix):
                    break  # no run.json (yet): an empty marker
                self.changed_dir.mkdir(parents=True, exist_ok=True)
            except OSError:  # no hard links here (EPERM, EXDEV, ENOTSUP, EMLINK)
                break
        _create_empty(marker)

    @cached_property
    def _changed_prefix(self) -> str:
        return os.path.join(os.fspath(self.root), CHANGED_DIR, "")

    @cached_property
    def _root_prefix(self) -> str:
        return os.path.join(os.fspath(self.root), "")

    def _next_hint(self) -> tuple[int, bool]:
        """Where to start probing, and whether that came from the hint file."""
        try:
            return max(1, int((self.root / NEXT_ID_FILE).read_text().strip() or 1)), True
        except (FileNotFoundError, ValueError):
            pass
        numeric = [int(e.name) for e in os.scandir(self.root) if e.name.isdigit()]
        return max(numeric, default=0) + 1, False

    def _write_hint(self, n: int) -> None:
        # A plain write may be torn by a concurrent writer; _next_hint then falls back
        # to the scan, so the hint is written atomically only to keep it cheap.
        try:
            atomic_write_text(self.root / NEXT_ID_FILE, str(n))
        except OSError:
            pass


def _create_empty(path: str) -> None:
    """Create the empty file ``path`` if it is not there (FileNotFoundError: no folder).

    ``mknod`` makes a regular file in one system call where ``open`` + ``close`` take
    two. Where it is refused (some filesystems, some sandboxes) ``open`` does the same.
    """
    try:
        os.mknod(path, _MARKER_MODE)
    except FileExistsError:
        pass
    except FileNotFoundError:
        raise
    except OSError:
        os.close(os.open(path, _MARKER_FLAGS, 0o644))
