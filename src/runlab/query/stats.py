"""Summary statistics of a sample: mean, std, sem, min, max and a Student t confidence interval.

scipy is not a dependency, so the t quantile is computed here: the Student t CDF is
the regularized incomplete beta function (evaluated by its continued fraction, as in
*Numerical Recipes* §6.4), and the quantile is found by bisection on it to 1e-12.
Known values: ``t_quantile(0.975, 1) = 12.706``, ``df=2: 4.303``, ``df=4: 2.776``,
``df=9: 2.262``, ``df=29: 2.045``, and 1.960 as ``df`` grows.

Conventions: ``std`` is the sample standard deviation (ddof=1), missing for fewer than
two values; ``sem = std / sqrt(n)``; the interval is ``mean ± t(1 - (1-level)/2, n-1) · sem``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

CONFIDENCE = 0.95
_EPS = 1e-15
_TINY = 1e-300


class Summary(NamedTuple):
    """The statistics of one sample of numbers; the fields are None where undefined.

    ``n`` counts the values (missing ones are not values); ``mean``, ``min`` and ``max``
    need one value, ``std``, ``sem`` and the interval (``ci_low``, ``ci_high``) two. A
    named tuple, not a dataclass: a groupby over 100,000 runs makes 100,000 of them.
    """

    n: int
    mean: float | None = None
    std: float | None = None
    sem: float | None = None
    min: float | None = None
    max: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @classmethod
    def of(cls, values: Sequence[float], *, level: float = CONFIDENCE) -> Summary:
        """The summary of ``values`` (numbers, no None), with a ``level`` confidence interval.

        Usage::

            Summary.of([0.90, 0.92, 0.91]).ci_low   # 0.8852...
        """
        n = len(values)
        if n == 0:
            return cls(0)
        mean = math.fsum(values) / n
        if n == 1:
            return cls(1, mean, None, None, mean, mean)
        std = math.sqrt(math.fsum([(x - mean) ** 2 for x in values]) / (n - 1))
        sem = std / math.sqrt(n)
        half = t_quantile(1 - (1 - level) / 2, n - 1) * sem
        return cls(n, mean, std, sem, min(values), max(values), mean - half, mean + half)


def stat_matrix(
    values: Any,
    ids: Any,
    groups: int,
    fields: Iterable[str],
    *,
    level: float = CONFIDENCE,
) -> list[dict[str, tuple[float | int | None, ...]]]:
    """Per column of ``values`` (a float array, one row per run, NaN = missing), the
    :class:`Summary` ``fields`` of each group.

    ``ids`` gives each row's group (``0 <= id < groups``; a group may hold no row).
    The statistics follow :meth:`Summary.of`'s conventions, computed for all groups
    and columns at once in numpy (a groupby over seeds of 100,000 runs is 20,000
    groups of five values: a Python call per group would cost more than reading the
    runs), and only those asked for. The rows are put in group order once and each
    sum is one ``reduceat`` (numpy's pairwise summation, in row order), which may
    differ from ``Summary.of``'s exact ``fsum`` in the last digit; ``std`` is two-pass
    (the deviations from the group's mean).

    Usage::

        stat_matrix(np.array([[1.0], [3.0], [2.0]]), [0, 1, 0], 2, ["mean", "std"])
        # [{"mean": (1.5, 3.0), "std": (0.7071..., None)}]
    """
    import numpy as np

    wanted = list(dict.fromkeys(fields))
    unknown = [f for f in wanted if f not in Summary._fields]
    if unknown:
        raise ValueError(f"stat_matrix: no statistic {unknown[0]!r}")
    width = values.shape[1]
    if not groups:
        return [{f: () for f in wanted} for _ in range(width)]
    g = np.asarray(ids, dtype=np.intp)
    order = np.argsort(g, kind="stable")  # stable: each group's sums go in row order
    x = values[order]
    sizes = np.bincount(g, minlength=groups)
    filled = np.flatnonzero(sizes)  # reduceat cannot sum an empty slice: those stay empty
    starts = np.searchsorted(g[order], filled)

    def per_group(ufunc: Any, a: Any, empty: Any) -> Any:
        out = np.full((groups, width), empty, dtype=a.dtype)
        out[filled] = ufunc.reduceat(a, starts, axis=0)
        return out

    present = ~np.isnan(x)
    n = per_group(np.add, present.astype(np.intp), 0)
    out: dict[str, Any] = {"n": n}
    with np.errstate(invalid="ignore", divide="ignore"):
        x0 = np.where(present, x, 0.0)
        mean = per_group(np.add, x0, 0.0) / n
        out["mean"] = mean
        if {"std", "sem", "ci_low", "ci_high"} & set(wanted):
            each_mean = np.repeat(mean[filled], sizes[filled], axis=0)
            deviation = np.where(present, x0 - each_mean, 0.0)
            m2 = per_group(np.add, deviation * deviation, 0.0)
            out["std"] = np.sqrt(m2 / (n - 1))
            out["sem"] = out["std"] / np.sqrt(n)
        if {"ci_low", "ci_high"} & set(wanted):
            p = 1 - (1 - level) / 2
            quantiles = {k: t_quantile(p, k - 1) for k in np.unique(n).tolist() if k > 1}
            t = np.vectorize(lambda k: quantiles.get(k, 0.0), otypes=[np.float64])(n)
            out.update(ci_low=mean - t * out["sem"], ci_high=mean + t * out["sem"])
        if "min" in wanted:  # fmin and fmax pass NaN (missing) over
            out["min"] = per_group(np.fmin, x, np.nan)
        if "max" in wanted:
            out["max"] = per_group(np.fmax, x, np.nan)
    # Summary.of leaves out what one value (std and beyond) or none (the rest) cannot give.
    enough = {"n": 0, "mean": 1, "min": 1, "max": 1}
    results: list[dict[str, tuple[float | int | None, ...]]] = []
    for j in range(width):
        counts = n[:, j].tolist()
        fewest = min(counts)
        result = {}
        for field in wanted:
            column = out[field][:, j].tolist()
            need = enough.get(field, 2)
            if need and fewest < need:
                column = [v if k >= need else None for v, k in zip(column, counts, strict=True)]
            result[field] = tuple(column)
        results.append(result)
    return results


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Usage::

        t_quantile(0.975, 9)   # 2.2621571...
    """
    if not 0 < p < 1:
        raise ValueError(f"t_quantile: p must be between 0 and 1, not {p}")
    if not df > 0:
        raise ValueError(f"t_quantile: df must be positive, not {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The continued fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > _TINY else _TINY)
            c = 1 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1) < _EPS:
            break
    return h
