"""Distributions a :class:`~runlab.design.Sample` draws from, and the seeded draw itself.

Draws are reproducible across processes, machines and Python versions: every draw
is built from ``random.Random(text_seed).random()``, the one method whose stream the
standard library promises never to change for a given seed (``randrange``, ``choice``
and ``gauss`` carry no such promise, and numpy's ``Generator`` methods may change
between numpy releases). Each key gets its own stream, seeded by ``(seed, key)``, so
adding or reordering parameters leaves the other parameters' draws unchanged, and
``Sample(20, ...)`` begins with the 10 configs of ``Sample(10, ...)``.

Usage::

    uniform(0.0, 1.0)        # a float in [0, 1)
    loguniform(1e-5, 1e-1)   # a float in [1e-5, 1e-1), uniform in log space
    randint(1, 4)            # an int in {1, 2, 3}: high is exclusive, as in numpy/scipy
    normal(0.0, 1.0)         # a float, mean 0, standard deviation 1
    choice(["adam", "sgd"])  # one of the values, equally likely
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runlab.canonical import canonical_value
from runlab.errors import UsageError


class Distribution:
    """Base of runlab's own distributions: ``draw`` maps one seeded stream to a value."""

    def draw(self, rng: random.Random) -> Any:
        """Return one value, consuming only ``rng.random()`` so the stream stays stable."""
        raise NotImplementedError


def _number(value: Any, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise UsageError(f"{what} must be finite, got {value!r}")
    return value


@dataclass(frozen=True)
class Uniform(Distribution):
    """A float uniform on ``[low, high)``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _number(self.low, what=f"uniform({self.low!r}, {self.high!r}): low")
        _number(self.high, what=f"uniform({self.low!r}, {self.high!r}): high")
        if not self.low < self.high:
            raise UsageError(f"uniform({self.low!r}, {self.high!r}): low must be less than high")

    def draw(self, rng: random.Random) -> float:
        return self.low + (self.high - self.low) * rng.random()

    def __repr__(self) -> str:
        return f"uniform({self.low!r}, {self.high!r})"


@dataclass(frozen=True)
class LogUniform(Distribution):
    """A float in ``[low, high)`` whose logarithm is uniform (learning rates, weight decays)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        call = f"loguniform({self.low!r}, {self.high!r})"
        _number(self.low, what=f"{call}: low")
        _number(self.high, what=f"{call}: high")
        if not 0 < self.low < self.high:
            raise UsageError(f"{call}: need 0 < low < high")

    def draw(self, rng: random.Random) -> float:
        log_low, log_high = math.log(self.low), math.log(self.high)
        value = math.exp(log_low + (log_high - log_low) * rng.random())
        # exp(log(x)) can land one ulp outside the bounds; the bounds are a promise.
        return min(max(value, self.low), math.nextafter(self.high, self.low))

    def __repr__(self) -> str:
        return f"loguniform({self.low!r}, {self.high!r})"


@dataclass(frozen=True)
class RandInt(Distribution):
    """An int in ``low <= x < high`` (high exclusive, like ``numpy.random.randint`` and scipy)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        call = f"randint({self.low!r}, {self.high!r})"
        for what, value in (("low", self.low), ("high", self.high)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"{call}: {what} must be an int, got {type(value).__name__}")
        if not self.low < self.high:
            raise UsageError(f"{call}: low must be less than high (high is exclusive)")

    def draw(self, rng: random.Random) -> int:
        span = self.high - self.low
        return self.low + min(int(rng.random() * span), span - 1)

    def __repr__(self) -> str:
        return f"randint({self.low!r}, {self.high!r})"


@dataclass(frozen=True)
class Normal(Distribution):
    """A float from the normal distribution of mean ``mu`` and standard deviation ``sigma``."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        call = f"normal({self.mu!r}, {self.sigma!r})"
        _number(self.mu, what=f"{call}: mu")
        if not _number(self.sigma, what=f"{call}: sigma") > 0:
            raise UsageError(f"{call}: sigma must be positive")

    def draw(self, rng: random.Random) -> float:
        # Box-Muller from two uniforms; 1 - u is in (0, 1], so the log is defined.
        u1, u2 = rng.random(), rng.random()
        z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
        return self.mu + self.sigma * z

    def __repr__(self) -> str:
        return f"normal({self.mu!r}, {self.sigma!r})"


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``, each equally likely; a list value is written as a list element."""

    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise UsageError("choice([]): give at least one value")
        for value in self.values:
            canonical_value(value, key="choice")

    def draw(self, rng: random.Random) -> Any:
        return self.values[min(int(rng.random() * len(self.values)), len(self.values) - 1)]

    def __repr__(self) -> str:
        return f"choice({list(self.values)!r})"


def uniform(low: float, high: float) -> Distribution:
    """Return the uniform distribution on ``[low, high)``."""
    return Uniform(low, high)


def loguniform(low: float, high: float) -> Distribution:
    """Return the log-uniform distribution on ``[low, high)``, ``0 < low``."""
    return LogUniform(low, high)


def randint(low: int, high: int) -> Distribution:
    """Return the uniform distribution on the ints ``low <= x < high`` (high exclusive)."""
    return RandInt(low, high)


def normal(mu: float, sigma: float) -> Distribution:
    """Return the normal distribution of mean ``mu`` and standard deviation ``sigma``."""
    return Normal(mu, sigma)


def choice(values: Sequence[Any]) -> Distribution:
    """Return the uniform choice among ``values`` (a list or tuple of candidate values)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise UsageError(f"choice() takes a list of values, got {type(values).__name__}")
    return Choice(tuple(values))


def is_sampler(value: Any) -> bool:
    """Whether ``value`` is drawn from (ours, or scipy-style with ``.rvs``) rather than fixed."""
    return isinstance(value, Distribution) or callable(getattr(value, "rvs", None))


def draw_values(spec: Any, *, n: int, seed: int, key: str) -> list[Any]:
    """Return ``n`` draws of ``spec`` for ``key``, from the stream seeded by ``(seed, key)``.

    An object with ``.rvs(random_state=)`` (a scipy.stats frozen distribution, as in
    sklearn's ParameterSampler) gets a ``numpy.random.RandomState``: the legacy
    generator, whose stream numpy keeps stable across releases.
    """
    text_seed = f"runlab.design:{seed}:{key}"
    if isinstance(spec, Distribution):
        # A str seed is hashed with sha512 by random.seed(version=2): the same in
        # every process, unlike hash(), which PYTHONHASHSEED randomises.
        rng = random.Random(text_seed)
        return [spec.draw(rng) for _ in range(n)]
    import numpy  # only Samples with .rvs objects pay for the import

    digest = hashlib.sha256(text_seed.encode()).digest()
    state = numpy.random.RandomState(int.from_bytes(digest[:4], "big"))
    values = []
    for _ in range(n):
        value = spec.rvs(random_state=state)
        tolist = getattr(value, "tolist", None)
        values.append(tolist() if callable(tolist) else value)
    return values
