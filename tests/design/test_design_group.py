"""Group and +: union in member order, shared overrides, nesting, de-duplication, reports."""

from __future__ import annotations

from typing import Any

import pytest

from runlab.canonical import config_hash
from runlab.design import Design, DropReason, Expansion, Grid, Group, Point, Sample, uniform
from runlab.errors import UsageError


def params(design: Design) -> list[dict[str, Any]]:
    return [dict(c.params) for c in design.expand()]


def test_group_is_the_concatenation_of_its_members() -> None:
    design = Group(Grid(lr=[0.1, 0.2]), Point(lr=1, warmup=True))
    assert params(design) == [{"lr": 0.1}, {"lr": 0.2}, {"lr": 1, "warmup": True}]
    assert len(design) == 3


def test_plus_makes_a_flat_group() -> None:
    a, b, c = Point(x=1), Point(x=2), Point(x=3)
    design = a + b + c
    assert isinstance(design, Group)
    assert design.members == (a, b, c)
    assert repr(design) == "Group(Point(x=1), Point(x=2), Point(x=3))"
    assert (a + (b + c)).members == (a, b, c)
    assert params(design) == [{"x": 1}, {"x": 2}, {"x": 3}]


def test_plus_keeps_a_group_with_options_as_one_member() -> None:
    inner = Group(Point(x=1), y=2)
    design = inner + Point(x=3)
    assert design.members == (inner, design.members[1])
    assert repr(design) == "Group(Group(Point(x=1), y=2), Point(x=3))"


def test_plus_with_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Point(x=1) + {"x": 2}  # type: ignore[operator]


def test_members_must_be_designs() -> None:
    with pytest.raises(UsageError) as err:
        Group(Point(x=1), {"x": 2})  # type: ignore[arg-type]
    assert str(err.value) == (
        "Group: member 1 is a dict, not a design (Point, Grid, Sample or Group)"
    )


def test_empty_group_has_no_configs() -> None:
    assert len(Group()) == 0
    assert Group().expand() == Expansion((), (), (), None)


def test_shared_params_override_every_member_and_lists_are_values() -> None:
    design = Group(
        Grid(lr=[0.1, 0.2], opt="sgd"),
        Point(lr=1, opt="adam"),
        opt="lamb",
        layers=[64, 64],
    )
    assert params(design) == [
        {"lr": 0.1, "opt": "lamb", "layers": [64, 64]},
        {"lr": 0.2, "opt": "lamb", "layers": [64, 64]},
        {"lr": 1, "opt": "lamb", "layers": [64, 64]},
    ]


def test_defaults_inner_beat_outer_and_overrides_outer_beat_inner() -> None:
    inner = Group(
        Point(a=1, defaults={"d": "point"}),
        Point(a=2),
        defaults={"d": "inner", "e": "inner"},
        s="inner",
    )
    design = Group(inner, defaults={"d": "outer", "e": "outer", "f": "outer"}, s="outer")
    assert params(design) == [
        {"d": "point", "e": "inner", "f": "outer", "a": 1, "s": "outer"},
        {"d": "inner", "e": "inner", "f": "outer", "a": 2, "s": "outer"},
    ]


def test_duplicates_across_members_keep_the_first_and_are_reported() -> None:
    design = Grid(lr=[0.1, 0.2]) + Grid(lr=[0.2, 0.3]) + Point(lr=1.0) + Point(lr=1)
    expansion = design.expand()
    assert [dict(c.params) for c in expansion] == [
        {"lr": 0.1},
        {"lr": 0.2},
        {"lr": 0.3},
        {"lr": 1.0},
    ]
    assert [(dict(d.params), d.reason, d.duplicate_of) for d in expansion.dropped] == [
        ({"lr": 0.2}, DropReason.DUPLICATE, expansion[1]),
        ({"lr": 1}, DropReason.DUPLICATE, expansion[3]),
    ]
    assert expansion.dropped[0].hash == expansion[1].hash == config_hash({"lr": 0.2})
    assert str(expansion.dropped[1]) == "{'lr': 1} dropped: duplicate of #3 lr=1"
    assert expansion.dropped[1].to_json() == {
        "params": {"lr": 1},
        "hash": config_hash({"lr": 1}),
        "reason": "duplicate",
        "rule": None,
        "duplicate_of": {"index": 3, "name": "lr=1"},
    }


def test_shared_overrides_can_make_duplicates() -> None:
    design = Group(Point(opt="a"), Point(opt="b"), opt="c")
    expansion = design.expand()
    assert [dict(c.params) for c in expansion] == [{"opt": "c"}]
    assert [d.duplicate_of for d in expansion.dropped] == [expansion[0]]


def test_group_rules_apply_to_every_member_after_overrides() -> None:
    design = Group(Grid(a=[1, 2, 3]), Grid(a=[4, 5]), b=10, where="a + b != 12")
    assert [p["a"] for p in params(design)] == [1, 3, 4, 5]
    assert [d.rule for d in design.expand().dropped] == ["a + b != 12"]


