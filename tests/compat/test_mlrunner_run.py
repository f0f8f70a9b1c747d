"""mlrunner's ``run`` options and reserved fields, through ``runlab run`` / ``runlab plan``.

Real ``python -m runlab`` processes on real sweep files in ``tmp_path``: ``--sample``,
``-c``, ``-d``, ``-r 0,1 2,3``, ``-t``, ``-o`` and ``-f``, and ``{_time}``, ``{_name}``,
``{_output}`` and ``alias`` end to end.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runlab.design import Grid
from runlab.design.subsample import Subsample, sample_rank

TIMEOUT = 120
SWEEP = """\
---
template:
  train: >
    echo train {norm} {moment} [early-stop] > {_output}/meta.txt &&
    echo time={_time} name={_name} output={_output} >> {_output}/meta.txt
  test: echo test {norm} gpu=${CUDA_VISIBLE_DEVICES}
default:
  norm: batch
  moment: 0.1
  early-stop: False
resource: [ 0, 1 ]
---
_title: grid
norm: [ new, batch, group, layer ]
moment: [ 0.1, 0.05, 0.01 ]
---
_title: stop
_cmd: train
norm: [ batch ]
early-stop: [ True, False ]
"""


def runlab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )


def plan(cwd: Path, *args: str) -> list[dict[str, Any]]:
    done = runlab(cwd, "plan", "params.yaml", "--json", *args)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["runs"])


def configs(runs: list[dict[str, Any]]) -> list[str]:
    """The configs of plan entries, comparable across plans (names depend on what varies)."""
    return [json.dumps(r["params"], sort_keys=True) for r in runs]


def commands(runs: list[dict[str, Any]]) -> list[list[str]]:
    return [[c["name"] for c in r["commands"]] for r in runs]


def folders(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "params.yaml").write_text(SWEEP)
    return tmp_path


# -- --sample -----------------------------------------------------------------------------


def test_sample_takes_n_configs_of_each_document_the_same_every_time(project: Path) -> None:
    two = configs(plan(project, "--sample", "2", "-t", "grid"))
    assert len(two) == 2
    assert configs(plan(project, "--sample", "2", "-t", "grid")) == two
    # A larger sample keeps what a smaller one chose, so growing it only adds runs.
    assert set(configs(plan(project, "--sample", "1", "-t", "grid"))) <= set(two)
    assert set(two) <= set(configs(plan(project, "--sample", "5", "-t", "grid")))
    other = configs(plan(project, "--sample", "2", "--sample-seed", "7", "-t", "grid"))
    assert configs(plan(project, "--sample", "2", "--sample-seed", "7", "-t", "grid")) == other
    # Each document is sampled on its own: 2 of the grid's 12, and the stop document's 2.
    assert len(plan(project, "--sample", "2")) == 4


def test_a_sampled_sweep_run_twice_runs_nothing_the_second_time(project: Path) -> None:
    first = runlab(project, "run", "params.yaml", "--sample", "1", "-t", "grid")
    assert first.returncode == 0, first.stderr
    assert len(folders(project / "runs")) == 1
    again = runlab(project, "run", "params.yaml", "--sample", "1", "-t", "grid")
    assert again.returncode == 0, again.stderr
    assert "1 configs already done or running: skipped" in again.stderr
    assert len(folders(project / "runs")) == 1


def test_sample_draws_after_overrides(project: Path) -> None:
    runs = plan(project, "-t", "stop", "--sample", "3", "moment=0.1,0.2,0.3")
    assert len(runs) == 3  # 3 of the 2 x 3 the override makes
    assert {r["params"]["moment"] for r in runs} <= {0.1, 0.2, 0.3}


def test_subsample_is_n_configs_in_design_order_with_all_their_seeds() -> None:
    grid = Grid(a=[1, 2, 3], b=[1, 2, 3])
    chosen = Subsample(grid, 3, seed=4).expand()
    ranks = sorted(sample_rank(4, c.hash) for c in grid.expand())[:3]
    assert sorted(sample_rank(4, c.hash) for c in chosen) == ranks
    order = [c.index for c in grid.expand() if c.hash in {x.hash for x in chosen}]
    assert [c.hash for c in chosen] == [grid.expand()[i].hash for i in order]
    assert len(Subsample(grid, 50).expand()) == 9
    from runlab.design import Group

    repeated = Group(Subsample(grid, 2), repeat=3).expand()
    assert len(repeated) == 6
    assert len({(c.params["a"], c.params["b"]) for c in repeated}) == 2


def test_subsample_keeps_reporting_what_rules_drop() -> None:
    grid = Grid(a=[1, 2, 3, 4], where="a != 2")
    expansion = Subsample(grid, 2).expand()
    assert len(expansion) == 2 and 2 not in [c.params["a"] for c in expansion]
    assert [d.params["a"] for d in expansion.dropped] == [2]


# -- -c / --command --------------------------------------------------------------------------


def test_command_picks_commands_for_every_document(project: Path) -> None:
    assert commands(plan(project, "-t", "stop")) == [["train"]] * 2  # its _cmd
    assert commands(plan(project, "-c", "test")) == [["test"]] * 13  # 12 + 2, one shared
    both = commands(plan(project, "-c", "test,train", "-t", "stop"))
    assert both == [["train", "test"]] * 2
    assert commands(plan(project, "-c", "train", "-c", "test", "-t", "stop")) == both


def test_command_runs_only_those_commands(project: Path) -> None:
    done = runlab(project, "run", "params.yaml", "-t", "stop", "-c", "test")
    assert done.returncode == 0, done.stderr
    for folder in folders(project / "runs"):
        assert sorted(p.name for p in (folder / "logs").iterdir()) == ["test.log"]


def test_unknown_command_is_one_line_and_exit_2(project: Path) -> None:
    done = runlab(project, "run", "params.yaml", "-c", "tset")
    assert done.returncode == 2
    assert done.stderr == (
        "error: --command: no command 'tset' in the template (did you mean 'test'?); "
        "commands: train, test\n"
    )
    assert not (project / "runs").exists()


# -- -d / --debug, -r, -o, -f ----------------------------------------------------------------


def test_debug_runs_the_first_config_again_with_its_logs_on_stdout(project: Path) -> None:
    first = runlab(project, "run", "params.yaml", "-d", "-o", "out")
    assert first.returncode == 0, first.stderr
    assert first.stdout == "test new gpu=0\n"  # train's output goes to meta.txt
    (only,) = folders(project / "out")
    assert only.name == "early-stop=False,moment=0.1,norm=new"
    again = runlab(project, "run", "params.yaml", "--debug", "-o", "out", "-r", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout.replace("gpu=0", "gpu=1")
    assert json.loads((only / "run.json").read_text())["attempt"] == 2


def test_resources_in_mlrunners_spelling_make_one_slot_each(project: Path) -> None:
    done = runlab(project, "run", "params.yaml", "-t", "grid", "-r", "0,1", "2,3", "moment=0.1")
    assert done.returncode == 0, done.stderr
    gpus = {
        re.search(r"gpu=(\S+)", (f / "logs" / "test.log").read_text())[1]  # type: ignore[index]
        for f in folders(project / "runs")
    }
    assert len(folders(project / "runs")) == 4
    assert gpus and gpus <= {"0,1", "2,3"}


def test_force_short_option_runs_done_configs_again(project: Path) -> None:
    assert runlab(project, "run", "params.yaml", "-t", "stop").returncode == 0
    states = {r["state"] for r in plan(project, "-t", "stop", "-f")}
    assert states == {"forced"}


# -- reserved fields and aliases ------------------------------------------------------------


def test_time_name_and_output_render_as_mlrunner_wrote_them(project: Path) -> None:
    done = runlab(project, "run", "params.yaml", "-t", "stop")
    assert done.returncode == 0, done.stderr
    times = set()
    for folder in folders(project / "runs"):
        lines = (folder / "meta.txt").read_text().splitlines()
        fields = dict(part.split("=", 1) for part in lines[1].split())
        assert fields["name"] == folder.name
        assert fields["output"] == str(folder)
        assert re.fullmatch(r"\d{8}\.\d{6}", fields["time"])
        times.add(fields["time"])
    assert len(times) == 1  # one launch time for the whole launch


ALIASED = """\
template: python3 -c pass {enc-ffn} {dec-ffn} [pre] [post]
alias:
  ffn: [enc-ffn, dec-ffn]
  arch: {preln: {pre: true, post: false}, postln: {pre: false, post: true}}
