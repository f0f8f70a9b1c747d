"""Point and Grid: values vs axes, order, defaults, repeat, options, repr and len."""

from __future__ import annotations

import numpy
import pytest

from runlab.canonical import config_hash
from runlab.design import Grid, Point
from runlab.errors import UsageError


def params(design: object) -> list[dict[str, object]]:
    return [dict(c.params) for c in design.expand()]  # type: ignore[attr-defined]


def test_point_is_one_config_whose_lists_are_values() -> None:
    assert params(Point(lr=0.1, hidden=[64, 64], shape=(28, 28))) == [
        {"lr": 0.1, "hidden": [64, 64], "shape": (28, 28)}
    ]


def test_empty_point_and_empty_grid_are_one_empty_config() -> None:
    assert params(Point()) == [{}]
    assert params(Grid()) == [{}]


def test_grid_is_the_product_with_the_last_key_fastest() -> None:
    design = Grid(a=[1, 2], b=["x", "y"], c=True)
    assert params(design) == [
        {"a": 1, "b": "x", "c": True},
        {"a": 1, "b": "y", "c": True},
        {"a": 2, "b": "x", "c": True},
        {"a": 2, "b": "y", "c": True},
    ]
    assert [c.index for c in design.expand()] == [0, 1, 2, 3]


def test_grid_order_follows_the_order_keys_were_given() -> None:
    assert params(Grid(b=["x", "y"], a=[1, 2])) == [
        {"b": "x", "a": 1},
        {"b": "x", "a": 2},
        {"b": "y", "a": 1},
        {"b": "y", "a": 2},
    ]


def test_grid_keeps_key_order_in_params_with_fixed_values_between_axes() -> None:
    [config] = Grid(a=[1], fixed="f", b=[2]).expand()
    assert list(config.params) == ["a", "fixed", "b"]


def test_list_of_lists_gives_list_values_and_tuples_are_values() -> None:
    assert params(Grid(hidden=[[64, 64]], shape=(28, 28))) == [
        {"hidden": [64, 64], "shape": (28, 28)}
    ]
    assert params(Grid(hidden=[[64, 64], [128]])) == [{"hidden": [64, 64]}, {"hidden": [128]}]
    assert params(Grid(opt=[{"name": "adam"}, {"name": "sgd"}])) == [
        {"opt": {"name": "adam"}},
        {"opt": {"name": "sgd"}},
    ]


def test_range_and_numpy_arrays_are_axes_of_plain_python_values() -> None:
    expanded = params(Grid(seed=range(3), lr=numpy.array([0.5, 0.25])))
    assert expanded == [
        {"seed": 0, "lr": 0.5},
        {"seed": 0, "lr": 0.25},
        {"seed": 1, "lr": 0.5},
        {"seed": 1, "lr": 0.25},
        {"seed": 2, "lr": 0.5},
        {"seed": 2, "lr": 0.25},
    ]
    assert all(type(p["lr"]) is float for p in expanded)
    assert type(params(Point(x=numpy.float32(0.5)))[0]["x"]) is float
    assert params(Point(w=numpy.array([[1, 2], [3, 4]]))) == [{"w": [[1, 2], [3, 4]]}]


def test_empty_list_is_refused_naming_the_key() -> None:
    with pytest.raises(UsageError) as err:
        Grid(lr=[], model=["a"])
    assert str(err.value) == (
        "Grid: param 'lr' is an empty list; give at least one value (write [[]] for the value [])"
    )
    assert params(Grid(tags=[[]])) == [{"tags": []}]


def test_non_json_value_is_refused_naming_the_key() -> None:
    with pytest.raises(UsageError, match=r"^param fn: builtin_function_or_method value"):
        Grid(fn=[print])
    with pytest.raises(UsageError, match=r"^param opt\.x: object value"):
        Point(opt={"x": object()})


def test_config_hash_is_the_canonical_one_and_int_equals_float() -> None:
    expansion = Grid(lr=[1, 1.0, 0.5]).expand()
    assert [dict(c.params) for c in expansion] == [{"lr": 1}, {"lr": 0.5}]
    assert [c.hash for c in expansion] == [config_hash({"lr": 1}), config_hash({"lr": 0.5})]
    assert config_hash({"lr": True}) != config_hash({"lr": 1})
    assert len(Grid(flag=[True, 1])) == 2


def test_defaults_go_under_each_config() -> None:
    design = Grid(lr=[0.1, 0.2], defaults={"lr": 9, "epochs": 10})
    assert params(design) == [{"lr": 0.1, "epochs": 10}, {"lr": 0.2, "epochs": 10}]


def test_defaults_must_be_a_dict() -> None:
    with pytest.raises(UsageError, match=r"^Grid: defaults must be a dict, got list$"):
        Grid(defaults=[1])


