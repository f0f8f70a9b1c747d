"""Sample and the distributions: seeded, reproducible across processes, bounds as documented."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import numpy
import pytest

from runlab.design import DropReason, Sample, choice, loguniform, normal, randint, uniform
from runlab.errors import UsageError

MIXED = dict(
    lr=loguniform(1e-4, 1e-1),
    u=uniform(-1, 1),
    k=randint(0, 3),
    z=normal(10, 2),
    opt=["adam", "sgd"],
    c=choice([[1, 2], (3,)]),
    epochs=5,
)


def params(design: Sample) -> list[dict[str, Any]]:
    return [dict(c.params) for c in design.expand()]


def column(design: Sample, key: str) -> list[Any]:
    return [c.params[key] for c in design.expand()]


def test_draws_are_pinned_for_a_seed() -> None:
    # random.Random(str).random() is the one stream Python promises never to change,
    # so these exact values hold on every platform and Python version.
    assert params(Sample(4, seed=7, **MIXED)) == [
        {"lr": 0.001038207217334626, "u": 0.777795918489556, "k": 1, "z": 6.382160032137715,
         "opt": "sgd", "c": (3,), "epochs": 5},
        {"lr": 0.018568128893314426, "u": -0.31469714160364304, "k": 2, "z": 8.464677892158669,
         "opt": "adam", "c": [1, 2], "epochs": 5},
        {"lr": 0.0001768419689185938, "u": -0.8999230742351587, "k": 1, "z": 8.02101965748887,
         "opt": "sgd", "c": (3,), "epochs": 5},
        {"lr": 0.00078776236058871, "u": -0.6851554722397235, "k": 0, "z": 6.4597151790297715,
         "opt": "sgd", "c": [1, 2], "epochs": 5},
    ]  # fmt: skip


def test_names_of_a_sample_show_just_enough_digits() -> None:
    assert Sample(4, seed=7, **MIXED).expand().names == (
        "c=3,k=1,lr=0.001,opt=sgd,u=0.8,z=6.4",
        "c=1-2,k=2,lr=0.02,opt=adam,u=-0.3,z=8.5",
        "c=3,k=1,lr=0.0002,opt=sgd,u=-0.9,z=8",
        "c=1-2,k=0,lr=0.0008,opt=sgd,u=-0.7,z=6.5",
    )
    assert Sample(3, seed=0, x=uniform(0, 1), name="x{x}").expand().names == (
        "x0.4",
        "x0.9",
        "x0.2",
    )


SCRIPT = """
import json
from runlab.design import Sample, choice, loguniform, normal, randint, uniform
design = Sample(6, seed=11, lr=loguniform(1e-5, 1.0), u=uniform(0, 1), k=randint(-5, 5),
                z=normal(0, 1), opt=["a", "b", "c"], c=choice([1, 2]))
