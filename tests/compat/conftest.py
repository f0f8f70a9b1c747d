"""Fixtures for the compatibility layers: real git repositories and real script processes.

A :class:`Project` is a git repository in ``tmp_path`` where scripts are written,
committed (meticulous records the commit) and run with the venv's Python, so capture,
exit hooks and git behave as they do for users.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runlab.record import git as gitmod

TIMEOUT = 60
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    # The user's own git config (signing, hooks, default branch) must not leak in.
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def child_env(ceiling: Path) -> dict[str, str]:
    """The environment of scripts: no RUNLAB_*/GIT_* from outside; git stops at ``ceiling``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAB_", "GIT_"))}
    env.update(GIT_IDENTITY)
    env["GIT_CEILING_DIRECTORIES"] = str(ceiling)
    return env


class Project:
    """A git repository with one commit, where scripts are written, committed and run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = child_env(root.parent)
        root.mkdir(parents=True, exist_ok=True)
        self.git("-c", "init.defaultBranch=main", "init", "-q")
        self.write("README.md", "a project\n")
        self.commit("README.md", message="start")

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=TIMEOUT,
        ).stdout

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def commit(self, *names: str, message: str = "code") -> str:
        """Commit ``names`` and return the new commit's sha."""
        self.git("add", *names)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the venv's Python with ``args`` in the project, to its end."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )

    def meticulous(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the meticulous command (``python -m runlab.compat.meticulous``)."""
        return self.python("-m", "runlab.compat.meticulous", *args)

    def text(self, expid: str, name: str) -> str:
        return (self.experiments / expid / name).read_text(encoding="utf-8")

    def json(self, expid: str, name: str) -> Any:
        return json.loads(self.text(expid, name))

    def expids(self) -> list[str]:
        """The experiment folders, in id order."""
        if not self.experiments.exists():
            return []
        names = [p.name for p in self.experiments.iterdir() if p.is_dir()]
        return sorted((n for n in names if not n.startswith(".")), key=lambda n: (len(n), n))


@pytest.fixture(scope="session")
def make_project() -> Callable[[Path], Project]:
    """Make a :class:`Project` at a given path (for module-scoped data)."""
    return Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh git repository at ``tmp_path/project``."""
    return Project(tmp_path / "project")


@pytest.fixture
def inside(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """For in-process experiments: work in ``project``, with its git identity and fresh git."""
    for key in list(os.environ):
        if key.startswith(("RUNLAB_", "GIT_")):
            monkeypatch.delenv(key)
    for key, value in project.env.items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(project.root)
    gitmod.clear_cache()
    yield project
    gitmod.clear_cache()
