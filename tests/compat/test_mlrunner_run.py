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
