"""Fixtures for the log-parser tests: stores of real command runs, built in-process.

The runs are made by the local launcher running real (tiny) shell commands, so their
folders, logs and records are exactly what ``runlab run`` leaves behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from parsers_helpers import build_store

from runlab.record import git as gitmod
from runlab.store import Store


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test works in tmp_path, outside any git repository, with no RUNLAB_* set."""
    for key in list(os.environ):
        if key.startswith("RUNLAB_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    gitmod.clear_cache()
    yield
    gitmod.clear_cache()


@pytest.fixture(scope="session")
def _pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three completed runs, built once per session; tests get copies."""
    root = tmp_path_factory.mktemp("pristine") / "runs"
    build_store(root)
    return root


@pytest.fixture
def store(_pristine: Path, tmp_path: Path) -> Store:
    """A fresh copy of three completed runs with train and test logs (see build_store)."""
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(_pristine, root, symlinks=True)
    return Store.at(root)
