"""Command templates: quoting, flags, reserved names, and errors before anything runs."""

from __future__ import annotations

import subprocess

import pytest

from runlab.errors import UsageError
from runlab.tasks import CallableTask, Command, CommandTask

RESERVED = {"_output": "/store/run 1", "_id": "7", "_name": "lr=0.1", "_sweep": "s", "_time": "t"}


def render(template: str, **config) -> str:
    return Command.parse("main", template).render(config, RESERVED)


def test_value_placeholders_are_shell_quoted():
    assert (
        render("train --lr {lr} --out {_output}", lr=0.1) == "train --lr 0.1 --out '/store/run 1'"
    )


@pytest.mark.parametrize(
    "value",
    [
        "a b",
        "it's",
        'say "hi"',
        "x; rm -rf /",
        "$(touch pwned)",
        "`id`",
        "line1\nline2",
        "héllo ✓",
        "",
    ],
)
def test_hostile_values_reach_the_program_literally(tmp_path, value):
    line = render("printf %s {v}", v=value)
    out = subprocess.run(["/bin/sh", "-c", line], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout == value
    assert list(tmp_path.iterdir()) == []


def test_flag_placeholders():
    t = "train [early-stop] [moment] [tag]"
    assert (
        render(t, **{"early-stop": True, "moment": 0.1, "tag": None})
        == "train --early-stop --moment 0.1 "
    )
    assert (
        render(t, **{"early-stop": False, "moment": "a b", "tag": "x"})
        == "train  --moment 'a b' --tag x"
    )


def test_escapes_and_shell_variables_are_left_alone():
    assert render("echo {{x}} ${HOME} {x}", x=1) == "echo {x} ${HOME} 1"


def test_lists_render_as_json():
    assert render("train --layers {layers}", layers=[64, 64]) == "train --layers '[64, 64]'"


def test_a_param_used_both_ways_is_refused():
    with pytest.raises(
        UsageError, match=r"params.yaml:3: command 'train' uses 'lr' both as \{lr\} and \[lr\]"
    ):
        Command.parse("train", "t {lr} [lr]", where="params.yaml:3: ")


def test_a_placeholder_without_value_is_named():
    task = CommandTask.from_templates({"train": "t {lr} [fast]", "test": "e {_output} {ckpt}"})
    assert task.params == ("lr", "fast", "ckpt")
    with pytest.raises(UsageError, match=r"command 'test': placeholder \{ckpt\} has no value"):
        task.check(["lr", "fast"])
    with pytest.raises(UsageError, match=r"command 'train': placeholder \[fast\] has no value"):
        task.check(["lr", "ckpt"])
    task.check(["lr", "fast", "ckpt"])


def test_named_commands_render_in_order():
    task = CommandTask.from_templates({"train": "t {x}", "avg": "a {_output}"})
    assert task.render({"x": 2}, RESERVED) == [("train", "t 2"), ("avg", "a '/store/run 1'")]
    assert CommandTask.from_templates("run {x}").render({"x": 1}, RESERVED) == [("main", "run 1")]


def test_empty_and_malformed_templates():
    with pytest.raises(UsageError, match="command 'a' is empty"):
        CommandTask.from_templates({"a": " "})
    with pytest.raises(UsageError, match="template must be"):
        CommandTask.from_templates(["x"])
    with pytest.raises(UsageError, match=r"\[_output\] is reserved"):
        Command.parse("a", "x [_output]")


def test_callable_task_loads_from_module_and_file(tmp_path):
    (tmp_path / "mytask.py").write_text("def fit(config, run):\n    return {'acc': config['x']}\n")
    fn = CallableTask(f"{tmp_path / 'mytask.py'}:fit").load()
    assert fn({"x": 3}, None) == {"acc": 3}
    assert CallableTask("json:dumps").load()([1]) == "[1]"
    with pytest.raises(UsageError, match="has no function 'nope'"):
        CallableTask("json:nope").load()
    with pytest.raises(UsageError, match="no module named 'no_such_module_xyz'"):
        CallableTask("no_such_module_xyz:f").load()
    with pytest.raises(UsageError, match=r"no such file missing\.py"):
        CallableTask("missing.py:f").load()
    with pytest.raises(UsageError, match="write module:function"):
        CallableTask("justaname").load()
