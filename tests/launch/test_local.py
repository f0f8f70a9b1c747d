"""The local launcher with real processes: slots, failures, re-runs, timeouts, signals."""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from runlab.design import Grid
from runlab.launch.local import LocalLauncher, command_argv
from runlab.launch.plan import PlanState, make_plan
from runlab.launch.slots import make_slots
from runlab.record.files import read_json
from runlab.record.reader import RunReader
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def launch(store, design, task, *, sweep="s", slots=None, force=False, **options):
    expansion = design.expand(sweep)
    plan = make_plan(store, expansion.configs, task, sweep=sweep, force=force)
    launcher = LocalLauncher(store, slots or make_slots(workers=2), force=force, **options)
    return plan, launcher.launch(plan, sweep=sweep)


def status_of(store, run_id):
    return read_json(store.root / run_id / "run.json")


@pytest.fixture
def store(tmp_path):
    return Store.at(tmp_path / "runs")


def test_commands_run_in_order_with_their_own_logs_and_slot_devices(store, tmp_path):
    task = CommandTask.from_templates(
        {"train": "echo train {x} gpu=$CUDA_VISIBLE_DEVICES", "test": "echo test {x} {_name}"}
    )
    plan, result = launch(store, Grid(x=[1, 2, 3, 4]), task, slots=make_slots(["0", "1,2"]))
    assert result.failed == [] and len(result.outcomes) == 4
    for entry in plan.entries:
        logs = store.root / entry.run_id / "logs"
        train = (logs / "train.log").read_text()
        assert train.startswith(f"train {entry.params['x']} gpu=")
        assert train.split("gpu=")[1].strip() in ("0", "1,2")
        assert (logs / "test.log").read_text() == f"test {entry.params['x']} {entry.config.name}\n"
        record = status_of(store, entry.run_id)
        assert (
            record["status"] == "completed"
            and record["sweep"] == "s"
            and record["key"] == entry.key
        )
        assert (
            json.loads((store.root / entry.run_id / "reports" / "1.json").read_text())["final"]
            is True
        )


def test_two_running_tasks_never_share_a_slot(store, tmp_path):
    locks = tmp_path / "locks"
    locks.mkdir()
    task = CommandTask.from_templates(
        f"mkdir {locks}/slot-$RUNLAB_SLOT && sleep 0.05 && rmdir {locks}/slot-$RUNLAB_SLOT"
    )
    _, result = launch(store, Grid(x=list(range(12))), task, slots=make_slots(workers=3))
    assert result.failed == []


def test_a_failing_command_stops_its_run_and_the_others_go_on(store):
    task = CommandTask.from_templates({"train": "sh -c 'exit {code}'", "test": "echo tested"})
    plan, result = launch(store, Grid(code=[0, 3]), task)
    failed = next(e for e in plan.entries if e.params["code"] == 3)
    record = status_of(store, failed.run_id)
    assert (record["status"], record["exit_code"], record["error"]) == (
        "failed",
        3,
        "command 'train' exited with 3",
    )
    assert not (store.root / failed.run_id / "logs" / "test.log").exists()
    assert result.failed == [failed.run_id]


def test_a_task_killed_with_sigkill_fails_alone(store, tmp_path):
    (tmp_path / "task.sh").write_text('if [ "$1" = 1 ]; then kill -9 $$; fi; echo ok\n')
    task = CommandTask.from_templates(f"sh {tmp_path}/task.sh {{x}}")
    plan, _result = launch(store, Grid(x=[0, 1, 2]), task)
    statuses = {e.params["x"]: status_of(store, e.run_id) for e in plan.entries}
    assert statuses[1]["status"] == "failed" and statuses[1]["exit_code"] == 137
    assert "SIGKILL" in statuses[1]["error"]
    assert statuses[0]["status"] == statuses[2]["status"] == "completed"


