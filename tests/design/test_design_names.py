"""Names: templates, reserved fields, default names from varying keys, float rendering, safety."""

from __future__ import annotations

import math

import pytest

from runlab.canonical import config_hash
from runlab.design import Grid, Group, Point
from runlab.errors import UsageError


def test_template_fills_keys() -> None:
    design = Grid(model=["mlp", "cnn"], lr=[0.1, 0.01], name="{model}-{lr}")
    assert design.expand().names == ("mlp-0.1", "mlp-0.01", "cnn-0.1", "cnn-0.01")


def test_template_reserved_fields() -> None:
    design = Grid(lr=[0.5, 0.25], name="{_sweep}-{_id}-{_hash}")
    h0, h1 = config_hash({"lr": 0.5}), config_hash({"lr": 0.25})
    assert design.expand("s1").names == (f"s1-0-{h0}", f"s1-1-{h1}")


def test_template_format_specs_and_literal_braces() -> None:
    design = Grid(lr=[0.5, 0.0001], name="{_id:03d}_{lr:.0e}_{_hash:.4}{{x}}")
    names = design.expand().names
    assert names == (
        f"000_5e-01_{config_hash({'lr': 0.5})[:4]}_x",
        f"001_1e-04_{config_hash({'lr': 0.0001})[:4]}_x",
    )


def test_template_with_dotted_keys() -> None:
    design = Grid(params={"optim.lr": [0.1, 0.2]}, name="lr{optim.lr}")
    assert design.expand().names == ("lr0.1", "lr0.2")


def test_sweep_field_without_a_sweep_name_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, name="{_sweep}-{a}").expand()
    assert str(err.value) == (
        "name template '{_sweep}-{a}' uses {_sweep} but no sweep name was given"
    )


def test_template_naming_a_missing_key_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, name="{a}-{b}").expand()
    assert str(err.value) == (
        "name template '{a}-{b}' names key 'b', which config #0 {'a': 1} does not have"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{a", "name template '{a' has an unmatched '{'"),
        ("a}", "name template 'a}' has an unmatched '}'"),
        ("x{}", "name template 'x{}' has an empty field '{}'"),
        ("", "name template must be a non-empty string, got ''"),
    ],
)
def test_malformed_templates_are_refused_at_construction(template: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, name=template)
    assert str(err.value) == message


def test_bad_format_spec_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Point(opt="adam", name="{opt:.2f}").expand()
    assert str(err.value) == (
        "name template '{opt:.2f}': format spec '.2f' does not apply to opt='adam'"
    )


def test_template_that_merges_configs_is_refused_naming_the_missing_keys() -> None:
    design = Grid(model=["mlp"], lr=[0.1, 0.2], depth=[1, 2], name="{model}")
    with pytest.raises(UsageError) as err:
        design.expand()
    assert str(err.value) == (
        "name template '{model}' gives 4 different configs the name 'mlp' (#0 and #1); "
        "add the varying keys depth, lr to it, or {_id}"
    )


def test_template_whose_format_merges_values_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Grid(lr=[0.11, 0.12], name="{lr:.1f}").expand()
    assert str(err.value) == (
        "name template '{lr:.1f}' gives 2 different configs the name '0.1' (#0 and #1); "
        "its fields render different values alike, so use a finer format spec or add {_id}"
    )


def test_template_whose_safe_names_collide_is_refused() -> None:
    with pytest.raises(UsageError, match=r"^name template '\{p\}' gives 2 different configs"):
        Grid(p=["a/b", "a b"], name="{p}").expand()


def test_default_names_use_the_varying_keys_sorted() -> None:
    design = Grid(model=["resnet", "mlp"], lr=[0.01], epochs=10, batch=[32, 64])
    assert design.expand().names == (
        "batch=32,model=resnet",
        "batch=64,model=resnet",
        "batch=32,model=mlp",
        "batch=64,model=mlp",
    )
    assert design.expand().varying == ("batch", "model")


