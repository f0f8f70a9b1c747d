"""``--sample N``: N configs of a design, the same N on every invocation.

mlrunner's ``run --sample N`` shuffled each sweep document's grid with an unseeded
``random.shuffle``, so every launch picked other configs and a re-run could never
finish "the sample". Here a config's place in the sample is a pure function of its
canonical hash and a seed: the configs kept are the N whose
``sha256("<seed>:<config hash>")`` is smallest, listed in design order. So

- the same file, N and seed give the same configs on every machine and every run,
  which keeps ``runlab run`` idempotent (re-running completes the same sample);
- a larger N keeps every config a smaller N chose, so growing a sample adds runs;
- editing one document does not reshuffle another's sample.

Usage::

    Subsample(Grid(lr=[0.1, 0.01, 0.001], depth=[2, 4, 8]), 3)   # 3 of the 9, seed 0
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator

from runlab.canonical import config_hash
from runlab.design.base import Candidate, Context, Design
from runlab.errors import UsageError


def sample_rank(seed: int, digest: str) -> str:
    """The sort key that decides whether a config (by its canonical hash) is in a sample."""
    return hashlib.sha256(f"{seed}:{digest}".encode()).hexdigest()


class Subsample(Design):
    """The ``n`` configs of ``design`` ranked first by :func:`sample_rank`, in design order.

    A config with repeats (an enclosing ``repeat``) is chosen or left out with all its
    seeds, so ``--sample 2`` with ``repeat: 3`` is 2 configs of 3 seeds each. Configs the
    where rules drop for every seed are not candidates, and are still reported as
    dropped; duplicates count once.
    """

    _label = "Subsample"

    def __init__(self, design: Design, n: int, *, seed: int = 0) -> None:
        super().__init__()
        if not isinstance(design, Design):
            raise UsageError(f"Subsample: {type(design).__name__} is not a design")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"sample: N must be a positive int, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UsageError(f"sample seed must be an int, got {seed!r}")
        self._design, self._n, self._seed = design, n, seed

    def _candidates(self, ctx: Context) -> Iterator[Candidate]:
        # The seeds of an enclosing repeat are added here, so a config is sampled once
        # with all of them rather than each seed on its own.
        keys = [key for key, _ in ctx.repeats]
        ranges = [range(n) for _, n in ctx.repeats]
        groups: list[list[Candidate]] = []
        digests: list[str] = []
        for candidate in self._design._candidates(dataclasses.replace(ctx, repeats=())):
            digests.append(config_hash(candidate.params))  # without seeds: same with repeat
            groups.append(
                [
                    Candidate(
                        {**candidate.params, **dict(zip(keys, seeds, strict=True))},
                        candidate.template,
                        candidate.rules,
                    )
                    for seeds in itertools.product(*ranges)
                ]
            )
        chosen = self._choose(groups, digests)
        for position, group in enumerate(groups):
            if position in chosen or not any(_kept(c) for c in group):
                yield from group  # a group no rule keeps still goes on, to be reported

    def _choose(self, groups: list[list[Candidate]], digests: list[str]) -> set[int]:
        """Return the positions of the groups in the sample."""
        ranked: dict[str, tuple[str, int]] = {}
        for position, (group, digest) in enumerate(zip(groups, digests, strict=True)):
            if not any(_kept(c) for c in group):
                continue
            if digest not in ranked:  # a duplicate goes with its first occurrence
                ranked[digest] = (sample_rank(self._seed, digest), position)
        return {position for _, position in sorted(ranked.values())[: self._n]}

    def _param_repr(self) -> list[str]:
        return [repr(self._design), f"n={self._n}", f"seed={self._seed}"]


def _kept(candidate: Candidate) -> bool:
    return all(rule.keeps(candidate.params) for rule in candidate.rules)
