"""diff(a, b): only the keys whose values differ, as a structure and as JSON."""

from __future__ import annotations

import pytest

from runlab.design import Diff, Grid, KeyDiff, Point, diff
from runlab.errors import UsageError


def test_diff_of_two_grids_lists_only_differing_keys() -> None:
    result = diff(
        Grid(lr=[0.1, 0.01], model="cnn", epochs=10),
        Grid(lr=[0.1], model="mlp", epochs=10),
    )
    assert result.keys == (
        KeyDiff("lr", (0.1, 0.01), (0.1,)),
        KeyDiff("model", ("cnn",), ("mlp",)),
    )
    assert result.common == 0
    assert result.only_a == ("lr=0.1", "lr=0.01")
    assert bool(result)


def test_diff_of_points_and_keys_only_one_side_has() -> None:
    result = diff(Point(lr=0.1, opt="adam"), Point(lr=0.1, opt="sgd", warmup=True))
    assert result.to_json() == {
        "keys": [
            {"key": "opt", "a": ["adam"], "b": ["sgd"], "a_missing": False, "b_missing": False},
            {"key": "warmup", "a": [], "b": [True], "a_missing": True, "b_missing": False},
        ],
        "only_a": [result.only_a[0]],
        "only_b": [result.only_b[0]],
        "common": 0,
    }


def test_identical_designs_have_an_empty_false_diff() -> None:
    result = diff(Grid(a=[1, 2]), Point(a=1.0) + Point(a=2))
    assert result == Diff((), (), (), 2)
    assert not result
    assert result.to_json() == {"keys": [], "only_a": [], "only_b": [], "common": 2}


def test_diff_counts_common_configs_and_names_the_others() -> None:
    result = diff(Grid(a=[1, 2, 3]), Grid(a=[2, 3, 4]))
    assert result.keys == (KeyDiff("a", (1, 2, 3), (2, 3, 4)),)
    assert (result.only_a, result.only_b, result.common) == (("a=1",), ("a=4",), 2)


def test_key_missing_from_some_configs_of_one_side() -> None:
    result = diff(Point(a=1) + Point(a=2, b=1), Point(a=1, b=1) + Point(a=2, b=1))
    assert result.keys == (KeyDiff("b", (1,), (1,), a_missing=True, b_missing=False),)


def test_diff_accepts_expansions() -> None:
    a = Grid(x=[1, 2]).expand()
    assert diff(a, Grid(x=[1, 3])).keys == (KeyDiff("x", (1, 2), (1, 3)),)
    assert diff(a, Grid(x=[1, 2]).expand()).keys == ()


def test_diff_compares_list_values_canonically() -> None:
    result = diff(Point(hidden=[64, 64]), Point(hidden=(64, 64)))
    assert result.keys == ()
    result = diff(Point(hidden=[64, 64]), Point(hidden=[64, 32]))
    assert result.to_json()["keys"] == [
        {"key": "hidden", "a": [[64, 64]], "b": [[64, 32]], "a_missing": False, "b_missing": False}
    ]


def test_diff_of_something_else_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        diff(Point(a=1), {"a": 1})  # type: ignore[arg-type]
    assert str(err.value) == "diff: b must be a design or an expansion, got dict"
