"""A store of real runs for the plot tests, recorded through ``runlab.start``.

``svm`` is recorded once per session and only read: 2 kernels x 3 values of C x
3 seeds, each run logging a loss series of 10 steps and a final accuracy. The
values are exact formulas, so tests can recompute every mean and std by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import runlab

KERNELS = ["rbf", "linear"]  # recorded out of order: the legend must sort them
CS = [10.0, 0.1, 1.0]  # likewise for the x axis
SEEDS = [1, 2, 3]
STEPS = 10


def accuracy(kernel: str, c: float, seed: int) -> float:
    return {"linear": 0.6, "rbf": 0.7}[kernel] + 0.05 * math.log10(c) + 0.01 * seed


def loss(kernel: str, c: float, seed: int, step: int) -> float:
    return (1 + 0.1 * seed) / (1 + step * c)


@pytest.fixture(scope="session")
def svm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("svm") / "runs"
    for kernel in KERNELS:
        for c in CS:
            for seed in SEEDS:
                params = {"kernel": kernel, "C": c, "seed": seed}
                with runlab.start(params, store=store, capture=False, git=False) as run:
                    for step in range(STEPS):
                        run.log(step=step, loss=loss(kernel, c, seed, step))
                    run.summary(acc=accuracy(kernel, c, seed))
    return store