def test_rerun_skips_done_reruns_failed_in_place_and_runs_new_cells(store, tmp_path):
    flag = tmp_path / "fixed"
    task = CommandTask.from_templates(f"sh -c 'echo attempt; [ {{x}} != 2 ] || [ -e {flag} ]'")
    plan, _ = launch(store, Grid(x=[1, 2]), task)
    failed = next(e for e in plan.entries if e.params["x"] == 2)
    assert status_of(store, failed.run_id)["status"] == "failed"
    flag.touch()
    plan, result = launch(store, Grid(x=[1, 2, 3]), task)
    assert [e.state for e in plan.entries] == [PlanState.DONE, PlanState.RERUN, PlanState.NEW]
    assert sorted(result.outcomes) == sorted([failed.run_id, plan.entries[2].run_id])
    record = status_of(store, failed.run_id)
    assert (record["status"], record["attempt"]) == ("completed", 2)
    assert (
        store.root / failed.run_id / "logs" / "attempt-1" / "main.log"
    ).read_text() == "attempt\n"
    assert (store.root / failed.run_id / "reports" / "1.json").exists()
    assert sorted(p.name for p in store.root.iterdir() if not p.name.startswith(".")) == sorted(
        ["index.db", *(e.run_id for e in plan.entries)]
    )
    plan, result = launch(store, Grid(x=[1, 2, 3]), task)
    assert result.outcomes == {} and {e.state for e in plan.entries} == {PlanState.DONE}
    plan, result = launch(store, Grid(x=[1, 2, 3]), task, force=True)
    assert {e.state for e in plan.entries} == {PlanState.FORCED} and len(result.outcomes) == 3


def test_a_config_whose_defaults_changed_is_a_new_config(store):
    task = CommandTask.from_templates("echo {x} {depth}")
    launch(store, Grid(x=[1, 2], defaults={"depth": 3}), task)
    plan, result = launch(store, Grid(x=[1, 2], defaults={"depth": 4}), task)
    assert [e.state for e in plan.entries] == [PlanState.CHANGED, PlanState.CHANGED]
    assert all(e.run_id.startswith(e.config.name + "-") for e in plan.entries)
    assert len(result.outcomes) == 2 and result.failed == []


def test_timeout_fails_the_run_and_kills_its_tree(store, tmp_path):
    pidfile = tmp_path / "child.pid"
    task = CommandTask.from_templates(f"sh -c 'sleep 300 & echo $! > {pidfile}; wait'")
    plan, _result = launch(store, Grid(x=[1]), task, timeout=0.5, grace=1.0)
    record = status_of(store, plan.entries[0].run_id)
    assert (record["status"], record["exit_code"]) == ("failed", 124)
    assert record["error"] == "command 'main' timed out after 0.5s"
    _wait_gone(int(pidfile.read_text()))


def test_retries_rerun_a_failed_run(store, tmp_path):
    counter = tmp_path / "n"
    task = CommandTask.from_templates(
        f"sh -c 'echo x >> {counter}; [ $(wc -l < {counter}) -ge 3 ]'"
    )
    plan, _result = launch(store, Grid(x=[1]), task, retries=2)
    record = status_of(store, plan.entries[0].run_id)
    assert (record["status"], record["attempt"]) == ("completed", 3)
    assert sorted(p.name for p in (store.root / plan.entries[0].run_id / "reports").iterdir()) == [
        "1.json",
        "2.json",
        "3.json",
    ]


def test_python_tasks_run_in_slot_workers_with_their_own_output(store, tmp_path, monkeypatch):
    (tmp_path / "mytasks.py").write_text(
        textwrap.dedent("""
        import os
        import runlab
        def fit(config, run):
            print("fitting", config["x"], "on", os.environ.get("CUDA_VISIBLE_DEVICES"))
            os.system("echo from a child process")
            runlab.current().log(loss=0.5)
            if config["x"] == 2:
                raise ValueError("x=2 diverged")
            return {"acc": config["x"] / 10}
    """)
    )
    monkeypatch.chdir(tmp_path)
    task = CallableTask("mytasks:fit")
    plan, _result = launch(store, Grid(x=[1, 2, 3]), task, slots=make_slots(["0", "1"]))
    readers = {e.params["x"]: RunReader(store.root / e.run_id) for e in plan.entries}
    assert readers[1].summary == {"acc": 0.1, "loss": 0.5}
    assert readers[1].stdout.splitlines()[0].startswith("fitting 1 on ")
    assert "from a child process" in readers[3].stdout
    assert "fitting 2" not in readers[1].stdout
    assert readers[2].status.value == "failed"
    assert readers[2].record["error"] == "ValueError: x=2 diverged"
    assert "Traceback" in readers[2].error
    assert list(readers[1].metrics()["loss"]) == [0.5]


