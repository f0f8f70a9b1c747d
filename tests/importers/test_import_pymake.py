"""`runlab import PATH --format pymake`: result files named after each experiment's settings."""

from __future__ import annotations

import json

from import_trees import rows, run_import, run_json

import runlab

COLUMNS = ("id", "name", "status", "exit_code", "message", "params.refdir", "params.name")
METRICS = ("metrics._iteration", "metrics.time_it", "metrics._entropy", "metrics._K")


def test_pymake_stems_become_runs_and_inf_rows_become_points(trees, tmp_path):
    root = trees["pymake"].resolve()
    store = tmp_path / "runs"
    result = run_import(store, root, "--format", "pymake")
    assert (result.exit_code, result.stdout) == (
        0,
        "imported 3, updated 0, removed 0, skipped 1 (1 pickle only)\n",
    )
    assert result.stderr == (
        f"warning: {root}/debug/1/ilfm_5.pk.gz: pickle only (pass --allow-pickle to read it)\n"
    )
    assert rows(store, *COLUMNS, *METRICS, "metrics.Precision", "metrics.K") == [
        {
            "id": "1",
            "name": "debug/1/mmsb_10",
            "status": "completed",
            "exit_code": 0,
            "message": None,
            "params.refdir": "debug/1",
            "params.name": "mmsb_10",
            "metrics._iteration": 2,
            "metrics.time_it": 0.02,
            "metrics._entropy": 470.0,
            "metrics._K": 9,
            "metrics.Precision": 0.71,
            "metrics.K": 9,
        },
        {
            "id": "2",
            "name": "debug/1/mmsb_20",
            "status": "failed",
            "exit_code": None,
            "message": "pymake: mmsb_20.inf has no '# terminated' line",
            "params.refdir": "debug/1",
            "params.name": "mmsb_20",
            "metrics._iteration": 1,
            "metrics.time_it": 0.03,
            "metrics._entropy": 590.5,
            "metrics._K": 19,
            "metrics.Precision": None,
            "metrics.K": None,
        },
        {
            "id": "3",
            "name": "debug/2/mmsb_10",
            "status": "completed",
            "exit_code": 0,
            "message": None,
            "params.refdir": "debug/2",
            "params.name": "mmsb_10",
            "metrics._iteration": 0,
            "metrics.time_it": 0.01,
            "metrics._entropy": 520.0,
            "metrics._K": 10,
            "metrics.Precision": None,
            "metrics.K": None,
        },
    ]
    # An int in one run and floats in others: the column is float, decided from all values.
    assert str(runlab.load(store).df()["metrics._entropy"].dtype) == "float64"
    points = [json.loads(line) for line in (store / "1" / "metrics.jsonl").read_text().splitlines()]
    assert points == [
        {"step": 0, "time": None, "_iteration": 0, "time_it": 0.01, "_entropy": 512.5, "_K": 10},
        {"step": 1, "time": None, "_iteration": 1, "time_it": 0.02, "_entropy": 480.25, "_K": 11},
        {"step": 2, "time": None, "_iteration": 2, "time_it": 0.02, "_entropy": 470, "_K": 9},
    ]
    assert list(runlab.load(store)[1].metrics()["_entropy"]) == [512.5, 480.25, 470.0]
    assert run_json(store, "1")["imported_from"] == str(root / "debug" / "1" / "mmsb_10")


def test_name_format_reads_params_back_and_allow_pickle_reads_results(trees, tmp_path):
    store = tmp_path / "runs"
    result = run_import(
        store,
        trees["pymake"],
        "--format",
        "pymake",
        "--name-format",
        "{model}_{K}",
        "--allow-pickle",
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 4, updated 0, removed 0, skipped 0\n",
        "",
    )
    assert rows(store, "name", "params.model", "params.K", "metrics.Precision", "metrics.K") == [
        {
            "name": "debug/1/ilfm_5",
            "params.model": "ilfm",
            "params.K": 5,
            "metrics.Precision": 0.64,
            "metrics.K": 5,
        },
        {
            "name": "debug/1/mmsb_10",
            "params.model": "mmsb",
            "params.K": 10,
            "metrics.Precision": 0.71,
            "metrics.K": 9,
        },
        {
            "name": "debug/1/mmsb_20",
            "params.model": "mmsb",
            "params.K": 20,
            "metrics.Precision": None,
            "metrics.K": None,
        },
        {
            "name": "debug/2/mmsb_10",
            "params.model": "mmsb",
            "params.K": 10,
            "metrics.Precision": None,
            "metrics.K": None,
        },
    ]
    assert runlab.load(store)[1].summary["theta"] == "ndarray(shape=(4, 5), dtype=float64)"


def test_a_stem_the_name_format_does_not_fit_is_skipped(trees, tmp_path):
    root = trees["pymake"].resolve()
    result = run_import(
        tmp_path / "runs", root, "--format", "pymake", "--name-format", "{model}-{K}"
    )
    assert result.stdout == (
        "imported 0, updated 0, removed 0, skipped 4 (3 name does not match --name-format, "
        "1 pickle only)\n"
    )
    assert result.stderr.splitlines()[1] == (
        f"warning: {root}/debug/1/mmsb_10: name does not match --name-format ({{model}}-{{K}})"
    )


def test_a_damaged_inf_or_pickle_skips_its_stem(copy_tree, tmp_path):
    root = copy_tree("pymake")
    (root / "debug" / "2" / "mmsb_10.inf").write_text("0 0.01 520.0 10\n")
    (root / "debug" / "1" / "ilfm_5.pk.gz").write_bytes(b"\x1f\x8bdamaged")
    result = run_import(tmp_path / "runs", root, "--format", "pymake", "--allow-pickle")
    assert result.stdout == (
        "imported 2, updated 0, removed 0, skipped 2 (1 malformed .inf, 1 unreadable pickle)\n"
    )
    assert result.stderr == (
        f"warning: {root}/debug/1/ilfm_5.pk.gz: unreadable pickle "
        "(EOFError: Compressed file ended before the end-of-stream marker was reached)\n"
        f"warning: {root}/debug/2/mmsb_10.inf: malformed .inf "
        "(no '#measure ...' header before the rows)\n"
    )
