"""Reading experiment folders: meticulous's own, ours through meticulous's eyes, plain runs."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pandas as pd

import runlab
from runlab.compat.meticulous import (
    Experiment,
    ExperimentReader,
    experiments_dataframe,
    read_experiments,
)
from runlab.compat.meticulous.cli import main

OLD_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 9, in <module>\n'
    "ValueError: bad batch size\n"
)


def write_old_experiment(root: Path, expid: str, status: str, args: dict, summary: dict) -> Path:
    """An experiment folder as meticulous itself wrote it (STATUS ends with a newline)."""
    folder = root / expid
    folder.mkdir(parents=True)
    (folder / "STATUS").write_text(status)
    (folder / "args.json").write_text(json.dumps(args))
    (folder / "default_args.json").write_text(json.dumps({"batch_size": 64}))
    metadata = {
        "githead-sha": "970d8ad001f5d42a9ecaa5e3791765d65e02292a",
        "githead-message": "Explicitly close stdout and stderr\n",
        "description": "",
        "timestamp": f"2020-11-02T12:48:3{expid}.150350",
        "command": ["training_utils.py", "--batch-size", str(args["batch_size"])],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "stdout").write_text(f"epoch 1 of experiment {expid}\n")
    (folder / "stderr").write_text("")
    return folder


def old_reader_view(curexpdir: str) -> dict:
    """What meticulous's ExperimentReader makes of a folder's files (its documented reading):
    the first and last lines of STATUS as iterated, the JSON files, the command joined."""
    with open(os.path.join(curexpdir, "STATUS")) as f:
        lines = list(f)
    with open(os.path.join(curexpdir, "metadata.json")) as f:
        metadata = json.load(f)
    view = {"status": lines[0], "status_message": lines[-1] if len(lines) > 1 else ""}
    view["command"] = " ".join(metadata.get("command", []))
    view["sha"] = metadata.get("githead-sha")
    for name in ("args", "default_args", "summary"):
        path = os.path.join(curexpdir, f"{name}.json")
        view[name] = {}  # a missing file reads as empty, as meticulous's reader had it
        if os.path.exists(path):
            with open(path) as f:
                view[name] = json.load(f)
    return view


def test_meticulous_folders_read_with_the_status_word_alone(tmp_path, capsys):
    root = tmp_path / "experiments"
    write_old_experiment(root, "1", "SUCCESS\n", {"batch_size": 32}, {"loss": 0.5})
    write_old_experiment(root, "2", "ERROR\n" + OLD_TRACEBACK, {"batch_size": 0}, {})
    (root / "plots").mkdir()  # not an experiment: holds none of the record files
    (root / ".cache").mkdir()

    first, second = read_experiments(root)
    assert (first.expid, first.status, first.status_message) == ("1", "SUCCESS", "")
    assert first.args == {"batch_size": 32}
    assert first.default_args == {"batch_size": 64}
    assert first.summary == {"loss": 0.5}
    assert first.sha == "970d8ad001f5d42a9ecaa5e3791765d65e02292a"
    assert first.begin_time == "2020-11-02T12:48:31.150350"
    assert first.metadata["command"] == ["training_utils.py", "--batch-size", "32"]
    assert first.stdout == "epoch 1 of experiment 1\n"
    assert first.curexpdir == os.path.join(str(root), "1", "")
    assert (second.status, second.status_message) == ("ERROR", "ValueError: bad batch size")
    assert second.traceback == OLD_TRACEBACK.rstrip("\n")
    assert repr(second) == f"<ExperimentReader 2 ERROR {second.curexpdir}>"

    # meticulous's reader kept the newline, so this filter found nothing; now it works.
    assert main([str(root), "--filter", "status=='ERROR'", "--columns", "args_batch_size"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].split() == ["970d8ad001f5d42a9ecaa5e3791765d65e02292a", "2", "0"]


def test_our_folders_read_as_meticulous_read_its_own(inside):
    with Experiment({"batch_size": 32}, {"batch_size": 64}) as exp:
        exp.summary({"loss": 0.5})
    with Experiment({"batch_size": 0}, {"batch_size": 64}):
        raise ValueError("bad batch size")
    sha = inside.git("rev-parse", "HEAD").strip()
    # meticulous listed experiments with glob("experiments/*/"): only the two folders.
    found = sorted(glob.glob("experiments/*/"))
    assert found == ["experiments/1/", "experiments/2/"]
    good, bad = (old_reader_view(path) for path in found)
    assert good["status"] == "SUCCESS"  # exactly: no newline to strip
    assert (good["args"], good["default_args"]) == ({"batch_size": 32}, {"batch_size": 64})
    assert good["summary"] == {"loss": 0.5}
    assert good["sha"] == sha
    assert good["command"] == " ".join(
        json.loads(Path("experiments/1/metadata.json").read_text())["command"]
    )
    assert bad["status"] == "ERROR\n"  # meticulous's own reader keeps this newline
    assert bad["status_message"] == "ValueError: bad batch size"
    assert ExperimentReader("experiments/2/").status == "ERROR"


def test_plain_runlab_runs_read_as_experiments(inside):
    store = inside.root / "experiments"
    with runlab.start({"lr": 0.1}, store=store, description="plain") as run:
        run.summary(acc=0.9)
    with runlab.start({"lr": 1.0}, store=store, catch=True):
        raise RuntimeError("diverged")
    good, bad = read_experiments(store)
    assert (good.status, good.args, good.summary) == ("SUCCESS", {"lr": 0.1}, {"acc": 0.9})
    assert good.metadata["githead-sha"] == inside.git("rev-parse", "HEAD").strip()
    assert good.metadata["description"] == "plain"
    assert (bad.status, bad.status_message) == ("ERROR", "RuntimeError: diverged")
    assert bad.traceback.startswith("Traceback (most recent call last):")
    frame = experiments_dataframe(store)
    assert frame["status"].tolist() == ["SUCCESS", "ERROR"]
    assert frame["args_lr"].tolist() == [0.1, 1.0]


def test_nested_args_are_flattened_and_each_column_has_one_dtype(inside):
    with Experiment({"opt": {"lr": 0.1, "name": "sgd"}, "flag": True, "layers": [1, 2]}):
        pass
    with Experiment({"opt": {"lr": 0.2, "name": "adam"}, "flag": False, "epochs": 3}):
        pass
    frame = experiments_dataframe()
    assert list(frame.columns)[4:] == [
        "args_opt_lr",
        "args_opt_name",
        "args_flag",
        "args_layers",
        "args_epochs",
    ]
    assert {c: str(frame[c].dtype) for c in ("args_opt_lr", "args_flag", "args_epochs")} == {
        "args_opt_lr": "float64",
        "args_flag": "boolean",
        "args_epochs": "Int64",
    }
    assert frame["args_layers"].tolist()[0] == [1, 2]
    assert pd.isna(frame["args_epochs"].tolist()[0])


def test_an_empty_or_missing_directory_gives_an_empty_frame_with_the_columns(tmp_path):
    frame = experiments_dataframe(tmp_path / "nothing")
    assert frame.empty
    assert frame.index.names == ["sha", "expid"]
    assert list(frame.columns) == ["curexpdir", "begin_time", "status", "status_message"]