def test_group_rule_naming_a_key_one_member_lacks_is_an_error() -> None:
    design = Group(Point(kernel="poly", degree=2), Point(kernel="linear"), where="degree < 3")
    with pytest.raises(UsageError) as err:
        design.expand()
    assert str(err.value) == (
        "where rule 'degree < 3' names key 'degree', "
        "which config {'kernel': 'linear'} does not have"
    )


def test_group_repeat_varies_faster_than_a_member_repeat() -> None:
    design = Group(Point(a=1, repeat=2), Point(a=2), repeat=2, repeat_key="fold")
    assert params(design) == [
        {"a": 1, "seed": 0, "fold": 0},
        {"a": 1, "seed": 0, "fold": 1},
        {"a": 1, "seed": 1, "fold": 0},
        {"a": 1, "seed": 1, "fold": 1},
        {"a": 2, "fold": 0},
        {"a": 2, "fold": 1},
    ]


def test_one_repeat_key_used_twice_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Group(Point(a=1, repeat=2), repeat=3).expand()
    assert str(err.value) == (
        "Point: repeat key 'seed' is also repeated by an enclosing Group; "
        "pass repeat_key= to use another name"
    )


def test_repeat_key_set_by_a_member_or_shared_param_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Group(Point(seed=5), repeat=2).expand()
    assert str(err.value) == (
        "Point: repeat key 'seed' is already a param (= 5); pass repeat_key= to use another name"
    )
    with pytest.raises(UsageError, match=r"^Point: repeat key 'seed' is already a param \(= 1\)"):
        Group(Point(a=1, repeat=2), seed=1).expand()
    with pytest.raises(UsageError, match=r"^Group: repeat key 'seed' is also a param"):
        Group(Point(a=1), seed=1, repeat=2)


def test_heterogeneous_group_with_sample() -> None:
    design = Group(
        Grid(model=["mlp"], width=[32, 64]),
        Sample(2, seed=0, model="cnn", lr=uniform(0, 1)),
        dataset="mnist",
    )
    got = params(design)
    assert [(p["model"], p["dataset"]) for p in got] == [("mlp", "mnist")] * 2 + [
        ("cnn", "mnist")
    ] * 2
    assert [sorted(p) for p in got] == [["dataset", "model", "width"]] * 2 + [
        ["dataset", "lr", "model"]
    ] * 2


def test_options_of_a_group_in_repr() -> None:
    design = Group(Point(a=1), Grid(b=[1, 2]), c=3, defaults={"d": 4}, where="c > 0", name="{_id}")
    assert repr(design) == (
        "Group(Point(a=1), Grid(b=[1, 2]), c=3, defaults={'d': 4}, where='c > 0', name='{_id}')"
    )


def test_shared_option_words_go_through_params() -> None:
    design = Group(Point(a=1), params={"name": "run", "repeat": 2})
    assert params(design) == [{"a": 1, "name": "run", "repeat": 2}]


def test_expansion_is_a_sequence_of_configs_with_json_form() -> None:
    expansion = (Point(a=1) + Point(a=2) + Point(a=1.0)).expand("s")
    assert len(expansion) == 2
    assert [c.name for c in expansion] == list(expansion.names) == ["a=1", "a=2"]
    assert expansion[1].params == {"a": 2}
    assert expansion.to_json() == {
        "sweep": "s",
        "varying": ["a"],
        "configs": [
            {"index": 0, "name": "a=1", "hash": config_hash({"a": 1}), "params": {"a": 1}},
            {"index": 1, "name": "a=2", "hash": config_hash({"a": 2}), "params": {"a": 2}},
        ],
        "dropped": [
            {
                "params": {"a": 1.0},
                "hash": config_hash({"a": 1}),
                "reason": "duplicate",
                "rule": None,
                "duplicate_of": {"index": 0, "name": "a=1"},
            }
        ],
    }


def test_rule_drops_in_json_form() -> None:
    [dropped] = Grid(a=[1, 2], where="a < 2").expand().dropped
    assert dropped.to_json() == {
        "params": {"a": 2},
        "hash": config_hash({"a": 2}),
        "reason": "rule",
        "rule": "a < 2",
        "duplicate_of": None,
    }


@pytest.mark.parametrize("sweep", ["", 3])
def test_sweep_name_must_be_a_non_empty_string(sweep: Any) -> None:
    with pytest.raises(UsageError, match=r"^sweep name must be a non-empty string, got "):
        Point(a=1).expand(sweep)


def test_expansion_is_identical_on_every_call() -> None:
    design = Grid(a=[3, 1, 2], b=[0.5, 0.25]) + Sample(4, seed=1, a=uniform(0, 9), b=0.5)
    assert design.expand("s") == design.expand("s")
