"""Named commands are steps of one run: identity, plan states, run.json steps, retries, logs.

The launcher runs real ``sh`` commands in run folders under ``tmp_path``; the plan reads
the real SQLite index. The mlrunner workflow end to end (``runlab run -c``) is in
``tests/compat/test_mlrunner_run.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runlab.design import Grid, Point
from runlab.design.sweep import Sweep
from runlab.launch.local import LocalLauncher
from runlab.launch.plan import PlanState, make_plan, run_key
from runlab.launch.slots import make_slots
from runlab.launch.steps import carried_commands, completed_steps, pending_steps
from runlab.record.files import atomic_write_json, read_json
from runlab.record.layout import RunDir
from runlab.record.logs import command_logs
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.at(tmp_path / "runs")


def template(tmp_path: Path) -> CommandTask:
    """train counts its runs and writes a checkpoint; test needs the checkpoint."""
    count = tmp_path / "count"
    return CommandTask.from_templates(
        {
            "train": f"echo {{x}} >> {count}-train && echo ckpt-{{x}} > {{_output}}/ckpt",
            "test": f"echo {{x}} >> {count}-test && cat {{_output}}/ckpt",
        }
    )


def launch(
    store: Store, task: Any, *, xs: tuple[int, ...] = (1,), force: bool = False, retries: int = 0
) -> Any:
    plan = make_plan(store, Grid(x=list(xs)).expand("s").configs, task, sweep="s", force=force)
    launcher = LocalLauncher(store, make_slots(workers=1), force=force, retries=retries)
    return plan, launcher.launch(plan, sweep="s")


def record_of(store: Store, run_id: str) -> dict[str, Any]:
    return dict(read_json(store.root / run_id / "run.json"))


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# -- identity ----------------------------------------------------------------------------------


def test_selection_never_changes_the_identity_of_a_run(tmp_path: Path) -> None:
    task = template(tmp_path)
    params = {"x": 1}
    keys = {run_key(params, t) for t in (task, task.select(["train"]), task.select(["test"]))}
    assert len(keys) == 1
    assert task.select(["test", "train"]) == task  # every command is no selection
    assert [c.name for c in task.select(["test"]).steps] == ["test"]
    assert task.select(["test"]).names == ("train", "test")
    other = CommandTask.from_templates({"train": "echo {x}", "test": "echo other"})
    assert run_key(params, other) not in keys  # another template is another run


def test_callable_tasks_keep_their_identity() -> None:
    task = CallableTask("train:main")
    assert task.identity() == "callable=train:main"
    assert run_key({"x": 1}, task) == run_key({"x": 1}, CallableTask("train:main"))


def test_sweep_documents_select_commands_of_one_template(tmp_path: Path) -> None:
    task = template(tmp_path)
    sweep = Sweep("s", Point(x=1), task=task).with_commands(["test"])
    (config,) = sweep.expand()
    picked = sweep.task_for(config)
    assert isinstance(picked, CommandTask)
    assert picked.identity() == task.identity() and [c.name for c in picked.steps] == ["test"]


# -- steps in run.json -------------------------------------------------------------------------


def test_steps_of_a_record() -> None:
    names = ("train", "test")
    record = {
        "key": "k",
        "status": "failed",
        "attempt": 2,
        "commands": {
            "train": {"status": "completed", "exit_code": 0, "attempt": 1},
            "test": {"status": "failed", "exit_code": 2, "attempt": 2},
        },
    }
    assert completed_steps(record, names, key="k") == {"train"}
    assert completed_steps(record, names, key="other") == frozenset()
    assert pending_steps(names, frozenset({"train"}), force=False) == ("test",)
    assert pending_steps(names, frozenset({"train"}), force=True) == names
    # a run recorded before steps were: completed means every command completed
    old = {"key": "k", "status": "completed", "attempt": 3}
    assert completed_steps(old, names, key="k") == frozenset(names)
    assert carried_commands(old, names, key="k") == {
        n: {"status": "completed", "exit_code": 0, "attempt": 3} for n in names
    }
    assert completed_steps({**old, "status": "failed"}, names) == frozenset()
    assert carried_commands({**old, "status": "failed"}, names, key="k") == {}


def test_one_step_then_the_other_in_one_folder(store: Store, tmp_path: Path) -> None:
    task = template(tmp_path)
    plan, result = launch(store, task.select(["train"]))
    (run_id,) = result.outcomes
    assert record_of(store, run_id)["commands"] == {
        "train": {"status": "completed", "exit_code": 0, "attempt": 1}
    }
    plan, result = launch(store, task.select(["test"]))
    (entry,) = plan.entries
    assert (entry.state, entry.steps, entry.run_id) == (PlanState.PARTIAL, ("test",), run_id)
    assert result.outcomes[run_id].status is RunStatus.COMPLETED
    assert lines(store.root / run_id / "logs" / "test.log") == ["ckpt-1"]
    record = record_of(store, run_id)
    assert (record["status"], record["attempt"], record["steps"]) == ("completed", 2, ["test"])
    assert list(record["commands"]) == ["train", "test"]
    plan, result = launch(store, task)
    assert plan.entries[0].state is PlanState.DONE and result.outcomes == {}
    assert lines(tmp_path / "count-train") == ["1"]


def test_a_run_recorded_before_steps_counts_as_every_command_completed(
    store: Store, tmp_path: Path
) -> None:
    task = template(tmp_path)
    _, result = launch(store, task)
    (run_id,) = result.outcomes
    path = store.root / run_id / "run.json"
    old = {k: v for k, v in read_json(path).items() if k not in ("commands", "steps")}
    atomic_write_json(path, old)
    plan, result = launch(store, task.select(["test"]))
    assert plan.entries[0].state is PlanState.DONE and result.outcomes == {}
    plan, result = launch(store, task.select(["test"]), force=True)
    assert plan.entries[0].steps == ("test",)
    commands = record_of(store, run_id)["commands"]
    assert commands["train"] == {"status": "completed", "exit_code": 0, "attempt": 1}
    assert commands["test"] == {"status": "completed", "exit_code": 0, "attempt": 2}
    assert lines(tmp_path / "count-train") == ["1"]


def test_a_retry_continues_from_the_failed_command(store: Store, tmp_path: Path) -> None:
    tries = tmp_path / "tries"
    task = CommandTask.from_templates(
        {
            "train": f"echo train >> {tmp_path}/count-train",
            # fails the first time it runs, succeeds the second
            "test": f"echo try >> {tries} && [ $(wc -l < {tries}) -ge 2 ]",
        }
    )
    _, result = launch(store, task, retries=1)
    (run_id,) = result.outcomes
    assert result.outcomes[run_id].status is RunStatus.COMPLETED
    assert lines(tmp_path / "count-train") == ["train"]
    record = record_of(store, run_id)
    assert record["attempt"] == 2 and record["steps"] == ["test"]
    assert record["commands"]["test"] == {"status": "completed", "exit_code": 0, "attempt": 2}


def test_force_with_retries_does_not_run_completed_commands_again(
    store: Store, tmp_path: Path
) -> None:
    tries = tmp_path / "tries"
    task = CommandTask.from_templates(
        {
            "train": f"echo train >> {tmp_path}/count-train",
            "test": f"echo try >> {tries} && [ $(wc -l < {tries}) -ne 2 ]",
        }
    )
    launch(store, task)  # completes: test's first try passes
    _, result = launch(store, task, force=True, retries=1)  # test fails once, then passes
    (outcome,) = result.outcomes.values()
    assert outcome.status is RunStatus.COMPLETED
    assert lines(tmp_path / "count-train") == ["train", "train"]  # forced once, not retried
    assert lines(tries) == ["try"] * 3


def test_a_failing_command_is_recorded_with_its_exit_code(store: Store, tmp_path: Path) -> None:
    task = CommandTask.from_templates({"train": "true", "test": "sh -c 'exit 5'"})
    _, result = launch(store, task)
    (run_id,) = result.outcomes
    record = record_of(store, run_id)
    assert record["commands"] == {
        "train": {"status": "completed", "exit_code": 0, "attempt": 1},
        "test": {"status": "failed", "exit_code": 5, "attempt": 1},
    }
    assert (record["status"], record["exit_code"]) == ("failed", 5)


def test_python_tasks_record_no_steps(store: Store, tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "steptask.py").write_text("def main(config, run):\n    return {'y': config['x']}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    plan, result = launch(store, CallableTask("steptask:main"))
    (entry,) = plan.entries
    assert entry.steps == () and entry.commands == ()
    record = record_of(store, entry.run_id)
    assert record["status"] == "completed" and "commands" not in record and "steps" not in record
    plan, result = launch(store, CallableTask("steptask:main"))
    assert plan.entries[0].state is PlanState.DONE and result.outcomes == {}


# -- logs ---------------------------------------------------------------------------------------


def test_command_logs_come_in_template_order_not_file_time_order(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "run")
    (run_dir.path / "logs").mkdir(parents=True)
    for name, mtime in (("train", 300), ("avg", 200), ("test", 100), ("extra", 50)):
        path = run_dir.path / "logs" / f"{name}.log"
        path.write_text(name)
        os.utime(path, (mtime, mtime))
    steps = {
        "train": {"status": "completed", "exit_code": 0, "attempt": 2},
        "avg": {"status": "completed", "exit_code": 0, "attempt": 2},
        "test": {"status": "completed", "exit_code": 0, "attempt": 1},
    }
    (run_dir.path / "run.json").write_text(json.dumps({"commands": steps}))
    assert [p.stem for p in command_logs(run_dir)] == ["train", "avg", "test", "extra"]
    (run_dir.path / "run.json").write_text(json.dumps({"status": "completed"}))
    assert [p.stem for p in command_logs(run_dir)] == ["extra", "test", "avg", "train"]


def test_a_killed_launcher_leaves_completed_commands_completed(tmp_path: Path) -> None:
    gate, started = tmp_path / "go", tmp_path / "started"
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    (tmp_path / "s.yaml").write_text(
        "template:\n"
        f"  train: echo train >> {tmp_path}/count-train\n"
        f'  test: "touch {started}; {wait}; echo tested"\n'
        "---\n"
        "x: [1]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    argv = [sys.executable, "-m", "runlab", "run", "s.yaml"]
    launcher = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while not started.exists() and time.monotonic() < end and launcher.poll() is None:
            time.sleep(0.05)
        assert started.exists()
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=60)
        (run_json,) = (tmp_path / "runs").glob("*/run.json")
        assert read_json(run_json)["commands"] == {
            "train": {"status": "completed", "exit_code": 0, "attempt": 1},
            "test": {"status": "running", "exit_code": None, "attempt": 1},
        }
    finally:
        gate.touch()  # the orphaned command ends, whatever was asserted
    again = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert lines(tmp_path / "count-train") == ["train"]  # not run again
    record = read_json(run_json)
    assert (record["status"], record["attempt"], record["steps"]) == ("completed", 2, ["test"])
