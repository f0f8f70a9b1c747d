"""`runlab plan`, `runlab run` and `runlab status` through the real command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

MLRUNNER = """\
---
template:
  train: >
    echo train {data} norm={norm} moment={moment} [early-stop]
  test: echo BLEU4 = 27.1
default:
  data: iwslt14
  norm: batch
  moment: 0.1
  early-stop: False
resource: [ 0, 1 ]
---
norm: [ new, batch ]
moment: [ 0.1, 0.05 ]
---
norm: [ batch ]
early-stop: [ True, False ]
"""


def runlab(cwd: Path, *args: str, input: str | None = None, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        env=env,
    )


def folders(store: Path) -> list[str]:
    if not store.exists():
        return []
    return sorted(p.name for p in store.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture
def project(tmp_path):
    (tmp_path / "params.yaml").write_text(MLRUNNER)
    return tmp_path


def test_plan_prints_every_config_and_writes_nothing(project):
    out = runlab(project, "plan", "params.yaml", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["counts"]["new"] == 5
    assert [r["state"] for r in plan["runs"]] == ["new"] * 5
    first = plan["runs"][0]
    assert first["commands"][0] == {
        "name": "train",
        "command": "echo train iwslt14 norm=new moment=0.1 ",
    }
    assert not (project / "runs").exists()
    dry = runlab(project, "run", "params.yaml", "--dry-run")
    assert dry.returncode == 0 and "5 new" in dry.stdout
    assert not (project / "runs").exists()


def test_run_then_run_again_skips_everything(project):
    out = runlab(project, "run", "params.yaml")
    assert out.returncode == 0, out.stderr
    store = project / "runs"
    assert len(folders(store)) == 5
    run = next(p for p in store.iterdir() if p.name.startswith("early-stop=True"))
    assert (run / "logs" / "train.log").read_text().strip() == (
        "train iwslt14 norm=batch moment=0.1 --early-stop"
    )
    assert (run / "logs" / "test.log").read_text() == "BLEU4 = 27.1\n"
    again = runlab(project, "run", "params.yaml")
    assert again.returncode == 0 and "5 configs already done" in again.stderr
    status = runlab(project, "status", "params", "--json")
    assert json.loads(status.stdout) == {"counts": {"completed": 5}, "lost": []}


def test_plan_names_the_commands_each_run_will_execute(project):
    one = ("norm=new", "moment=0.1")  # two configs: early-stop False and True
    assert runlab(project, "run", "params.yaml", *one, "-c", "train").returncode == 0
    out = runlab(project, "plan", "params.yaml", *one)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "sweep params\n"
        "#  state    run               commands\n"
        "0  partial  early-stop=False  test: echo BLEU4 = 27.1\n"
        "1  partial  early-stop=True   test: echo BLEU4 = 27.1\n"
        "2 partial, 4 dropped by the design\n"
    )
    data = json.loads(runlab(project, "plan", "params.yaml", *one, "--json").stdout)
    assert [(r["state"], r["steps"]) for r in data["runs"]] == [("partial", ["test"])] * 2
    assert [c["name"] for c in data["runs"][0]["commands"]] == ["train", "test"]
    assert runlab(project, "run", "params.yaml", *one).returncode == 0
    done = json.loads(runlab(project, "plan", "params.yaml", *one, "--json").stdout)
    assert [(r["state"], r["steps"]) for r in done["runs"]] == [("done", [])] * 2


def test_show_lists_each_commands_status(project):
    one = ("norm=new", "moment=0.1")
    assert runlab(project, "run", "params.yaml", *one, "-c", "train").returncode == 0
    assert runlab(project, "run", "params.yaml", *one, "-c", "test").returncode == 0
    run = "early-stop=False"
    shown = runlab(project, "show", run)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "commands\n  train  completed  exit 0  attempt 1\n" in text
    assert "  test   completed  exit 0  attempt 2\n" in text
    data = json.loads(runlab(project, "show", run, "--json").stdout)
    assert data["commands"] == {
        "train": {"status": "completed", "exit_code": 0, "attempt": 1},
        "test": {"status": "completed", "exit_code": 0, "attempt": 2},
    }
    logs = runlab(project, "logs", run)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.index("==> train <==") < logs.stdout.index("==> test <==")


def test_overrides_extend_the_design_and_run_only_new_cells(project):
    assert runlab(project, "run", "params.yaml").returncode == 0
    plan = json.loads(runlab(project, "plan", "params.yaml", "data=wmt,iwslt14", "--json").stdout)
    assert plan["counts"]["done"] == 5 and plan["counts"]["new"] == 5


def test_a_failed_run_exits_1_with_a_table_and_is_rerun(tmp_path):
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent("""\
        template: "sh -c 'test -e {flag}'"
        ---
        flag: [ok, missing]
    """)
    )
    (tmp_path / "ok").touch()
    out = runlab(tmp_path, "run", "s.yaml", "--workers", "2")
    assert out.returncode == 1
    assert "runs that did not complete" in out.stderr and "flag=missing" in out.stderr
    (tmp_path / "missing").touch()
    again = runlab(tmp_path, "run", "s.yaml")
    assert again.returncode == 0
    record = json.loads((tmp_path / "runs" / "flag=missing" / "run.json").read_text())
    assert (record["status"], record["attempt"]) == ("completed", 2)


def test_hostile_values_reach_the_program_literally(tmp_path):
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent("""\
        template: "printf %s {v} > {_output}/v.txt"
        ---
        v: ["a b", "x; touch pwned", "$(touch pwned)", "`touch pwned`", "it's", "héllo"]
    """)
    )
    out = runlab(tmp_path, "run", "s.yaml", "-w", "2")
    assert out.returncode == 0, out.stderr
    written = sorted(
        (tmp_path / "runs" / name / "v.txt").read_text() for name in folders(tmp_path / "runs")
    )
    assert written == sorted(
        ["a b", "x; touch pwned", "$(touch pwned)", "`touch pwned`", "it's", "héllo"]
    )
    assert not (tmp_path / "pwned").exists()
    for p in (tmp_path / "runs").iterdir():
        assert p.resolve().parent == (tmp_path / "runs").resolve()


@pytest.mark.parametrize(
    "text, message",
    [
        ("template: echo {x}\nwokers: 2\n---\nx: [1]\n", "s.yaml:2: unknown key 'wokers'"),
        ("template: echo {x} {y}\n---\nx: [1]\n", "placeholder {y} has no value"),
        ("template: echo {x}\n---\nx: [1\n", "s.yaml:4: invalid YAML"),
    ],
)
def test_a_bad_sweep_file_is_one_line_exit_2_and_leaves_no_folder(tmp_path, text, message):
    (tmp_path / "s.yaml").write_text(text)
    out = runlab(tmp_path, "run", "s.yaml")
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists()


def test_after_gets_the_runs_table_on_stdin(tmp_path):
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent("""\
        template: echo {x}
        after: cat > table.json
        ---
        x: [1, 2]
    """)
    )
    assert runlab(tmp_path, "run", "s.yaml").returncode == 0
    table = json.loads((tmp_path / "table.json").read_text())
    assert [(r["params"]["x"], r["status"]) for r in table] == [(1, "completed"), (2, "completed")]


def test_python_design_with_a_task(tmp_path):
    (tmp_path / "designs.py").write_text(
        "from runlab.design import Grid\ngrid = Grid(x=[1, 2, 3])\n"
    )
    (tmp_path / "tasks.py").write_text("def fit(config, run):\n    return {'y': config['x'] * 2}\n")
    out = runlab(tmp_path, "run", "designs.py:grid", "-x", "tasks:fit", "--only", "0,2")
    assert out.returncode == 0, out.stderr
    summaries = sorted(
        json.loads((tmp_path / "runs" / name / "summary.json").read_text())["y"]
        for name in folders(tmp_path / "runs")
    )
    assert summaries == [2, 6]


def test_ctrl_c_interrupts_runs_kills_their_trees_and_a_rerun_finishes(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "s.yaml").write_text(
        textwrap.dedent(f"""\
        template: "sh -c 'echo $$ > {pids}/{{x}}; until [ -e {tmp_path}/go ]; do sleep 0.05; done'"
        ---
        x: [1, 2, 3, 4]
    """)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runlab", "run", "s.yaml", "-w", "2", "--grace", "2s"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    end = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    children = [int(p.read_text()) for p in pids.iterdir()]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    for pid in children:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"orphan {pid} survived")
    status = json.loads(runlab(tmp_path, "status", "--json").stdout)
    assert status["counts"] == {"interrupted": 2}
    (tmp_path / "go").touch()
    assert runlab(tmp_path, "run", "s.yaml", "-w", "2").returncode == 0
    assert json.loads(runlab(tmp_path, "status", "--json").stdout)["counts"] == {"completed": 4}


def test_python_tasks_continue_from_their_checkpoint_after_an_interruption(tmp_path):
    (tmp_path / "designs.py").write_text("from runlab.design import Point\none = Point(epochs=6)\n")
    (tmp_path / "tasks.py").write_text(
        textwrap.dedent(f"""\
        import os, time
        def train(config, run):
            state = run.restore({{"epoch": 0, "attempts": []}})
            state["attempts"].append(run.attempt)
            for epoch in range(state["epoch"], config["epochs"]):
                if epoch == 3 and not os.path.exists({str(tmp_path / "go")!r}):
                    print("waiting", flush=True)
                    open({str(tmp_path / "at3")!r}, "w").close()
                    time.sleep(600)
                state["epoch"] = epoch + 1
                run.checkpoint(state)
            return {{"epochs_done": state["epoch"], "attempts": len(state["attempts"])}}

        def first(runs):
            open("first.json", "w").write(str(len(runs)))

        def last(runs):
            open("last.json", "w").write(",".join(r["status"] for r in runs))
    """)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    argv = [sys.executable, "-m", "runlab", "run", "designs.py:one", "-x", "tasks:train"]
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    end = time.monotonic() + 60
    while not (tmp_path / "at3").exists() and time.monotonic() < end:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    run_dir = tmp_path / "runs" / folders(tmp_path / "runs")[0]
    record = json.loads((run_dir / "run.json").read_text())
    assert (record["status"], record["exit_code"]) == ("interrupted", 75)
    assert (tmp_path / "last.json").read_text() == "interrupted"
    (tmp_path / "go").touch()
    assert runlab(tmp_path, "run", "designs.py:one", "-x", "tasks:train").returncode == 0
    assert json.loads((run_dir / "summary.json").read_text()) == {"epochs_done": 6, "attempts": 2}
    reports = {p.name: json.loads(p.read_text()) for p in (run_dir / "reports").iterdir()}
    assert (reports["1.json"]["final"], reports["2.json"]["final"]) == (False, True)
    assert (tmp_path / "first.json").read_text() == "1"
    assert (tmp_path / "last.json").read_text() == "completed"


def test_logs_of_a_command_task(project):
    assert runlab(project, "run", "params.yaml").returncode == 0
    run_id = "early-stop=True,moment=0.1,norm=batch"
    both = runlab(project, "logs", run_id)
    assert both.stdout == (
        "==> train <==\ntrain iwslt14 norm=batch moment=0.1 --early-stop\n"
        "==> test <==\nBLEU4 = 27.1\n"
    )
    assert runlab(project, "logs", run_id, "-c", "test").stdout == "BLEU4 = 27.1\n"
    missing = runlab(project, "logs", run_id, "--command", "nope")
    assert missing.returncode == 2
    assert missing.stderr == (
        f"error: run {run_id} has no log of command 'nope' (it has: train, test)\n"
    )


def test_diff_of_two_designs(project):
    (project / "v2.yaml").write_text(
        MLRUNNER.replace("moment: [ 0.1, 0.05 ]", "moment: [ 0.1, 0.01 ]")
    )
    out = runlab(project, "diff", "params.yaml", "v2.yaml")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "moment: 0.1, 0.05  →  0.1, 0.01",
        "3 configs in both, 2 only in params.yaml, 2 only in v2.yaml",
    ]
    data = json.loads(runlab(project, "diff", "params.yaml", "v2.yaml", "--json").stdout)
    assert [k["key"] for k in data["keys"]] == ["moment"] and data["common"] == 3
    same = runlab(project, "diff", "params.yaml", "params.yaml")
    assert same.stdout == "the two designs have the same configs\n"