def test_single_config_is_named_after_the_sweep_or_its_hash() -> None:
    design = Point(lr=0.1)
    assert design.expand("baseline").names == ("baseline",)
    assert design.expand().names == (config_hash({"lr": 0.1})[:8],)


def test_a_key_missing_from_some_configs_varies() -> None:
    design = Point(c=0) + Point(c=0, b=2) + Point(c=0, b=3)
    h0 = config_hash({"c": 0})[:8]
    assert design.expand().names == (h0, "b=2", "b=3")
    assert design.expand("base").names == ("base", "b=2", "b=3")
    assert design.expand().varying == ("b",)
    design = Point(c=0) + Point(c=0, b=2) + Point(c=1, b=3)
    assert design.expand().names == ("c=0", "b=2,c=0", "b=3,c=1")
    assert design.expand().varying == ("b", "c")


def test_floats_render_with_just_enough_digits() -> None:
    assert Grid(lr=[0.001, 0.004]).expand().names == ("lr=0.001", "lr=0.004")
    assert Grid(lr=[0.1, 1e-05]).expand().names == ("lr=0.1", "lr=1e-05")
    assert Grid(lr=[0.0012345, 0.0045678]).expand().names == ("lr=0.001", "lr=0.005")
    assert Grid(lr=[0.0012345, 0.0012399]).expand().names == ("lr=0.00123", "lr=0.00124")
    assert Grid(x=[1 / 3, 0.3333, 2]).expand().names == ("x=0.33333", "x=0.3333", "x=2")
    assert Grid(x=[0.1, math.nextafter(0.1, 1)]).expand().names == (
        "x=0.1",
        "x=0.10000000000000002",
    )


def test_integral_floats_render_as_ints_like_the_hash() -> None:
    assert Grid(lr=[1.0, 0.5]).expand().names == ("lr=1", "lr=0.5")
    assert Grid(lr=[1.0, 2.0], name="{lr}").expand().names == ("1", "2")


def test_other_values_render_readably() -> None:
    design = Grid(
        hidden=[[64, 64], [], (3,)],
        flag=[True, None],
        params={"opt": [{"name": "adam", "lr": 0.5}]},
    )
    assert design.expand().names == (
        "flag=True,hidden=64-64",
        "flag=None,hidden=64-64",
        "flag=True,hidden=empty",
        "flag=None,hidden=empty",
        "flag=True,hidden=3",
        "flag=None,hidden=3",
    )
    assert Grid(opt=[{"name": "adam", "lr": 0.5}, {"name": "sgd"}]).expand().names == (
        "opt=lr=0.5-name=adam",
        "opt=name=sgd",
    )


def test_names_are_safe_folder_names() -> None:
    design = Grid(path=["../etc/passwd", ".hidden", "a b/c"], name="{path}")
    assert design.expand().names == ("_.._etc_passwd", "_.hidden", "a_b_c")
    assert Point(x=-1, name="{x}").expand().names == ("_-1",)
    assert Point(x="index.db", name="{x}").expand().names == ("_index.db",)


def test_default_names_that_coincide_get_the_hash() -> None:
    expansion = Grid(a=[1, "1", 2]).expand()
    h1, h2 = config_hash({"a": 1}), config_hash({"a": "1"})
    assert expansion.names == (f"a=1-{h1}", f"a=1-{h2}", "a=2")


def test_group_members_keep_their_own_templates() -> None:
    design = Group(
        Grid(model=["mlp"], lr=[0.1, 0.2], name="{model}-{lr}"),
        Grid(model=["cnn"], depth=[2, 4]),
        name="g{_id}",
    )
    assert design.expand().names == ("mlp-0.1", "mlp-0.2", "g2", "g3")


def test_template_name_colliding_with_a_default_name_is_refused() -> None:
    design = Point(a=1, name="a=2") + Point(a=2)
    with pytest.raises(UsageError, match=r"^name template 'a=2' gives 2 different configs"):
        design.expand()
