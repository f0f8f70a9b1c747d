"""Fixtures for the CLI tests: real git repositories and real `python -m runlab` processes.

Commands that need real file descriptors and signals (`runlab exec`) run as child
processes; nothing here sleeps a fixed time: waits poll with generous timeouts, because
the tests share a small, busy machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 120.0
RUNLAB_VARS = ("RUNLAB_STORE", "RUNLAB_RUN_DIR", "RUNLAB_RUN_ID")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no signing or hooks from the user's own config
}


def clean_env() -> dict[str, str]:
    """This process's environment without runlab's variables (the tests may run in a run)."""
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_VARS}
    env.update(GIT_ENV)
    env["HOME"] = env.get("HOME", "/tmp")
    return env


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its stdout."""
    return subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def make_repo(path: Path) -> Path:
    """A git repository at ``path`` with one commit of ``model.txt`` on branch ``main``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / "model.txt").write_text("layers: 2\n")
    git(path, "add", "model.txt")
    git(path, "commit", "-q", "-m", "first model")
    return path


def write_script(path: Path, body: str) -> Path:
    """Write a Python script (dedented) and return its path."""
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``predicate`` until it returns something true; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def file_text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


class Runlab:
    """The `runlab` command run as a real process in ``cwd``, with its store at ``cwd/runs``."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.store = cwd / "runs"
        self._procs: list[subprocess.Popen[bytes]] = []

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "runlab", "--store", str(self.store), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``runlab ARGS`` to its end and return its exit code and output."""
        return subprocess.run(
            self.argv(*args),
            cwd=self.cwd,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )

    def start(self, *args: str, stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        """Start ``runlab ARGS`` in its own session (its own process group); stopped at teardown."""
        proc = subprocess.Popen(
            self.argv(*args),
            cwd=self.cwd,
            env=clean_env(),
            stdout=stdout,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._procs.append(proc)
        return proc

    def script(self, name: str, body: str) -> Path:
        """Write a Python script (dedented) into the working folder and return its path."""
        return write_script(self.cwd / name, body)

    def git(self, *args: str) -> str:
        return git(self.cwd, *args)

    wait_until = staticmethod(wait_until)
    file_text = staticmethod(file_text)

    def run_dir(self, run_id: str = "1") -> Path:
        return self.store / run_id

    def record(self, run_id: str = "1") -> dict[str, Any]:
        return json.loads((self.run_dir(run_id) / "run.json").read_text())

    def params(self, run_id: str = "1") -> dict[str, Any]:
        return json.loads((self.run_dir(run_id) / "params.json").read_text())

    def wait_for_output(self, text: str, run_id: str = "1", *, log: str = "stdout.log") -> None:
        path = self.run_dir(run_id) / log
        wait_until(lambda: text in file_text(path), f"{text!r} in {path}")

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=TIMEOUT)
            if proc.stderr is not None:
                proc.stderr.close()


@pytest.fixture(scope="session")
def runlab_in() -> Iterator[Callable[[Path], Runlab]]:
    """Make a Runlab working in a new git repository at a given path (for shared stores)."""
    tools: list[Runlab] = []

    def make(path: Path) -> Runlab:
        tools.append(Runlab(make_repo(path)))
        return tools[-1]

    yield make
    for tool in tools:
        tool.close()


@pytest.fixture
def runlab(tmp_path: Path) -> Iterator[Runlab]:
    """`python -m runlab` in a fresh git repository; processes left over are killed."""
    tool = Runlab(make_repo(tmp_path / "repo"))
    yield tool
    tool.close()
