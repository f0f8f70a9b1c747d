"""Plain helpers shared by the run-record tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Tester",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Tester",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    # The user's own git config (signing, hooks, default branch) must not leak in.
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git in a test repository and return its stdout."""
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def read_json(path: Path) -> Any:
    """Strict JSON read: a torn file fails the test."""
    return json.loads(path.read_text(encoding="utf-8"))


def only_run(store: Path) -> Path:
    """The single run folder of a store."""
    runs = [p for p in store.iterdir() if not p.name.startswith(".") and p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def poll(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Return the first truthy value of ``predicate()``, trying every 20 ms up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
