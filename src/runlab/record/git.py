"""What git says about the code a run executes: asked once per process, never changed.

runlab only reads the repository: it never commits, stages, or edits ``.gitignore``.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from runlab.errors import DirtyRepository


class GitWarning(UserWarning):
    """The code is not in a git repository (or git is missing): runs record ``git: null``."""


@dataclass(frozen=True)
class GitState:
    """The repository state at launch. ``diff`` is the patch of tracked changes when dirty."""

    root: str
    sha: str | None
    branch: str | None
    message: str | None
    dirty: bool
    modified: tuple[str, ...] = field(default=())
    diff: str = ""

    def as_record(self) -> dict[str, object]:
        """The ``git`` entry of ``run.json``."""
        return {
            "sha": self.sha,
            "branch": self.branch,
            "message": self.message,
            "dirty": self.dirty,
            "root": self.root,
        }


_cache: dict[str, GitState | None] = {}


def _git(cwd: Path, *args: str) -> str:
    # --no-optional-locks: a plain `git status` refreshes and rewrites .git/index (and
    # takes index.lock, failing a concurrent `git commit` of the user); runlab only reads.
    return subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def git_state(cwd: Path | None = None) -> GitState | None:
    """Return the git state of the repository holding ``cwd`` (cached per process).

    Outside a repository, or without git, return None and warn once.
    """
    key = os.fspath(cwd) if cwd is not None else os.getcwd()  # cheap: asked once per run
    if key in _cache:
        return _cache[key]
    where = Path(key).resolve()
    state = _read_state(where)
    if state is None:
        warnings.warn(
            f"{where} is not in a git repository: runs record git: null", GitWarning, stacklevel=3
        )
    _cache[key] = state
    return state


def _read_state(where: Path) -> GitState | None:
    try:
        root = _git(where, "rev-parse", "--show-toplevel").strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    status = _git(where, "status", "--porcelain=v2", "--branch", "--untracked-files=no", "-z")
    sha = branch = None
    modified: list[str] = []
    entries = status.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if entry.startswith("# branch.oid "):
            oid = entry.split(" ", 2)[2]
            sha = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            head = entry.split(" ", 2)[2]
            branch = None if head == "(detached)" else head
        elif entry[:2] in ("1 ", "u "):
            modified.append(entry.split(" ", 8 if entry[0] == "1" else 10)[-1])
        elif entry.startswith("2 "):
            modified.append(entry.split(" ", 9)[-1])
            i += 1  # a rename is followed by its original path
        i += 1
    message = _git(where, "log", "-1", "--format=%B").strip() if sha else None
    diff = _git(where, "diff", "HEAD", "--binary") if modified and sha else ""
    return GitState(
        root=root,
        sha=sha,
        branch=branch,
        message=message,
        dirty=bool(modified),
        modified=tuple(modified),
        diff=diff,
    )


def require_clean(state: GitState | None) -> None:
    """Raise DirtyRepository naming the modified files when the tree has tracked changes."""
    if state is not None and state.dirty:
        shown = ", ".join(state.modified[:10])
        more = f" and {len(state.modified) - 10} more" if len(state.modified) > 10 else ""
        raise DirtyRepository(
            f"git tree {state.root} has uncommitted changes: {shown}{more} "
            "(commit or stash them, or drop --require-clean)"
        )


def clear_cache() -> None:
    """Forget what git said, so the next run asks again (tests; long-lived notebooks)."""
    _cache.clear()
