"""Fixtures for the importer tests: each tool's tree built once, copied where a test edits it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from import_trees import (
    alchemie_tree,
    meticulous_tree,
    mlrunner_tree,
    naklar_tree,
    pymake_tree,
)


@pytest.fixture(scope="session")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pristine trees, by tool name. Tests that change a tree copy it first."""
    base = tmp_path_factory.mktemp("trees")
    return {
        "naklar": naklar_tree(base / "naklar"),
        "meticulous": meticulous_tree(base / "meticulous"),
        "mlrunner": mlrunner_tree(base / "mlrunner"),
        "pymake": pymake_tree(base / "pymake"),
        "alchemie": alchemie_tree(base / "alchemie"),
    }


@pytest.fixture
def copy_tree(trees: dict[str, Path], tmp_path: Path):
    """``copy_tree("naklar")``: a copy of that tree (mtimes kept) this test may change."""

    def copy(tool: str) -> Path:
        target = tmp_path / "src" / trees[tool].name
        shutil.copytree(trees[tool], target)
        return target

    return copy
