"""Command-line overrides (k=v, k=a,b, ~k) on top of a sweep, and --only selection."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runlab.design import Grid, Sweep, apply_overrides, load_sweep, select_only
from runlab.design.overrides import Override
from runlab.errors import UsageError
from runlab.tasks import CommandTask

FILE = """
template: train --model {model} --lr {lr} [dropout]
default: {model: mlp, lr: 0.1, dropout: 0.5}
---
model: [mlp, cnn]
---
lr: [0.01]
"""


def sweep_of(tmp_path: Path, text: str = FILE) -> Sweep:
    path = tmp_path / "params.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_sweep(path)


def params(sweep: Sweep) -> list[dict]:
    return [dict(c.params) for c in sweep.expand()]


def test_no_overrides_is_the_same_sweep(tmp_path):
    sweep = sweep_of(tmp_path)
    assert apply_overrides(sweep, []) is sweep


def test_a_single_value_replaces_the_key_everywhere_and_duplicates_run_once(tmp_path):
    changed = apply_overrides(sweep_of(tmp_path), ["model=resnet"])
    # mlp, cnn and the lr=0.01 document's mlp all become resnet: two configs remain.
    assert params(changed) == [
        {"model": "resnet", "lr": 0.1, "dropout": 0.5},
        {"model": "resnet", "lr": 0.01, "dropout": 0.5},
    ]


def test_an_axis_repeats_every_config_its_values_varying_fastest(tmp_path):
    changed = apply_overrides(sweep_of(tmp_path), ["lr=0.1,0.001"])
    assert [(p["model"], p["lr"]) for p in params(changed)] == [
        ("mlp", 0.1),
        ("mlp", 0.001),
        ("cnn", 0.1),
        ("cnn", 0.001),
    ]
    # the third document's lr=0.01 is replaced, so its configs duplicate document 1's
    assert len(changed.expand().dropped) == 2


def test_several_axes_combine_as_a_grid_in_the_order_given(tmp_path):
    sweep = Sweep("s", Grid(model=["a"]))
    changed = apply_overrides(sweep, ["lr=1,2", "bs=32,64"])
    assert [(p["lr"], p["bs"]) for p in params(changed)] == [(1, 32), (1, 64), (2, 32), (2, 64)]


def test_removing_a_key(tmp_path):
    sweep = sweep_of(tmp_path, FILE.replace(" [dropout]", ""))
    changed = apply_overrides(sweep, ["~dropout"])
    assert params(changed) == [
        {"model": "mlp", "lr": 0.1},
        {"model": "cnn", "lr": 0.1},
        {"model": "mlp", "lr": 0.01},
    ]


def test_overrides_keep_the_original_sweep_unchanged(tmp_path):
    sweep = sweep_of(tmp_path)
    apply_overrides(sweep, ["model=resnet", "lr=1,2"])
    assert len(sweep.expand()) == 3


def test_where_rules_judge_the_overridden_config(tmp_path):
    sweep = sweep_of(tmp_path, FILE.replace("default:", "where: lr < 1\ndefault:"))
    changed = apply_overrides(sweep, ["lr=0.5,5"])
    assert {p["lr"] for p in params(changed)} == {0.5}


def test_overrides_apply_before_repeat_and_keep_cmd(tmp_path):
    text = """
    template:
      train: train {lr} {seed}
      test: test {lr}
    repeat: 2
    ---
    lr: [0.1]
    _cmd: test
    """
    changed = apply_overrides(sweep_of(tmp_path, text), ["lr=1,2"])
    assert [(p["lr"], p["seed"]) for p in params(changed)] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    for config in changed.expand():
        task = changed.task_for(config)
        assert isinstance(task, CommandTask)
        assert [c.name for c in task.steps] == ["test"]


def test_overrides_apply_to_a_python_design():
    sweep = Sweep("s", Grid(a=[1, 2], b=3))
    changed = apply_overrides(sweep, ["b=4", "~a"])
    assert params(changed) == [{"b": 4}]


@pytest.mark.parametrize(
    "text,values",
    [
        ("lr=0.1", (0.1,)),
        ("lr=1e-4", (0.0001,)),
        ("n=3", (3,)),
        ("flag=true", (True,)),
        ("model=resnet", ("resnet",)),
        ("lr=0.1,0.01", (0.1, 0.01)),
        ("hidden=[64,64]", ([64, 64],)),
        ("hidden=[64,64],[128]", ([64, 64], [128])),
        ("msg='a,b'", ("a,b",)),
        ("msg=''", ("",)),
        ("opt={name: adam}", ({"name": "adam"},)),
        ("x=null", (None,)),
        ("path=data/train.csv", ("data/train.csv",)),
    ],
)
def test_values_are_yaml_scalars(text, values):
    override = Override.parse(text)
    assert override.values == values
    assert [type(v) for v in override.values] == [type(v) for v in values]


def test_a_removal_parses():
    assert Override.parse("~dropout") == Override("~dropout", "dropout", None)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["lr"], "override 'lr': write key=value, key=a,b (an axis) or ~key (remove)"),
        (["=1"], "override '=1': write key=value, key=a,b (an axis) or ~key (remove)"),
        (["lr="], "override 'lr=': give a value (write lr='' for an empty string)"),
        (["~"], "override '~': write ~key to remove a key"),
        (
            ["lr=[1,"],
            "override 'lr=[1,': cannot read the value: expected ',' or ']', but got '<stream end>'",
        ),
        (["_id=3"], "override '_id=3': param name '_id' is reserved for name templates"),
        (["lr=1", "lr=2"], "override 'lr=2': key 'lr' is already overridden by 'lr=1'"),
        (
            ["~dropuot"],
            "override '~dropuot': no config has the key 'dropuot' (did you mean '~dropout'?)",
        ),
        (
            ["~dropout"],
            "with overrides ~dropout: config #0 lr=0.1,model=mlp: "
            "command 'main': placeholder [dropout] has no value",
        ),
        (
            ["~model"],
            "with overrides ~model: config #0 lr=0.1: "
            "command 'main': placeholder {model} has no value",
        ),
    ],
)
def test_bad_overrides_are_one_line_errors(tmp_path, overrides, message):
    with pytest.raises(UsageError) as err:
        apply_overrides(sweep_of(tmp_path), overrides)
    assert str(err.value) == message


def test_overrides_that_leave_no_config(tmp_path):
    sweep = sweep_of(tmp_path, FILE.replace("default:", "where: lr < 1\ndefault:"))
    with pytest.raises(UsageError) as err:
        apply_overrides(sweep, ["lr=5"])
    assert (
        str(err.value)
        == "with overrides lr=5: sweep 'params' has no configs: its where rules drop all 3"
    )


def test_a_string_instead_of_a_list_is_refused(tmp_path):
    with pytest.raises(UsageError):
        apply_overrides(sweep_of(tmp_path), "lr=1")  # type: ignore[arg-type]


# -- --only ---------------------------------------------------------------------------


def test_select_only_positions_and_ranges():
    expansion = Grid(x=list(range(10))).expand()
    assert [c.index for c in select_only(expansion, "0,3")] == [0, 3]
    assert [c.index for c in select_only(expansion, "2-5")] == [2, 3, 4, 5]
    assert [c.index for c in select_only(expansion, "7, 1-2 ,2")] == [1, 2, 7]
    assert [c.params["x"] for c in select_only(expansion, "9")] == [9]


@pytest.mark.parametrize(
    "only,message",
    [
        ("10", "--only '10': position 10 is out of range; the plan has 10 configs (0-9)"),
        ("3-12", "--only '3-12': position 12 is out of range; the plan has 10 configs (0-9)"),
        ("5-2", "--only '5-2': range '5-2' runs backwards"),
        ("a", "--only 'a': 'a' is not a position or a range like 2-5"),
        ("-1", "--only '-1': '-1' is not a position or a range like 2-5"),
        ("1,,2", "--only '1,,2': '' is not a position or a range like 2-5"),
        ("", "--only '': give positions like 0,3 or 2-5"),
    ],
)
def test_select_only_errors(only, message):
    with pytest.raises(UsageError) as err:
        select_only(Grid(x=list(range(10))).expand(), only)
    assert str(err.value) == message
