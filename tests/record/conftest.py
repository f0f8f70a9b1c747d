"""Fixtures for the run-record tests: a clean environment, real scripts, real git repos.

Real-process tests write a small script to ``tmp_path`` and run it with the venv's
Python, so hooks, signals, fd capture and atexit behave as they do for users.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from record_helpers import GIT_IDENTITY, git

from runlab.record import git as gitmod

PY = sys.executable
TIMEOUT = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of child scripts: no RUNLAB_* or GIT_* from outside, git stops at tmp."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAB_", "GIT_", "PYTHON"))}
    clean.update(GIT_IDENTITY)
    # tmp_path must never be found inside some enclosing repository.
    clean["GIT_CEILING_DIRECTORIES"] = str(tmp_path.parent)
    return clean


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process tests run in tmp_path, outside any repository, with a fresh git cache."""
    for key in list(os.environ):
        if key.startswith("RUNLAB_"):
            monkeypatch.delenv(key)
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    gitmod.clear_cache()
    yield
    gitmod.clear_cache()


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[..., Path]:
    """Write dedented ``code`` to ``tmp_path/name`` and return its path."""

    def write(code: str, name: str = "script.py", *, where: Path | None = None) -> Path:
        path = (where or tmp_path) / name
        path.write_text(textwrap.dedent(code), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_script(
    tmp_path: Path, env: dict[str, str], write_script: Callable[..., Path]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Write a script and run it to its end; return the completed process (text output)."""

    def run(
        code: str,
        *args: str,
        name: str = "script.py",
        cwd: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        path = write_script(code, name)  # never inside the repo a test inspects
        return subprocess.run(
            [PY, str(path), *args],
            cwd=cwd or tmp_path,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

    return run


class Child:
    """A script running in the background whose stdout can be awaited line by line."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.out = b""

    def wait_for(self, line: str, timeout: float = TIMEOUT) -> None:
        """Block until the child printed ``line`` (fail after ``timeout`` seconds)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while (line + "\n").encode() not in self.out:
                left = deadline - time.monotonic()
                assert left > 0, f"child never printed {line!r}; got {self.out!r}"
                if sel.select(left):
                    chunk = os.read(fd, 65536)
                    assert chunk, f"child closed stdout before {line!r}; got {self.out!r}"
                    self.out += chunk
        finally:
            sel.close()

    def finish(self) -> tuple[int, str, str]:
        """Wait for the end; return (returncode, all stdout, all stderr)."""
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, (self.out + out).decode(), err.decode()


@pytest.fixture
def spawn(
    tmp_path: Path, env: dict[str, str], write_script: Callable[..., Path]
) -> Iterator[Callable[..., Child]]:
    """Start a script in the background (stdout and stderr piped); killed at teardown."""
    children: list[Child] = []

    def start(code: str, *args: str, name: str = "script.py") -> Child:
        path = write_script(code, name)
        proc = subprocess.Popen(
            [PY, str(path), *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        child = Child(proc)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.proc.poll() is None:
            child.proc.kill()
        child.proc.communicate(timeout=TIMEOUT)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on branch main with one commit of train.py, util.py and .gitignore."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text("print('v1')\n")
    (root / "util.py").write_text("X = 1\n")
    (root / ".gitignore").write_text("*.pyc\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first commit")
    return root
