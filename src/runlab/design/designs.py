"""The four kinds of design: Point, Grid, Sample and Group.

Usage::

    Point(model="resnet", lr=0.1)                          # one config
    Grid(model=["mlp", "cnn"], lr=[0.1, 0.01])             # 4 configs, lr fastest
    Grid(hidden=[[64, 64], [128]], shape=(28, 28))         # lists of lists; a tuple is a value
    Sample(20, seed=0, lr=loguniform(1e-5, 1e-1), opt=["adam", "sgd"], epochs=10)
    Grid(lr=[0.1, 0.01]) + Point(lr=1.0, warmup=True)      # a Group of both
    Group(Grid(model=["mlp"]), Grid(model=["cnn"], depth=[2, 4]), dataset="mnist")

Every design also takes ``defaults=``, ``where=``, ``repeat=``/``repeat_key=`` and
``name=`` (see :class:`~runlab.design.base.Design`). Those words, ``params`` and a
Sample's ``seed`` are options, not params: to set a param with one of those names,
pass it in ``params={"name": [...]}``.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Mapping
from typing import Any

from runlab.canonical import canonical_json
from runlab.design.base import Candidate, Context, Design, check_value, merge_params
from runlab.design.distributions import Choice, draw_values, is_sampler
from runlab.errors import UsageError


def _axis(key: str, value: Any, *, where: str) -> list[Any] | None:
    """Return the values of ``value`` if it is a list of alternatives, else None.

    A list, a ``range`` and a 1-D numpy array are alternatives; a tuple, a dict, a
    string and a scalar are one value. ``[[64, 64]]`` is one alternative, a list.
    """
    if isinstance(value, range):
        value = list(value)
    elif callable(getattr(value, "tolist", None)) and getattr(value, "ndim", None) == 1:
        value = value.tolist()  # a numpy array, as sklearn's ParameterGrid accepts
    if not isinstance(value, list):
        return None
    if not value:
        raise UsageError(
            f"{where}: param {key!r} is an empty list; give at least one value "
            "(write [[]] for the value [])"
        )
    return [check_value(key, item) for item in value]


def _check_repeat_key(design: Design, keys: Mapping[str, Any]) -> None:
    for key, _ in design._repeat:
        if key in keys:
            raise UsageError(
                f"{design._label}: repeat key {key!r} is also a param; "
                "pass repeat_key= to use another name"
            )


class Point(Design):
    """One configuration: every entry is a value, lists included.

    ``Point(lr=0.1, hidden=[64, 64])`` is the single config ``{"lr": 0.1, "hidden": [64, 64]}``.
    """

    _label = "Point"

    def __init__(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        where: Any = None,
        repeat: int | None = None,
        repeat_key: str = "seed",
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            defaults=defaults, where=where, repeat=repeat, repeat_key=repeat_key, name=name
        )
        merged = merge_params(params, kwargs, where="Point")
        self._params = {key: check_value(key, value) for key, value in merged.items()}
        _check_repeat_key(self, self._params)

    def _raw(self) -> Iterator[dict[str, Any]]:
        yield dict(self._params)

    def _param_repr(self) -> list[str]:
        return [f"{key}={value!r}" for key, value in self._params.items()]


class Grid(Design):
    """The cartesian product of every list-valued entry; other entries are fixed.

    Order is that of ``itertools.product`` (and sklearn's ``ParameterGrid``) over the
    keys in the order given: the last key varies fastest. ``Grid(a=[1, 2], b=[3, 4])``
    is ``a=1,b=3``, ``a=1,b=4``, ``a=2,b=3``, ``a=2,b=4``. A list meant as one value
    is wrapped: ``hidden=[[64, 64]]``; a tuple is always one value.
    """

    _label = "Grid"

    def __init__(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        where: Any = None,
        repeat: int | None = None,
        repeat_key: str = "seed",
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            defaults=defaults, where=where, repeat=repeat, repeat_key=repeat_key, name=name
        )
        merged = merge_params(params, kwargs, where="Grid")
        self._axes: dict[str, list[Any]] = {}
        self._fixed: dict[str, Any] = {}
        for key, value in merged.items():
            axis = _axis(key, value, where="Grid")
            if axis is None:
                self._fixed[key] = check_value(key, value)
            else:
                self._axes[key] = axis
        self._order = list(merged)
        _check_repeat_key(self, merged)

    def _raw(self) -> Iterator[dict[str, Any]]:
        keys = list(self._axes)
        if not self._fixed and keys == self._order:  # only axes, in order: zip is the config
            for combo in itertools.product(*self._axes.values()):
                yield dict(zip(keys, combo, strict=True))
            return
        for combo in itertools.product(*self._axes.values()):
            values = {**self._fixed, **dict(zip(keys, combo, strict=True))}
            yield {key: values[key] for key in self._order}

    def _plain(self, defaults: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]] | None:
        """Return each config and its canonical text, both made at C speed.

        A config is the product of its columns (an axis, or one fixed or default
        value), and its canonical text is its ``"key":value`` items in key order: each
        item's text is computed once per value, and a config's text is a join of them,
        equal to :func:`~runlab.canonical.canonical_json` of the config.
        """
        keys = list({**defaults, **dict.fromkeys(self._order)})  # the pipeline's key order
        if not keys or [key for key in keys if key in self._axes] != list(self._axes):
            return None  # no params, or defaults reorder the axes: the pipeline's order
        columns = [
            self._axes[key]
            if key in self._axes
            else [self._fixed[key] if key in self._fixed else defaults[key]]
            for key in keys
        ]
        items = [
            [canonical_json({key: value})[1:-1] for value in column]
            for key, column in zip(keys, columns, strict=True)
        ]
        sort = sorted(range(len(keys)), key=keys.__getitem__)
        rows: Iterator[tuple[str, ...]] = itertools.product(*items)
        if sort != list(range(len(keys))):  # two keys or more, not in sorted order
            rows = map(operator.itemgetter(*sort), rows)
        texts = list(map("{%s}".__mod__, map(",".join, rows)))
        params = list(map(dict, map(zip, itertools.repeat(keys), itertools.product(*columns))))
        return params, texts

    def _param_repr(self) -> list[str]:
        return [
            f"{key}={self._axes[key] if key in self._axes else self._fixed[key]!r}"
            for key in self._order
        ]


class Sample(Design):
    """``n`` seeded random configs: each entry a distribution, a list to choose from, or fixed.

    An entry is drawn when it is one of :func:`uniform`, :func:`loguniform`,
    :func:`randint` (high exclusive), :func:`normal`, :func:`choice`, a list (a uniform
    choice) or any object with ``.rvs(random_state=)`` (scipy.stats); anything else is
    a fixed value. ``seed`` defaults to 0, so a design always means the same configs:
    the same seed gives the same draws in every process and Python version, and a
    larger ``n`` extends the list without changing its start. Draws are independent,
    so a small space gives duplicates, which the expansion drops and reports. ``n`` is
    positional-only, so ``n=`` is free to be a param.
    """

    _label = "Sample"

    def __init__(
        self,
        n: int,
        /,
        *,
        seed: int = 0,
        params: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        where: Any = None,
        repeat: int | None = None,
        repeat_key: str = "seed",
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            defaults=defaults, where=where, repeat=repeat, repeat_key=repeat_key, name=name
        )
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"Sample: n must be a positive int, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UsageError(f"Sample: seed must be an int, got {seed!r}")
        self._n, self._seed = n, seed
        merged = merge_params(params, kwargs, where="Sample")
        self._params: dict[str, Any] = {}
        for key, value in merged.items():
            if is_sampler(value):
                self._params[key] = value
                continue
            axis = _axis(key, value, where="Sample")
            self._params[key] = check_value(key, value) if axis is None else Choice(tuple(axis))
        _check_repeat_key(self, merged)

    def _raw(self) -> Iterator[dict[str, Any]]:
        columns = {
            key: draw_values(value, n=self._n, seed=self._seed, key=key)
            if is_sampler(value)
            else None
            for key, value in self._params.items()
        }
        for i in range(self._n):
            yield {
                key: self._params[key] if column is None else column[i]
                for key, column in columns.items()
            }

    def _param_repr(self) -> list[str]:
        parts = [str(self._n), f"seed={self._seed}"]
        return parts + [f"{key}={value!r}" for key, value in self._params.items()]


class Group(Design):
    """The union of designs, in member order; ``shared`` params override every member's.

    ``Group(a, b)`` is ``a + b``. Shared params are values (a list is one value, not
    an axis), set over each member's params and defaults. The whole group is
    de-duplicated as one expansion, keeping the first of equal configs. A member's
    own ``name=`` template wins over the group's.
    """

    _label = "Group"

    def __init__(
        self,
        *members: Design,
        params: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        where: Any = None,
        repeat: int | None = None,
        repeat_key: str = "seed",
        name: str | None = None,
        **shared: Any,
    ) -> None:
        super().__init__(
            defaults=defaults, where=where, repeat=repeat, repeat_key=repeat_key, name=name
        )
        for position, member in enumerate(members):
            if not isinstance(member, Design):
                raise UsageError(
                    f"Group: member {position} is a {type(member).__name__}, "
                    "not a design (Point, Grid, Sample or Group)"
                )
        self.members: tuple[Design, ...] = tuple(members)
        merged = merge_params(params, shared, where="Group")
        self._shared = {key: check_value(key, value) for key, value in merged.items()}
        _check_repeat_key(self, self._shared)

    def _inner(self, ctx: Context) -> Context:
        inner = super()._inner(ctx)
        # The outermost Group has the last word, so its overrides are applied last.
        return Context(
            defaults=inner.defaults,
            overrides={**self._shared, **ctx.overrides},
            rules=inner.rules,
            repeats=inner.repeats,
            template=inner.template,
        )

    def _candidates(self, ctx: Context) -> Iterator[Candidate]:
        inner = self._inner(ctx)
        for member in self.members:
            yield from member._candidates(inner)

    def _param_repr(self) -> list[str]:
        return [repr(m) for m in self.members] + [
            f"{key}={value!r}" for key, value in self._shared.items()
        ]

    def _is_bare(self) -> bool:
        return super()._is_bare() and not self._shared