print(json.dumps([[c.name, dict(c.params)] for c in design.expand("s")]))
"""


def test_draws_are_identical_in_separate_processes() -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(json.loads(done.stdout))
    design = Sample(
        6,
        seed=11,
        lr=loguniform(1e-5, 1.0),
        u=uniform(0, 1),
        k=randint(-5, 5),
        z=normal(0, 1),
        opt=["a", "b", "c"],
        c=choice([1, 2]),
    )
    here = [[c.name, dict(c.params)] for c in design.expand("s")]
    assert outputs[0] == outputs[1] == here


def test_a_larger_n_extends_the_same_draws() -> None:
    assert params(Sample(10, seed=3, **MIXED)) == params(Sample(20, seed=3, **MIXED))[:10]


def test_each_key_has_its_own_stream() -> None:
    alone = column(Sample(5, seed=1, x=uniform(0, 1)), "x")
    assert column(Sample(5, seed=1, y=uniform(0, 1), x=uniform(0, 1)), "x") == alone
    assert column(Sample(5, seed=1, x=uniform(0, 1), w=normal(0, 1)), "x") == alone
    assert column(Sample(5, seed=2, x=uniform(0, 1)), "x") != alone


def test_default_seed_is_zero() -> None:
    assert params(Sample(3, x=uniform(0, 1))) == params(Sample(3, seed=0, x=uniform(0, 1)))


def test_uniform_and_loguniform_stay_in_bounds() -> None:
    xs = column(Sample(500, seed=0, x=uniform(2.0, 3.0)), "x")
    assert all(2.0 <= x < 3.0 for x in xs)
    assert min(xs) < 2.01 and max(xs) > 2.99
    ls = column(Sample(500, seed=0, x=loguniform(1e-6, 1e-2)), "x")
    assert all(1e-6 <= x < 1e-2 for x in ls)
    # log-uniform: about a quarter of the draws in each of the four decades
    per_decade = [sum(10**-e <= x < 10 ** (1 - e) for x in ls) for e in (6, 5, 4, 3)]
    assert all(90 < count < 160 for count in per_decade), per_decade


def test_randint_high_is_exclusive() -> None:
    ks = column(Sample(300, seed=0, k=randint(1, 4), u=uniform(0, 1)), "k")
    assert set(ks) == {1, 2, 3}
    assert all(ks.count(k) > 70 for k in (1, 2, 3))
    assert all(type(k) is int for k in ks)


def test_normal_has_its_mean_and_spread() -> None:
    zs = column(Sample(2000, seed=0, z=normal(5.0, 2.0)), "z")
    mean = sum(zs) / len(zs)
    std = math.sqrt(sum((z - mean) ** 2 for z in zs) / len(zs))
    assert abs(mean - 5.0) < 0.15 and abs(std - 2.0) < 0.15


def test_lists_choose_uniformly_and_a_list_of_lists_chooses_lists() -> None:
    # a continuous key keeps the configs distinct, so no draw is dropped as a duplicate
    opts = column(Sample(300, seed=0, opt=["a", "b", "c"], u=uniform(0, 1)), "opt")
    assert len(opts) == 300
    assert {o: opts.count(o) > 70 for o in "abc"} == {"a": True, "b": True, "c": True}
    assert params(Sample(1, hidden=[[64, 64]])) == [{"hidden": [64, 64]}]


def test_scalars_tuples_and_dicts_are_fixed() -> None:
    design = Sample(2, seed=0, x=uniform(0, 1), shape=(28, 28), opt={"name": "adam"}, n=3)
    for p in params(design):
        assert (p["shape"], p["opt"], p["n"]) == ((28, 28), {"name": "adam"}, 3)


class FakeFrozen:
    """The scipy.stats frozen-distribution protocol: ``rvs(random_state=...)``."""

    def __init__(self) -> None:
        self.states: list[object] = []

    def rvs(self, random_state: Any = None) -> Any:
        self.states.append(random_state)
        return random_state.randint(0, 1000)

    def __repr__(self) -> str:
        return "FakeFrozen()"


def test_objects_with_rvs_get_a_seeded_numpy_random_state() -> None:
    fake = FakeFrozen()
    values = column(Sample(4, seed=5, x=fake), "x")
    assert values == column(Sample(4, seed=5, x=FakeFrozen()), "x")
    assert values != column(Sample(4, seed=6, x=FakeFrozen()), "x")
    assert all(type(v) is int for v in values)
    assert len(fake.states) == 4
    assert all(isinstance(s, numpy.random.RandomState) for s in fake.states)
    assert values == [464, 639, 648, 802]  # the legacy RandomState stream is frozen by numpy
    assert repr(Sample(4, seed=5, x=fake)) == "Sample(4, seed=5, x=FakeFrozen())"


def test_small_spaces_give_duplicates_that_are_reported() -> None:
    expansion = Sample(6, seed=0, opt=["a", "b"]).expand()
    assert [dict(c.params) for c in expansion] == [{"opt": "b"}, {"opt": "a"}]
    assert len(expansion.dropped) == 4
    assert {d.reason for d in expansion.dropped} == {DropReason.DUPLICATE}
    assert all(d.duplicate_of is expansion[d.params["opt"] == "a"] for d in expansion.dropped)
    assert str(expansion.dropped[0]) in (
        "{'opt': 'a'} dropped: duplicate of #1 opt=a",
        "{'opt': 'b'} dropped: duplicate of #0 opt=b",
    )


def test_sample_with_repeat_and_a_seed_param() -> None:
    design = Sample(2, seed=3, params={"seed": 99}, x=uniform(0, 1), repeat=2, repeat_key="rep")
    got = params(design)
    assert [(p["seed"], p["rep"]) for p in got] == [(99, 0), (99, 1), (99, 0), (99, 1)]
    assert got[0]["x"] == got[1]["x"] and got[2]["x"] == got[3]["x"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Sample(0, x=1), "Sample: n must be a positive int, got 0"),
        (lambda: Sample(True, x=1), "Sample: n must be a positive int, got True"),
        (lambda: Sample(2, seed="a"), "Sample: seed must be an int, got 'a'"),
        (lambda: Sample(2, x=[]), "Sample: param 'x' is an empty list; give at least one value "
         "(write [[]] for the value [])"),
        (lambda: uniform(1, 0), "uniform(1, 0): low must be less than high"),
        (lambda: uniform("a", 1), "uniform('a', 1): low must be a number, got str 'a'"),
        (lambda: uniform(0, math.inf), "uniform(0, inf): high must be finite, got inf"),
        (lambda: loguniform(0, 1), "loguniform(0, 1): need 0 < low < high"),
        (lambda: randint(1.5, 3), "randint(1.5, 3): low must be an int, got float"),
        (lambda: randint(3, 3), "randint(3, 3): low must be less than high (high is exclusive)"),
        (lambda: normal(0, 0), "normal(0, 0): sigma must be positive"),
        (lambda: choice([]), "choice([]): give at least one value"),
        (lambda: choice("abc"), "choice() takes a list of values, got str"),
    ],
)  # fmt: skip
def test_bad_samples_and_distributions_are_refused(make: Any, message: str) -> None:
    with pytest.raises(UsageError) as err:
        make()
    assert str(err.value) == message


def test_rvs_values_that_are_not_json_are_refused_naming_the_key() -> None:
    class Weird:
        def rvs(self, random_state: Any = None) -> object:
            return object()

    with pytest.raises(UsageError, match=r"^param w: object value"):
        Sample(1, w=Weird()).expand()


def test_repr_and_len() -> None:
    design = Sample(5, seed=2, lr=loguniform(1e-05, 0.1), opt=["a", "b"], k=randint(1, 4))
    assert repr(design) == (
        "Sample(5, seed=2, lr=loguniform(1e-05, 0.1), opt=choice(['a', 'b']), k=randint(1, 4))"
    )
    assert len(design) == 5
    assert repr(Sample(1, z=normal(0.0, 1.0), u=uniform(0, 1))) == (
        "Sample(1, seed=0, z=normal(0.0, 1.0), u=uniform(0, 1))"
    )
