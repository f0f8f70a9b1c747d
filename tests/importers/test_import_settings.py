"""`runlab import PATH --settings FILE`: naklar trees of per-folder settings dicts."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest
from import_trees import NAKLAR, rows, run_import, run_json

import runlab

COLUMNS = ("id", "name", "status", "exit_code", "params.kernel", "params.C", "params.i")


def expected(*, metrics: bool) -> list[dict[str, object]]:
    out = []
    for n, conf in enumerate(NAKLAR, 1):
        row = {
            "id": str(n),
            "name": str(conf["i"]),
            "status": "completed",
            "exit_code": 0,
            "params.kernel": conf["kernel"],
            "params.C": float(conf["C"]),
            "params.i": conf["i"],
        }
        if metrics:
            row.update({"metrics.f1": conf["f1"], "metrics.accuracy": conf["accuracy"]})
        out.append(row)
    return out


def test_json_settings_become_runs_with_metrics_moved_to_the_summary(trees, tmp_path):
    store = tmp_path / "runs"
    root = trees["naklar"]
    result = run_import(
        store, root, "--settings", "conf.json", "--metric", "f1", "--metric", "accuracy"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 4, updated 0, removed 0, skipped 0\n",
        "",
    )
    columns = (*COLUMNS, "metrics.f1", "metrics.accuracy")
    assert rows(store, *columns) == expected(metrics=True)
    dtypes = runlab.load(store).df().dtypes
    assert [str(dtypes[c]) for c in ("params.C", "params.i", "metrics.f1")] == [
        "float64",
        "Int64",
        "float64",
    ]
    record = run_json(store, "1")
    assert record["imported_from"] == str(root.resolve() / "0")
    assert record["source_format"] == "settings"
    assert (record["host"], record["pid"], record["git"]) == (None, None, None)
    assert (store / "1" / "summary.json").exists()
    assert runlab.load(store)[1].params == {
        "kernel": "linear",
        "C": 0.001,
        "i": 0,
        "path": "results/0",
    }


def test_yaml_settings_keep_every_key_as_a_param_without_metric(trees, tmp_path):
    store = tmp_path / "runs"
    result = run_import(store, trees["naklar"], "--settings", "conf.yaml")
    assert (result.exit_code, result.stdout) == (0, "imported 4, updated 0, removed 0, skipped 0\n")
    assert rows(store, *COLUMNS, "params.f1") == [
        {**row, "params.f1": conf["f1"]}
        for row, conf in zip(expected(metrics=False), NAKLAR, strict=True)
    ]
    assert not (store / "1" / "summary.json").exists()


@pytest.mark.parametrize("file_name", ["conf.pkl", "conf.jbl"])
def test_pickles_are_refused_without_allow_pickle(trees, tmp_path, file_name):
    store = tmp_path / "runs"
    result = run_import(store, trees["naklar"], "--settings", file_name)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: refusing to load {file_name}: unpickling runs code stored in the file; "
        f"pass --allow-pickle if you trust every file under {trees['naklar'].resolve()}\n"
    )
    assert not store.exists()


def test_allow_pickle_is_explained_in_the_help():
    result = run_import(Path("unused"), "--help")
    assert "--allow-pickle" in result.stdout
    assert "Unpickling runs code stored in the file" in " ".join(result.stdout.split())


@pytest.mark.parametrize("file_name", ["conf.pkl", "conf.jbl"])
def test_pickles_and_joblib_dumps_load_with_allow_pickle(trees, tmp_path, file_name):
    store = tmp_path / "runs"
    result = run_import(
        store, trees["naklar"], "--settings", file_name, "--allow-pickle", "--metric", "f1"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 4, updated 0, removed 0, skipped 0\n",
        "",
    )
    assert rows(store, *COLUMNS, "params.results", "metrics.f1") == [
        {**row, "params.results": "ndarray(shape=(150,), dtype=int64)", "metrics.f1": conf["f1"]}
        for row, conf in zip(expected(metrics=False), NAKLAR, strict=True)
    ]


def test_a_load_function_reads_any_file(trees, tmp_path, monkeypatch):
    (tmp_path / "loaders.py").write_text(
        textwrap.dedent(
            """
            import json

            def load(path):
                conf = json.loads(path.read_text())
                return {"kernel": conf["kernel"], "C": conf["C"], "source": path.name}

            def broken(path):
                raise RuntimeError("cannot read " + path.parent.name)
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "runs"
    result = run_import(
        store, trees["naklar"], "--settings", "conf.json", "--load-func", "loaders:load"
    )
    assert (result.exit_code, result.stdout) == (0, "imported 4, updated 0, removed 0, skipped 0\n")
    assert rows(store, "params.kernel", "params.C", "params.source")[0] == {
        "params.kernel": "linear",
        "params.C": 0.001,
        "params.source": "conf.json",
    }
    other = tmp_path / "other"
    failed = run_import(
        other, trees["naklar"], "--settings", "conf.json", "--load-func", "loaders.py:broken"
    )
    assert failed.exit_code == 0
    assert failed.stdout == "imported 0, updated 0, removed 0, skipped 4 (4 load function failed)\n"
    assert failed.stderr.splitlines()[0] == (
        f"warning: {trees['naklar'].resolve()}/0/conf.json: load function failed "
        "(RuntimeError: cannot read 0)"
    )
    missing = run_import(
        other, trees["naklar"], "--settings", "conf.json", "--load-func", "loaders:nope"
    )
    assert (missing.exit_code, missing.stderr) == (
        2,
        "error: --load-func 'loaders:nope': loaders has no function 'nope'\n",
    )


