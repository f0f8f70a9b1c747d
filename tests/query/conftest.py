"""Stores for the query tests, recorded through ``runlab.start`` like real scripts do.

``zoo`` is recorded once per session and only read (its runs are drawn in
query_helpers.py); tests that change a store make their own with ``small``.
Tests that take ``load_runs`` run twice: over the store's SQLite index and over its
PostgreSQL mirror (``runlab index --url``), and must give the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from query_helpers import GRID_ACC, fail, record

import runlab
from runlab.index.postgres import mirror
from runlab.query import Runs
from runlab.store import Store


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


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which index the parametrized query tests read: the store's SQLite or its mirror."""
    return str(request.param)


@pytest.fixture(scope="session")
def load_runs(backend: str, request: pytest.FixtureRequest) -> Callable[[Path], Runs]:
    """``load_runs(store)``: ``runlab.load(store)``, or the same runs from a PostgreSQL mirror.

    The mirror of each store is its own schema, brought up to date at every call (as
    ``runlab index --url`` does), so a test that records more runs sees them.
    """
    if backend == "sqlite":
        return runlab.load
    new_schema = request.getfixturevalue("pg_schema")
    urls: dict[Path, str] = {}

    def load(store: Path) -> Runs:
        url = urls.setdefault(store, new_schema())
        the_store = Store.at(store)
        the_store.index()  # ingests what changed, as runlab.load would
        mirror(the_store, url)
        return runlab.load(url)

    return load