LAUNCH_SCRIPT = """
import sys
from runlab.design import Grid
from runlab.launch.local import LocalLauncher
from runlab.launch.plan import make_plan
from runlab.launch.slots import make_slots
from runlab.store import Store
from runlab.tasks import CommandTask
import signal

store = Store.at(sys.argv[1])
task = CommandTask.from_templates(sys.argv[2])
design = Grid(x=list(range(6)))
plan = make_plan(store, design.expand("s").configs, task, sweep="s")
launcher = LocalLauncher(store, make_slots(workers=2), grace=2.0)
signal.signal(signal.SIGTERM, lambda *a: launcher.cancel())
result = launcher.launch(plan, sweep="s")
print("done", len(result.outcomes), result.interrupted, flush=True)
"""


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"process {pid} survived")


def _wait_for(predicate, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("condition not reached")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_launcher_stopped_mid_sweep_then_run_again_completes_each_config_once(tmp_path, sig):
    store_root = tmp_path / "runs"
    pids = tmp_path / "pids"
    pids.mkdir()
    gate = tmp_path / "go"
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH_SCRIPT)
    wait = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    command = f"sh -c 'echo $$ > {pids}/{{x}}; {wait}; echo finished {{x}}'"
    argv = [sys.executable, str(script), str(store_root), command]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(list(pids.iterdir())) >= 2)
        started = {int(p.read_text()) for p in pids.iterdir()}
        proc.send_signal(sig)
        proc.wait(timeout=60)
        if sig == signal.SIGTERM:
            for pid in started:
                _wait_gone(pid)  # no orphan survives
        statuses = {
            d.name: RunReader(d).status.value
            for d in store_root.iterdir()
            if (d / "run.json").exists()
        }
        expected = "interrupted" if sig == signal.SIGTERM else "lost"
        assert sorted(statuses.values()) == [expected, expected]
    finally:
        gate.touch()  # leftover commands end, whatever was asserted
    rerun = subprocess.run(
        [sys.executable, str(script), str(store_root), command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.stdout.strip() == "done 6 False"
    for pid in started:
        _wait_gone(pid)  # a SIGKILLed launcher's leftover trees are ended by the next one
    runs = [RunReader(d) for d in store_root.iterdir() if (d / "run.json").exists()]
    assert len(runs) == 6
    assert sorted(r.status.value for r in runs) == ["completed"] * 6
    assert sorted(r.record["attempt"] for r in runs) == [1, 1, 1, 1, 2, 2]


def test_command_argv_uses_a_shell_only_when_needed():
    assert command_argv("python train.py --lr 0.1") == ["python", "train.py", "--lr", "0.1"]
    assert command_argv("python train.py --name 'a b'") == [
        "/bin/sh",
        "-c",
        "python train.py --name 'a b'",
    ]
    assert command_argv("a && b") == ["/bin/sh", "-c", "a && b"]


def test_a_command_without_shell_syntax_splits_as_shlex_does():
    rng = random.Random(1)
    chars = "ab 1\t\r-_.,/:+\u00a0\x0b\x0c\u00e9"
    for _ in range(2000):
        line = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
        assert command_argv(line) == shlex.split(line), repr(line)


def test_two_launchers_never_run_one_config_at_once(tmp_path):
    store_root = tmp_path / "runs"
    hits = tmp_path / "hits"
    hits.mkdir()
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH_SCRIPT)
    command = f"sh -c 'mkdir {hits}/{{x}} && sleep 0.2'"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(store_root), command],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    ran = sum(int(o.split()[1]) for o in outs)
    assert ran == 6, outs
    assert sorted(p.name for p in hits.iterdir()) == [str(i) for i in range(6)]
    assert [
        RunReader(d).status.value for d in store_root.iterdir() if (d / "run.json").exists()
    ] == ["completed"] * 6