default: {ffn: 512, arch: preln}
---
arch: [preln, postln]
ffn: [256]
"""


def test_aliases_set_their_params_before_commands_render(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(ALIASED)
    runs = plan(tmp_path)
    assert [r["params"] for r in runs] == [
        {"enc-ffn": 256, "dec-ffn": 256, "pre": True, "post": False},
        {"enc-ffn": 256, "dec-ffn": 256, "pre": False, "post": True},
    ]
    assert [r["commands"][0]["command"] for r in runs] == [
        "python3 -c pass 256 256 --pre ",
        "python3 -c pass 256 256  --post",
    ]


def test_with_commands_needs_a_template_and_a_name() -> None:
    from runlab.design.sweep import Sweep
    from runlab.errors import UsageError
    from runlab.tasks import CallableTask, CommandTask

    python = Sweep("py", Grid(a=[1]), task=CallableTask("train:main"))
    with pytest.raises(UsageError, match="--command picks named commands of a template"):
        python.with_commands(["train"])
    shell = Sweep("sh", Grid(a=[1]), task=CommandTask.from_templates({"a": "echo a"}))
    with pytest.raises(UsageError, match="give at least one command name"):
        shell.with_commands([" ", ""])
    assert shell.with_commands(["a"]).task_for(shell.expand()[0]) == shell.task


# -- named commands are steps of one run (mlrunner's per-command stat) -----------------------

README = """\
---
template:
  train: >
    echo train {norm} {moment} [early-stop] >> {_output}/checkpoint.pt &&
    echo trained >> {_output}/train-count
  avg: cp {_output}/checkpoint.pt {_output}/avg.pt
  test: echo BLEU from $(cat {_output}/avg.pt)
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


