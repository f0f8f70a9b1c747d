"""`runlab import PATH --format mlrunner`: one folder per parameter combination."""

from __future__ import annotations

import os

from click.testing import CliRunner
from import_trees import rows, run_import, run_json

from runlab.cli import cli

COLUMNS = ("id", "name", "status", "exit_code", "message", "duration")
COLUMNS += ("params.data", "params.norm", "params.moment")


def test_mlrunner_tasks_become_runs(copy_tree, tmp_path):
    root = copy_tree("mlrunner")
    for path in (root / "Norm_batch-Moment_0.1").iterdir():
        os.utime(path)  # still training: its log changes now
    store = tmp_path / "runs"
    result = run_import(store, root, "--format", "mlrunner")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 4, updated 0, removed 0, skipped 0\n",
        "",
    )
    base = {"params.data": "iwslt14", "message": None, "exit_code": None, "duration": None}
    assert rows(store, *COLUMNS) == [
        {
            **base,
            "id": "1",
            "name": "Norm_batch-Moment_0.1",
            "status": "running",
            "params.norm": "batch",
            "params.moment": 0.1,
        },
        {
            **base,
            "id": "2",
            "name": "Norm_batch-Moment_0.05",
            "status": "queued",
            "params.norm": "batch",
            "params.moment": 0.05,
        },
        {
            **base,
            "id": "3",
            "name": "Norm_new-Moment_0.1",
            "status": "completed",
            "exit_code": 0,
            "duration": 3600.0,
            "params.norm": "new",
            "params.moment": 0.1,
        },
        {
            **base,
            "id": "4",
            "name": "Norm_new-Moment_0.05",
            "status": "failed",
            "message": "mlrunner: command test failed",
            "duration": 3600.0,
            "params.norm": "new",
            "params.moment": 0.05,
        },
    ]


def test_mlrunner_logs_become_command_logs(trees, tmp_path):
    root = trees["mlrunner"].resolve()
    store = tmp_path / "runs"
    run_import(store, root, "--format", "mlrunner")
    done = store / "3"
    assert sorted(p.name for p in (done / "logs").iterdir()) == ["test.log", "train.log"]
    # The newest of the two train logs (mlrunner's latest_log).
    assert (done / "logs" / "train.log").read_text() == "Iter 1: loss=3.5\nIter 2: loss=2.9\n"
    test_log = CliRunner().invoke(cli, ["--store", str(store), "logs", "3", "--command", "test"])
    assert (test_log.exit_code, test_log.stdout) == (0, "BLEU4 = 11.00\n")
    assert (store / "4" / "error.txt").read_text() == "mlrunner: command test failed\n"
    record = run_json(store, "3")
    assert record["imported_from"] == str(root / "Norm_new-Moment_0.1")
    # PyYAML sorts keys, so the param file lists the commands by name.
    assert record["command"] == (
        "CUDA_VISIBLE_DEVICES=0 python generate.py data-bin/iwslt14 --path "
        "output/Norm_new-Moment_0.1/avg.pt > output/Norm_new-Moment_0.1/log.test.20220316.030151"
        " 2>&1 && "
        "CUDA_VISIBLE_DEVICES=0 python train.py data-bin/iwslt14 --save-dir "
        "output/Norm_new-Moment_0.1 --norm new --moment 0.1 > "
        "output/Norm_new-Moment_0.1/log.train.20220316.030151 2>&1"
    )
    assert not (store / "2" / "logs").exists()


def test_a_malformed_param_file_skips_its_folder(copy_tree, tmp_path):
    root = copy_tree("mlrunner")
    (root / "Norm_new-Moment_0.05" / "param").write_text("norm: [new\n")
    (root / "Norm_batch-Moment_0.05" / "stat").write_text("- train\n")
    result = run_import(tmp_path / "runs", root, "--format", "mlrunner")
    assert result.stdout == (
        "imported 2, updated 0, removed 0, skipped 2 (1 malformed YAML, 1 not a dict)\n"
    )
    assert result.stderr == (
        f"warning: {root}/Norm_batch-Moment_0.05/stat: not a dict (holds a list)\n"
        f"warning: {root}/Norm_new-Moment_0.05/param: malformed YAML "
        "(line 2: expected ',' or ']', but got '<stream end>')\n"
    )