def test_damaged_settings_are_one_warning_each_and_the_import_goes_on(copy_tree, tmp_path):
    root = copy_tree("naklar")
    (root / "4").mkdir()
    (root / "4" / "conf.json").write_text('{"kernel": "rbf", "C": ')
    (root / "5").mkdir()
    (root / "5" / "conf.json").write_text("[1, 2]")
    (root / "6").mkdir()
    (root / "6" / "conf.json").write_bytes(b"\xff\xfe{}")
    store = tmp_path / "runs"
    result = run_import(store, root, "--settings", "conf.json")
    assert result.exit_code == 0
    assert result.stdout == (
        "imported 4, updated 0, removed 0, skipped 3 (2 malformed JSON, 1 not a dict)\n"
    )
    assert result.stderr == (
        f"warning: {root}/4/conf.json: malformed JSON "
        "(line 1 column 24: Expecting value)\n"
        f"warning: {root}/5/conf.json: not a dict (holds a list)\n"
        f"warning: {root}/6/conf.json: malformed JSON "
        "(not UTF-8 text: invalid start byte)\n"
    )
    assert [r["name"] for r in rows(store, "name")] == ["0", "1", "2", "3"]
    # Mended, the folder comes in on the next import; the others are left as they were.
    (root / "4" / "conf.json").write_text('{"kernel": "rbf", "C": 4}')
    again = run_import(store, root, "--settings", "conf.json")
    assert again.stdout == (
        "imported 1, updated 0, removed 0, skipped 2 (1 malformed JSON, 1 not a dict); "
        "4 unchanged\n"
    )


def test_damaged_yaml_and_pickles_are_warnings_too(copy_tree, tmp_path):
    root = copy_tree("naklar")
    (root / "0" / "conf.yaml").write_text("kernel: rbf\nC: [1, 2\n")
    (root / "1" / "conf.pkl").write_bytes(b"not a pickle at all")
    (root / "2" / "conf.pkl").write_bytes(pickle.dumps(["a", "list"]))
    store = tmp_path / "runs"
    yaml_result = run_import(store, root, "--settings", "conf.yaml")
    assert yaml_result.stdout == (
        "imported 3, updated 0, removed 0, skipped 1 (1 malformed YAML)\n"
    )
    assert yaml_result.stderr == (
        f"warning: {root}/0/conf.yaml: malformed YAML "
        "(line 3: expected ',' or ']', but got '<stream end>')\n"
    )
    pickles = run_import(tmp_path / "pickles", root, "--settings", "conf.pkl", "--allow-pickle")
    assert pickles.stdout == (
        "imported 2, updated 0, removed 0, skipped 2 (1 not a dict, 1 unreadable pickle)\n"
    )
    assert pickles.stderr == (
        f"warning: {root}/1/conf.pkl: unreadable pickle "
        "(UnpicklingError: invalid load key, 'n'.)\n"
        f"warning: {root}/2/conf.pkl: not a dict (holds a list)\n"
    )


def test_the_library_warns_and_reports_what_it_skipped(copy_tree, tmp_path):
    root = copy_tree("naklar")
    (root / "3" / "conf.json").write_text("{")
    with pytest.warns(runlab.importers.SourceWarning, match="3/conf.json: malformed JSON"):
        report = runlab.import_tree(root, tmp_path / "runs", settings="conf.json")
    assert (report.imported, report.updated, report.removed, report.unchanged) == (3, 0, 0, 0)
    assert [(s.source, s.kind) for s in report.skipped] == [(root / "3", "malformed JSON")]
    assert report.summary_line() == (
        "imported 3, updated 0, removed 0, skipped 1 (1 malformed JSON)"
    )
