"""`runlab import PATH --format meticulous`: numbered experiment folders."""

from __future__ import annotations

import datetime as dt
import json
import os

import pandas as pd
from click.testing import CliRunner
from import_trees import TRACEBACK, rows, run_import, run_json

import runlab
from runlab.cli import cli

SHA = "970d8ad001f5d42a9ecaa5e3791765d65e02292a"


def utc(text: str) -> pd.Timestamp:
    """A naive local time as meticulous writes it, as the UTC time runlab records."""
    return pd.Timestamp(dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc))


def test_meticulous_experiments_become_runs(copy_tree, tmp_path):
    root = copy_tree("meticulous")
    for path in (root / "10").iterdir():
        os.utime(path)  # experiment 10 is still running: its files change now
    store = tmp_path / "runs"
    result = run_import(store, root, "--format", "meticulous")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 5, updated 0, removed 0, skipped 0\n",
        "",
    )
    columns = ("id", "name", "status", "exit_code", "message", "description", "attempt")
    columns += ("git_sha", "duration", "params.batch_size", "params.lr", "params.epochs")
    columns += ("metrics.loss", "metrics.accuracy")
    base = {"attempt": 1, "git_sha": SHA, "metrics.loss": None, "metrics.accuracy": None}
    assert rows(store, *columns) == [
        {
            **base,
            "id": "1",
            "name": "1",
            "status": "completed",
            "exit_code": 0,
            "message": None,
            "description": "baseline",
            "duration": 600.0,
            "params.batch_size": 64,
            "params.lr": 0.01,
            "params.epochs": 10,
            "metrics.loss": 0.25,
            "metrics.accuracy": 0.91,
        },
        {
            **base,
            "id": "2",
            "name": "2",
            "status": "failed",
            "exit_code": 1,
            "message": "ValueError: loss diverged",
            "description": "",
            "duration": 600.0,
            "params.batch_size": 64,
            "params.lr": 10.0,
            "params.epochs": 10,
        },
        {
            **base,
            "id": "3",
            "name": "3",
            "status": "failed",
            "exit_code": 3,
            "message": "SystemExit: 3",
            "description": "",
            "duration": 600.0,
            "params.batch_size": 32,
            "params.lr": 0.01,
            "params.epochs": 10,
        },
        {
            **base,
            "id": "4",
            "name": "4",
            "status": "lost",
            "exit_code": None,
            "message": None,
            "description": "",
            "duration": None,
            "params.batch_size": 32,
            "params.lr": 0.1,
            "params.epochs": 10,
        },
        {
            **base,
            "id": "5",
            "name": "10",
            "status": "running",
            "exit_code": None,
            "message": None,
            "description": "",
            "duration": None,
            "params.batch_size": 16,
            "params.lr": 0.01,
            "params.epochs": 5,
        },
    ]
    frame = runlab.load(store).df()
    assert list(frame["start"]) == [
        utc("2020-11-02T12:48:36.150350"),
        utc("2020-11-02T12:48:36.150350"),
        utc("2020-11-02T12:48:36.150350"),
        utc("2020-11-02T13:00:00"),
        utc("2020-11-02T12:48:36.150350"),
    ]
    assert frame["end"][0] == utc("2020-11-02T12:58:36.150350")


def test_meticulous_files_land_where_runlab_keeps_them(trees, tmp_path):
    root = trees["meticulous"].resolve()
    store = tmp_path / "runs"
    run_import(store, root, "--format", "meticulous")
    assert (store / "2" / "error.txt").read_text() == TRACEBACK
    assert (store / "3" / "error.txt").read_text() == "sys.exit(3)\n"
    assert not (store / "1" / "error.txt").exists()
    assert json.loads((store / "1" / "defaults.json").read_text()) == {
        "batch_size": 64,
        "lr": 0.01,
        "epochs": 10,
    }
    assert (store / "2" / "stderr.log").read_text() == TRACEBACK
    logs = CliRunner().invoke(cli, ["--store", str(store), "logs", "1"])
    assert (logs.exit_code, logs.stdout) == (0, "epoch 1 loss 0.5\nepoch 2 loss 0.25\n")
    record = run_json(store, "1")
    assert {k: record[k] for k in ("imported_from", "source_format", "argv", "command")} == {
        "imported_from": str(root / "1"),
        "source_format": "meticulous",
        "argv": ["training_utils.py", "--lr", "0.01"],
        "command": "training_utils.py --lr 0.01",
    }
    assert record["git"] == {
        "sha": SHA,
        "branch": None,
        "message": "Explicitly close stdout and stderr",
        "dirty": False,
        "root": None,
    }


def test_a_status_meticulous_never_wrote_follows_the_summary(copy_tree, tmp_path):
    root = copy_tree("meticulous")
    (root / "1" / "STATUS").unlink()
    (root / "2" / "STATUS").unlink()
    (root / "3" / "STATUS").write_text("PAUSED")
    store = tmp_path / "runs"
    run_import(store, root, "--format", "meticulous")
    assert rows(store, "status", "message")[:3] == [
        {"status": "completed", "message": None},
        {"status": "failed", "message": "meticulous: no STATUS file and no summary.json"},
        {"status": "failed", "message": "meticulous: STATUS says 'PAUSED' and no summary.json"},
    ]


def test_a_malformed_meticulous_file_skips_its_folder(copy_tree, tmp_path):
    root = copy_tree("meticulous")
    (root / "2" / "args.json").write_text("{'lr': 10}")
    (root / "3" / "summary.json").write_text('"done"')
    store = tmp_path / "runs"
    result = run_import(store, root, "--format", "meticulous")
    assert result.stdout == (
        "imported 3, updated 0, removed 0, skipped 2 (1 malformed JSON, 1 not a dict)\n"
    )
    assert result.stderr == (
        f"warning: {root}/2/args.json: malformed JSON (line 1 column 2: "
        "Expecting property name enclosed in double quotes)\n"
        f"warning: {root}/3/summary.json: not a dict (holds a str)\n"
    )
    assert [r["name"] for r in rows(store, "name")] == ["1", "4", "10"]
