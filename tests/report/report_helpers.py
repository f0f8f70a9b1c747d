"""The report tests' store: its params and the values logged (imported by conftest and tests)."""

from __future__ import annotations

import math

KERNELS = ["rbf", "linear"]  # recorded out of order: the legend must sort them
CS = [10.0, 0.1, 1.0]  # likewise for the x axis
SEEDS = [1, 2, 3]
STEPS = 10


def accuracy(kernel: str, c: float, seed: int) -> float:
    return {"linear": 0.6, "rbf": 0.7}[kernel] + 0.05 * math.log10(c) + 0.01 * seed


def loss(kernel: str, c: float, seed: int, step: int) -> float:
    return (1 + 0.1 * seed) / (1 + step * c)
