"""The plan as JSON text and as text columns, and the plan of many configs."""

from __future__ import annotations

import json

import pytest

from runlab.design import Grid, Point
from runlab.launch.plan import PlanState, make_plan
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask

TASK = CommandTask.from_templates({"train": "train {lr} --name {tag}", "test": "echo [fast]"})


@pytest.fixture
def store(tmp_path):
    return Store.at(tmp_path / "runs")


def test_each_run_as_json_text_is_json_dumps_of_its_json(store):
    from runlab.launch.plan import json_lines

    design = Grid(lr=[0.1, 1e-3], tag=["a b", "é'\"", None], fast=[True, False])
    plan = make_plan(store, design.expand("s").configs, TASK, sweep="s", launch_time="t")
    for entry in plan.entries:
        assert json_lines([entry]) == [json.dumps(entry.to_json(), default=str)]
    other = make_plan(store, Point(x=1).expand("p").configs, CallableTask("m:f"), sweep="p")
    assert json_lines(other.entries) == [json.dumps(other.entries[0].to_json(), default=str)]


def test_plan_keys_come_from_the_expansion_and_match_run_key(store):
    from runlab.launch.plan import run_key

    expansion = Grid(lr=[0.1, 0.2], tag=["x"], fast=[True]).expand("s")
    plan = make_plan(store, expansion.configs, TASK, sweep="s")
    assert [e.key for e in plan.entries] == [run_key(c.params, TASK) for c in expansion]


def test_a_large_grid_plans_every_config_once(store):
    expansion = Grid(a=list(range(200)), b=list(range(50))).expand("big")
    task = CommandTask.from_templates("true {a} {b}")
    plan = make_plan(store, expansion.configs, task, sweep="big", launch_time="t")
    assert plan.counts()[PlanState.NEW.value] == 10_000
    assert len({e.key for e in plan.entries}) == 10_000
    assert len({e.run_id for e in plan.entries}) == 10_000
    last = plan.entries[-1]
    assert (last.run_id, last.commands) == ("a=199,b=49", (("main", "true 199 49"),))


def test_cli_plan_json_and_text(tmp_path):
    from click.testing import CliRunner

    from runlab.cli import cli

    (tmp_path / "s.yaml").write_text(
        'name: demo\ntemplate:\n  train: "echo train {x}"\n  test: "echo test {x}"\n---\n'
        "x: [1, 22]\n"
    )
    runner = CliRunner()
    store = str(tmp_path / "runs")
    out = runner.invoke(cli, ["plan", str(tmp_path / "s.yaml"), "--store", store, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["sweep"] == "demo" and data["counts"]["new"] == 2
    assert [r["run_id"] for r in data["runs"]] == ["x=1", "x=22"]
    assert data["runs"][1]["commands"] == [
        {"name": "train", "command": "echo train 22"},
        {"name": "test", "command": "echo test 22"},
    ]
    assert len(out.output.splitlines()) == 4  # the head line, one line a run, the end
    text = runner.invoke(cli, ["plan", str(tmp_path / "s.yaml"), "--store", store])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines() == [
        "sweep demo",
        "#  state  run   commands",
        "0  new    x=1   train: echo train 1",
        "                test: echo test 1",
        "1  new    x=22  train: echo train 22",
        "                test: echo test 22",
        "2 new",
    ]


def test_the_runlab_command_prints_a_large_plan_whole_and_exits_0(tmp_path):
    """`runlab plan` of 10,000 configs leaves without tearing down: its output is complete."""
    import subprocess
    import sys

    sweep = tmp_path / "big.yaml"
    sweep.write_text(
        f'template: "true {{a}} {{b}}"\n---\na: {list(range(100))}\nb: {list(range(100))}\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "runlab", "plan", str(sweep), "--json", "--store", "runs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert (len(plan["runs"]), plan["counts"]["new"]) == (10_000, 10_000)
    assert plan["runs"][-1]["commands"][0]["command"] == "true 99 99"
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def _finish(store, plan, statuses):
    """Leave runs of ``plan`` in the store as a launcher would: completed, failed, ..."""
    import time

    from runlab.launch.runfolder import Outcome, close_attempt, open_attempt
    from runlab.record.status import RunStatus

    for entry, status in zip(plan.entries, statuses, strict=False):
        run_dir, record = open_attempt(
            store.layout,
            entry.run_id,
            entry.config.params,
            key=entry.key,
            name=entry.config.name,
            sweep=plan.sweep,
            command=[line for _, line in entry.commands],
        )
        code = 0 if status is RunStatus.COMPLETED else 1
        close_attempt(store.layout, run_dir, record, Outcome(status, code), time.time())
    store.close()


@pytest.mark.parametrize(
    "design,task",
    [
        (Grid(a=list(range(12)), b=["x", "y z", "é"]), CommandTask.from_templates("true {a} {b}")),
        (Grid(lr=[0.1, 1e-3, -0.0], tag=[None, "q"], fast=[True, False]), TASK),
        (Grid(a=[1, 2]) + Grid(b=[3], a=[4]) + Point(c=[1, {"k": 2}]), CallableTask("m:f")),
        (Grid(n=[1, 2, 3]), CommandTask.from_templates("echo {_output} {_id} {_name} {n}")),
        (Point(), None),
    ],
)
def test_json_lines_are_each_entrys_json_text(store, design, task):
    from runlab.launch.plan import json_lines
    from runlab.record.status import RunStatus

    configs = design.expand("s").configs
    first = make_plan(store, configs, task, sweep="s", launch_time="t")
    _finish(store, first, [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.COMPLETED])
    plan = make_plan(store, configs, task, sweep="s", launch_time="t")
    assert json_lines(plan.entries) == [json.dumps(e.to_json(), default=str) for e in plan.entries]
    for line, entry in zip(json_lines(plan.entries), plan.entries, strict=True):
        assert json.loads(line) == json.loads(json.dumps(entry.to_json(), default=str))
    assert json_lines(()) == []


def test_configs_and_planned_runs_stay_frozen_values(store):
    import copy
    import dataclasses

    config = Grid(x=[1, 2]).expand("s").configs[1]
    entry = make_plan(store, (config,), CallableTask("m:f"), sweep="s").entries[0]
    for value in (config, entry):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.key = "x"  # type: ignore[misc]
        assert copy.copy(value) == value
    assert dataclasses.replace(config, name="y").name == "y"
    assert dataclasses.replace(config, name="y").canonical == config.canonical
    moved = dataclasses.replace(entry, run_id="other")
    assert (moved.run_id, moved.key, moved.steps) == ("other", entry.key, entry.steps)
    assert repr(config) == "Config(params=mappingproxy({'x': 2}), name='x=2', " + (
        f"hash={config.hash!r}, index=1)"
    )
