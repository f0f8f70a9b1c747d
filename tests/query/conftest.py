"""Stores for the query tests, recorded through ``runlab.start`` like real scripts do.

``zoo`` is recorded once per session and only read (its runs are drawn in
query_helpers.py); tests that change a store make their own with ``small``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from query_helpers import GRID_ACC, fail, record


@pytest.fixture(scope="session")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("zoo") / "runs"
    record(
        store,
        {"model": "cnn", "lr": 0.1, "seed": 1, "flag": True, "mixed": 1, "layers": [64, 64]},
        {"acc": 1.0, "loss": np.float32(0.5), "steps": np.int64(10), "nanv": float("nan")},
    )
    record(
        store,
        {"model": "cnn", "lr": 0.01, "seed": 2, "flag": False, "mixed": "a", "layers": [32]},
        {"acc": 2.0, "loss": 0.25, "steps": 20},
    )
    fail(
        store,
        {"model": "cnn", "lr": 0.1, "seed": 1, "flag": True, "mixed": 2.5},
        {"acc": 3.0, "steps": 30},
    )
    record(store, {"model": "mlp", "lr": 0.01, "seed": 2}, {"acc": 3.0}, tags={"team": "x"})
    record(store, {"model": "mlp", "lr": 1, "seed": 3}, {"acc": 4.0})
    record(store, {"model": "rnn"}, run_id=10)
    record(
        store, {"model": "mlp", "lr": 0.001, "seed": 3}, {"acc": 0.5}, run_id="best", name="best"
    )
    return store


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A fresh store of three runs, for tests that change it."""
    store = tmp_path / "runs"
    record(store, {"model": "cnn", "lr": 0.1}, {"acc": 0.5})
    record(store, {"model": "mlp", "lr": 0.01}, {"acc": 0.7})
    record(store, {"model": "mlp", "lr": 0.1}, {"acc": 0.9})
    return store


@pytest.fixture(scope="session")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kernel x C x seed, 12 runs whose accuracies are in query_helpers.GRID_ACC."""
    store = tmp_path_factory.mktemp("grid") / "runs"
    for (kernel, c), accs in GRID_ACC.items():
        for seed, acc in enumerate(accs, 1):
            record(
                store,
                {
                    "kernel": kernel,
                    "C": c,
                    "seed": seed,
                    "out": f"/mnt/scratch/{kernel}-{c}-{seed}",
                },
                {"acc": acc, "val_loss": round(1 - acc, 2)},
            )
    return store