@pytest.fixture
def readme(tmp_path: Path) -> Path:
    (tmp_path / "params.yaml").write_text(README)
    return tmp_path


def record(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "run.json").read_text()))


def step_statuses(folder: Path) -> dict[str, tuple[str, int | None, int]]:
    return {
        n: (s["status"], s["exit_code"], s["attempt"])
        for n, s in record(folder)["commands"].items()
    }


def test_train_today_then_test_tomorrow_run_in_the_same_folder(readme: Path) -> None:
    train = runlab(readme, "run", "params.yaml", "-c", "train,avg")
    assert train.returncode == 0, train.stderr
    before = folders(readme / "runs")
    assert len(before) == 5
    test = runlab(readme, "run", "params.yaml", "-c", "test")
    assert test.returncode == 0, test.stderr
    assert folders(readme / "runs") == before  # no new run: test is a step of each run
    for folder in before:
        assert (folder / "logs" / "test.log").read_text().startswith("BLEU from train ")
        assert (folder / "train-count").read_text() == "trained\n"  # train ran once
        assert step_statuses(folder) == {
            "train": ("completed", 0, 1),
            "avg": ("completed", 0, 1),
            "test": ("completed", 0, 2),
        }
        assert record(folder)["steps"] == ["test"] and record(folder)["status"] == "completed"
        # train's and avg's logs stay: they are still those commands' latest output
        assert sorted(p.name for p in (folder / "logs").glob("*.log")) == [
            "avg.log",
            "test.log",
            "train.log",
        ]
    again = plan(readme)
    assert {r["state"] for r in again} == {"done"} and {len(r["steps"]) for r in again} == {0}


def test_a_full_run_after_a_partial_one_runs_only_what_is_missing(readme: Path) -> None:
    assert runlab(readme, "run", "params.yaml", "-c", "train").returncode == 0
    entries = plan(readme)
    assert {r["state"] for r in entries} == {"partial"}
    assert [r["steps"] for r in entries] == [["avg", "test"]] * 5
    assert commands(entries) == [["train", "avg", "test"]] * 5  # what the run is asked for
    done = runlab(readme, "run", "params.yaml")
    assert done.returncode == 0, done.stderr
    for folder in folders(readme / "runs"):
        assert (folder / "train-count").read_text() == "trained\n"
        executed = record(folder)["command"]  # the command lines this attempt executed
        assert "cp " in executed and "BLEU" in executed and "echo train" not in executed
        assert record(folder)["attempt"] == 2
    nothing = runlab(readme, "run", "params.yaml")
    assert nothing.returncode == 0, nothing.stderr
    assert "5 configs already done or running: skipped" in nothing.stderr


