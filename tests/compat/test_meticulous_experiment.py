"""The Experiment API in-process: argparse, open, summary, the outcomes, the options."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

import runlab.compat.meticulous as meticulous
from runlab.compat.meticulous import Experiment, Status
from runlab.errors import UsageError


def read(path: Path) -> object:
    return json.loads(path.read_text())


def test_the_public_names_are_sorted_and_complete():
    assert meticulous.__all__ == sorted(meticulous.__all__)
    assert meticulous.__all__ == [
        "Experiment",
        "ExperimentReader",
        "Status",
        "experiments_dataframe",
        "read_experiments",
    ]


def test_the_argument_group_has_meticulous_options_and_defaults():
    parser = argparse.ArgumentParser()
    group = Experiment.add_argument_group(parser)
    assert group.title == "meticulous"
    assert [a.option_strings for a in group._group_actions] == [
        ["--project-directory"],
        ["--experiments-directory"],
        ["--experiment-id"],
        ["--description"],
        ["--resume"],
        ["--norecord"],
    ]
    assert vars(parser.parse_args([])) == {
        "project_directory": "",
        "experiments_directory": "experiments",
        "experiment_id": None,
        "description": "",
        "resume": False,
        "norecord": False,
    }


def test_from_parser_records_the_scripts_args_and_not_its_own(inside):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--data", type=Path, default=Path("data"))
    argv = ["--lr", "0.2", "--experiment-id", "run-a", "--description", "try"]
    with Experiment.from_parser(parser, argv) as exp:  # adds the group itself
        assert exp.status is Status.RUNNING
        assert parser.parse_args(argv).lr == 0.2
    assert (exp.experiment_id, exp.status) == ("run-a", Status.SUCCESS)
    folder = inside.experiments / "run-a"
    assert exp.curexpdir == str(folder)
    assert read(folder / "args.json") == {"lr": 0.2, "data": "data"}
    assert read(folder / "default_args.json") == {"lr": 0.1, "data": "data"}
    assert read(folder / "metadata.json")["description"] == "try"
    assert repr(exp) == f"<Experiment run-a SUCCESS {folder}>"


def test_a_namespace_is_accepted_as_args(inside):
    with Experiment(argparse.Namespace(k=3)) as exp:
        pass
    assert exp.args == {"k": 3}
    assert read(inside.experiments / "1" / "default_args.json") == {}


def test_open_writes_in_the_folder_and_refuses_the_record_files(inside):
    with Experiment({"k": 1}) as exp:
        with exp.open("plots/loss.txt", "w") as f:
            f.write("0.5\n")
        assert exp.open("STATUS").read() == "RUNNING"  # reading a record file is fine
        for name in ("STATUS", "run.json", "stdout", "summary.json", "artifacts/x"):
            with pytest.raises(UsageError, match="is a file of the experiment record"):
                exp.open(name, "w")
        with pytest.raises(UsageError, match="must be a relative path inside the experiment"):
            exp.open("../escape.txt", "w")
    assert (inside.experiments / "1" / "plots" / "loss.txt").read_text() == "0.5\n"
    assert not (inside.root / "escape.txt").exists()


def test_summary_calls_add_up(inside):
    with Experiment({"k": 1}) as exp:
        exp.summary({"loss": 0.5})
        assert exp.summary({"accuracy": 0.9}) == {"loss": 0.5, "accuracy": 0.9}
    assert read(inside.experiments / "1" / "summary.json") == {"loss": 0.5, "accuracy": 0.9}


def test_an_exception_is_recorded_and_stopped_but_not_an_interrupt(inside, capsys):
    with Experiment({"k": 1}):
        raise ValueError("bad k")
    assert "ValueError: bad k" in capsys.readouterr().err  # said on the way out
    with pytest.raises(KeyboardInterrupt), Experiment({"k": 2}):
        raise KeyboardInterrupt
    assert (inside.experiments / "2" / "STATUS").read_text() == "ERROR\nKeyboardInterrupt"
    status = (inside.experiments / "1" / "STATUS").read_text()
    assert status.startswith("ERROR\nTraceback") and status.endswith("ValueError: bad k")


def test_norecord_writes_nothing_and_still_stops_the_exception(inside):
    with Experiment({"k": 1}, norecord=True) as exp:
        assert (exp.experiment_id, exp.curexpdir) == (None, None)
        with exp.open("model.pkl", "wb") as f:
            f.write(b"weights")
        exp.summary({"loss": 1.0})
        raise ValueError("debugging")
    assert exp.status is Status.UNKNOWN
    assert not inside.experiments.exists()


def test_the_experiments_directory_is_relative_to_the_project_directory(inside):
    (inside.root / "sub").mkdir()
    with Experiment({"k": 1}, project_directory="sub", experiments_directory="exps") as exp:
        pass
    assert Path(exp.curexpdir) == inside.root / "sub" / "exps" / "1"
    elsewhere = inside.root.parent / "absolute"
    with Experiment({"k": 1}, experiments_directory=elsewhere) as exp:
        pass
    assert Path(exp.curexpdir) == elsewhere / "1"


def test_a_project_in_another_repository_is_refused(inside, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=other, check=True)
    with pytest.raises(UsageError, match="is not in the git repository of the working directory"):
        Experiment({"k": 1}, project_directory=other)
    assert not (other / "experiments").exists()
