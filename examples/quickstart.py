"""A small real sweep recorded with runlab: logistic regression by gradient descent.

Six runs (three learning rates × two seeds) on a synthetic two-class problem. Each run
logs its training loss per step and records its final accuracy, so that afterwards

    runlab ls --sort metrics.acc --desc
    runlab ls --groupby params.lr
    runlab show 1

have something real to show. Run it from anywhere; the runs go to ``./runs`` (or
``--store DIR``).
"""

from __future__ import annotations

import argparse

import numpy as np

import runlab


def make_data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, one per class, with a little overlap."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0.0, 1.0, (n, 2)) + np.where(y[:, None] == 1, 1.2, -1.2)
    return x, y


def train(config: dict, run: runlab.Run) -> float:
    """Fit weights by full-batch gradient descent, logging the loss each step."""
    x, y = make_data(config["seed"])
    w, b = np.zeros(2), 0.0
    for step in range(config["steps"]):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        w -= config["lr"] * (x.T @ (p - y)) / len(y)
        b -= config["lr"] * float(np.mean(p - y))
        run.log(step=step, loss=float(loss))
    acc = float(np.mean(((x @ w + b) > 0) == y))
    print(f"lr={config['lr']} seed={config['seed']}: accuracy {acc:.3f}")
    return acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="store folder (default ./runs)")
    args = parser.parse_args()
    for lr in (0.01, 0.1, 1.0):
        for seed in (0, 1):
            config = {"lr": lr, "seed": seed, "steps": 100}
            with runlab.start(config, store=args.store, name=f"lr{lr}-s{seed}") as run:
                acc = train(config, run)
                run.summary(acc=acc)
                run.save({"lr": lr, "seed": seed, "acc": acc}, "result")


if __name__ == "__main__":
    main()