def test_cmd_per_document_then_the_rest_of_the_commands(readme: Path) -> None:
    # The README sweep with the first document's configs only trained for now: the
    # config both documents make (norm=batch, moment=0.1) runs once, with every command.
    text = README.replace("norm: [ new, batch ]\n", "_cmd: train\nnorm: [ new, batch ]\n")
    (readme / "params.yaml").write_text(text)
    first = runlab(readme, "run", "params.yaml")
    assert first.returncode == 0, first.stderr
    ran = {f.name: sorted(step_statuses(f)) for f in folders(readme / "runs")}
    assert sorted(ran.values()) == [["avg", "test", "train"]] * 2 + [["train"]] * 3
    (readme / "params.yaml").write_text(README)  # tomorrow: every command of every config
    entries = plan(readme)
    assert sorted(r["state"] for r in entries) == ["done"] * 2 + ["partial"] * 3
    rest = runlab(readme, "run", "params.yaml")
    assert rest.returncode == 0, rest.stderr
    for folder in folders(readme / "runs"):
        assert (folder / "train-count").read_text() == "trained\n"
        assert {s[0] for s in step_statuses(folder).values()} == {"completed"}
    assert len(folders(readme / "runs")) == 5


def test_a_failed_step_runs_again_from_that_step_only(readme: Path) -> None:
    flag = readme / "avg-may-run"
    text = README.replace("  avg: cp", f"  avg: test -e {flag} && cp")
    (readme / "params.yaml").write_text(text)
    failed = runlab(readme, "run", "params.yaml", "norm=new", "moment=0.1", "early-stop=False")
    assert failed.returncode == 1
    (folder,) = folders(readme / "runs")
    assert record(folder)["status"] == "failed"
    assert record(folder)["error"] == "command 'avg' exited with 1"
    assert step_statuses(folder) == {"train": ("completed", 0, 1), "avg": ("failed", 1, 1)}
    (entry,) = plan(readme, "norm=new", "moment=0.1", "early-stop=False")
    assert entry["state"] == "rerun" and entry["steps"] == ["avg", "test"]
    flag.touch()
    done = runlab(readme, "run", "params.yaml", "norm=new", "moment=0.1", "early-stop=False")
    assert done.returncode == 0, done.stderr
    assert (folder / "train-count").read_text() == "trained\n"
    assert step_statuses(folder) == {
        "train": ("completed", 0, 1),
        "avg": ("completed", 0, 2),
        "test": ("completed", 0, 2),
    }
    assert (folder / "logs" / "attempt-1" / "avg.log").exists()  # the failed attempt's log
    assert not (folder / "logs" / "attempt-1" / "train.log").exists()


def test_force_runs_the_selected_steps_again(readme: Path) -> None:
    one = ("norm=new", "moment=0.1", "early-stop=False")
    assert runlab(readme, "run", "params.yaml", *one).returncode == 0
    (entry,) = plan(readme, *one, "-c", "test", "-f")
    assert entry["state"] == "forced" and entry["steps"] == ["test"]
    forced = runlab(readme, "run", "params.yaml", *one, "-c", "test", "-f")
    assert forced.returncode == 0, forced.stderr
    (folder,) = folders(readme / "runs")
    assert (folder / "train-count").read_text() == "trained\n"
    assert step_statuses(folder)["test"] == ("completed", 0, 2)
    assert step_statuses(folder)["train"] == ("completed", 0, 1)
    assert (folder / "logs" / "attempt-1" / "test.log").read_text().startswith("BLEU from")
    everything = runlab(readme, "run", "params.yaml", *one, "-f")
    assert everything.returncode == 0, everything.stderr
    assert (folder / "train-count").read_text() == "trained\ntrained\n"
    assert {s[2] for s in step_statuses(folder).values()} == {3}
