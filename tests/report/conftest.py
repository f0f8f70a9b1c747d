"""A store of real runs for the plot tests, recorded through ``runlab.start``.

``svm`` is recorded once per session and only read: 2 kernels x 3 values of C x
3 seeds, each run logging a loss series of 10 steps and a final accuracy. The
values are exact formulas, so tests can recompute every mean and std by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import CS, KERNELS, SEEDS, STEPS, accuracy, loss

import runlab


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