def test_repeat_adds_seed_zero_to_n_minus_one_fastest() -> None:
    assert params(Grid(lr=[0.1, 0.2], repeat=2)) == [
        {"lr": 0.1, "seed": 0},
        {"lr": 0.1, "seed": 1},
        {"lr": 0.2, "seed": 0},
        {"lr": 0.2, "seed": 1},
    ]


def test_repeat_with_a_named_key_replaces_a_default_of_that_key() -> None:
    design = Point(lr=0.1, repeat=3, repeat_key="fold", defaults={"fold": -1})
    assert params(design) == [
        {"lr": 0.1, "fold": 0},
        {"lr": 0.1, "fold": 1},
        {"lr": 0.1, "fold": 2},
    ]


@pytest.mark.parametrize("repeat", [0, -1, True, 1.5, "2"])
def test_repeat_must_be_a_positive_int(repeat: object) -> None:
    with pytest.raises(UsageError, match=r"^Point: repeat must be a positive int, got "):
        Point(repeat=repeat)


def test_repeat_key_that_is_also_a_param_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Grid(seed=[1, 2], repeat=3)
    assert str(err.value) == (
        "Grid: repeat key 'seed' is also a param; pass repeat_key= to use another name"
    )


def test_repeat_key_without_repeat_is_refused() -> None:
    with pytest.raises(UsageError, match=r"^Grid: repeat_key='fold' needs repeat=N$"):
        Grid(a=[1], repeat_key="fold")


def test_option_names_can_be_params_through_params_mapping() -> None:
    design = Grid(params={"name": ["a", "b"], "where": "here"}, lr=[0.1])
    assert params(design) == [
        {"name": "a", "where": "here", "lr": 0.1},
        {"name": "b", "where": "here", "lr": 0.1},
    ]


def test_param_given_twice_is_refused() -> None:
    with pytest.raises(UsageError, match=r"^Grid: param 'lr' is given twice$"):
        Grid(params={"lr": [1]}, lr=[2])


@pytest.mark.parametrize("key", ["_id", "_sweep", "_hash"])
def test_reserved_template_fields_cannot_be_params(key: str) -> None:
    with pytest.raises(UsageError) as err:
        Point(params={key: 1})
    assert str(err.value) == f"Point: param name {key!r} is reserved for name templates"


def test_params_must_be_non_empty_strings() -> None:
    with pytest.raises(UsageError, match=r"^Point: param names must be non-empty strings, got 1$"):
        Point(params={1: "x"})


def test_designs_copy_their_inputs_and_configs_are_read_only() -> None:
    hidden = [64, 64]
    design = Point(hidden=hidden)
    hidden.append(1)
    [config] = design.expand()
    assert config.params["hidden"] == [64, 64]
    with pytest.raises(TypeError):
        config.params["hidden"] = 1  # type: ignore[index]
    config.params["hidden"].append(2)  # a list inside stays a list, but a private one
    assert design.expand()[0].params["hidden"] == [64, 64]


def test_config_is_hashable_and_serialisable() -> None:
    [config] = Point(lr=0.5, name="x").expand()
    assert {config: 1}[config] == 1
    assert config.to_json() == {
        "index": 0,
        "name": "x",
        "hash": config_hash({"lr": 0.5}),
        "params": {"lr": 0.5},
    }


def test_repr_shows_params_then_non_default_options() -> None:
    assert repr(Point(lr=0.1)) == "Point(lr=0.1)"
    assert repr(Grid(a=[1, 2], b="x", c=(1, 2))) == "Grid(a=[1, 2], b='x', c=(1, 2))"
    design = Grid(
        lr=[0.1],
        defaults={"e": 1},
        where="lr > 0",
        repeat=2,
        repeat_key="fold",
        name="{lr}",
    )
    assert repr(design) == (
        "Grid(lr=[0.1], defaults={'e': 1}, where='lr > 0', repeat=2, repeat_key='fold', "
        "name='{lr}')"
    )


def keep_all(config: dict[str, object]) -> bool:
    return True


def test_repr_of_several_rules_shows_callables_by_name() -> None:
    design = Point(a=1, where=["a > 0", keep_all], repeat=1)
    assert repr(design) == "Point(a=1, where=['a > 0', keep_all], repeat=1)"


def test_len_counts_configs_after_rules_and_dedupe() -> None:
    assert len(Point(a=1)) == 1
    assert len(Grid(a=[1, 2, 3], b=[1, 2])) == 6
    assert len(Grid(a=[1, 2, 3], where="a != 2")) == 2
    assert len(Grid(a=[1, 1.0, 2])) == 2
    assert len(Grid(a=[1, 2], repeat=5)) == 10