def test_many_commands_that_cannot_start_each_fail_in_turn(store):
    # Each run ends as it opens; the loop takes the next in turn, never by nesting calls
    # (a call per run, five frames deep, would pass Python's recursion limit by run 200).
    task = CommandTask.from_templates("runlab-no-such-program {x}")
    plan, result = launch(store, Grid(x=list(range(300))), task, slots=make_slots(workers=1))
    assert len(result.failed) == 300
    record = status_of(store, plan.entries[-1].run_id)
    assert (record["status"], record["exit_code"]) == ("failed", 127)
    assert "cannot start runlab-no-such-program" in record["error"]


def test_without_pidfds_the_loop_polls_and_still_times_out(store, tmp_path, monkeypatch):
    def no_pidfd(pid):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    before = signal.getsignal(signal.SIGCHLD)
    task = CommandTask.from_templates("sh -c 'sleep {s}; echo slept {s}'")
    plan, _result = launch(store, Grid(s=[0, 0.1, 30]), task, timeout=1.0, grace=1.0)
    by_s = {e.params["s"]: status_of(store, e.run_id) for e in plan.entries}
    assert by_s[0]["status"] == by_s[0.1]["status"] == "completed"
    assert (by_s[30]["status"], by_s[30]["exit_code"]) == ("failed", 124)
    assert (store.root / plan.entries[1].run_id / "logs" / "main.log").read_text() == "slept 0.1\n"
    assert signal.getsignal(signal.SIGCHLD) is before  # SIGCHLD woke the loop, then let go


def test_without_pidfds_a_launch_in_another_thread_polls(store, monkeypatch):
    import threading

    def no_pidfd(pid):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    task = CommandTask.from_templates("sh -c 'echo ran {x}'")
    results = []
    thread = threading.Thread(
        target=lambda: results.append(launch(store, Grid(x=[1, 2, 3]), task)), daemon=True
    )
    thread.start()
    thread.join(60)
    plan, result = results[0]
    assert result.failed == [] and len(result.outcomes) == 3
    assert [status_of(store, e.run_id)["status"] for e in plan.entries] == ["completed"] * 3


def test_cancel_from_another_thread_interrupts_the_running_runs_only(store, tmp_path):
    import threading

    started = threading.Event()
    count = []

    def on_event(event):
        if event.kind == "start":
            count.append(event)
            if len(count) == 2:
                started.set()

    task = CommandTask.from_templates("sleep 30")
    plan = make_plan(store, Grid(x=list(range(5))).expand("s").configs, task, sweep="s")
    launcher = LocalLauncher(store, make_slots(workers=2), grace=2.0, on_event=on_event)
    threading.Thread(target=lambda: started.wait(30) and launcher.cancel(), daemon=True).start()
    result = launcher.launch(plan, sweep="s")
    assert result.interrupted
    assert sorted(o.status.value for o in result.outcomes.values()) == ["interrupted"] * 2
    folders = [d for d in store.root.iterdir() if (d / "run.json").exists()]
    assert len(folders) == 2  # the three runs not started are left for the next launch


def test_a_failing_launcher_ends_every_tree_it_started(store, tmp_path):
    pidfile = tmp_path / "pid"

    def on_event(event):
        if event.kind == "finish":  # run 2 ended while run 1 sleeps: now fail
            _wait_for(pidfile.exists)
            raise RuntimeError("progress display broke")

    script = f"if [ {{x}} = 1 ]; then echo $$ > {pidfile}; exec sleep 60; fi"
    task = CommandTask.from_templates(f"sh -c '{script}'")
    plan = make_plan(store, Grid(x=[1, 2]).expand("s").configs, task, sweep="s")
    launcher = LocalLauncher(store, make_slots(workers=2), on_event=on_event)
    with pytest.raises(RuntimeError, match="progress display broke"):
        launcher.launch(plan, sweep="s")
    _wait_gone(int(pidfile.read_text()))


def test_a_launcher_leaves_no_file_descriptor_open_once_it_is_gone(store):
    import gc

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    task = CommandTask.from_templates("true {x}")
    plan = make_plan(store, Grid(x=[1, 2, 3]).expand("s").configs, task, sweep="s")
    before = open_fds()
    launcher = LocalLauncher(store, make_slots(workers=2))
    assert launcher.launch(plan, sweep="s").failed == []
    del launcher
    gc.collect()
    assert open_fds() == before
