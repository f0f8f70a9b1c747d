"""What `runlab import` refuses: one line naming the value at fault, exit 2, nothing written."""

from __future__ import annotations

import pytest
from import_trees import run_import

import runlab


@pytest.mark.parametrize(
    "args,message",
    [
        ((), "say what to import: --settings FILE (naklar trees) or --format NAME"),
        (
            ("--settings", "conf.json", "--format", "meticulous"),
            "give --settings FILE or --format NAME, not both",
        ),
        (
            ("--format", "meticulous", "--load-func", "x:y"),
            "--load-func reads a settings file: give --settings FILE too",
        ),
        (
            ("--format", "alchemie", "--name-format", "{a}"),
            "--name-format reads pymake file names: use it with --format pymake",
        ),
        (
            ("--format", "pymake", "--name-format", "{a}_{a}"),
            "--name-format '{a}_{a}': field {a} is repeated",
        ),
        (
            ("--format", "pymake", "--name-format", "plain"),
            "--name-format 'plain': no {field} in it",
        ),
        (
            ("--settings", "conf.txt"),
            "--settings 'conf.txt': unknown kind of file (use .json, .yaml, .yml, .pkl, "
            ".pickle, .pk, .jbl, .joblib, or read it with --load-func module:function)",
        ),
        (
            ("--settings", "sub/conf.json"),
            "--settings 'sub/conf.json': give a file name (conf.json), not a path",
        ),
        (
            ("--settings", "conf.json", "--load-func", "nowhere_at_all:load"),
            "--load-func 'nowhere_at_all:load': no module named 'nowhere_at_all'",
        ),
    ],
)
def test_bad_options_are_one_line(trees, tmp_path, args, message):
    store = tmp_path / "runs"
    result = run_import(store, trees["naklar"], *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")
    assert not store.exists()


def test_an_unknown_format_is_refused_by_click(trees, tmp_path):
    result = run_import(tmp_path / "runs", trees["naklar"], "--format", "sacred")
    assert result.exit_code == 2
    assert "'sacred' is not one of 'meticulous', 'mlrunner', 'pymake', 'alchemie'" in result.stderr


def test_a_missing_tree_or_one_inside_the_store_is_refused(trees, tmp_path):
    store = tmp_path / "runs"
    missing = run_import(store, tmp_path / "nowhere", "--format", "meticulous")
    assert (missing.exit_code, missing.stderr) == (
        2,
        f"error: cannot import {str(tmp_path / 'nowhere')!r}: it does not exist\n",
    )
    run_import(store, trees["alchemie"], "--format", "alchemie")
    inside = run_import(store, store / "1", "--format", "alchemie")
    assert (inside.exit_code, inside.stderr) == (
        2,
        f"error: cannot import {store.resolve() / '1'}: it is inside the store {store.resolve()}\n",
    )


def test_into_names_the_store(trees, tmp_path):
    store = tmp_path / "elsewhere"
    result = run_import(
        tmp_path / "unused", trees["alchemie"], "--format", "alchemie", "--into", store
    )
    assert result.stdout == "imported 3, updated 0, removed 0, skipped 0\n"
    assert len(runlab.load(store)) == 3
    assert not (tmp_path / "unused").exists()


def test_import_tree_is_public_and_refuses_bad_input_the_same_way(trees, tmp_path):
    assert "import_tree" in runlab.__all__
    with pytest.raises(runlab.UsageError, match="say what to import"):
        runlab.import_tree(trees["naklar"], tmp_path / "runs")
    report = runlab.import_tree(
        trees["naklar"], tmp_path / "runs", settings="conf.json", dry_run=True
    )
    assert report.summary_line() == "dry run: would import 4, update 0, remove 0, skip 0"
    assert not (tmp_path / "runs").exists()


def test_a_store_that_cannot_be_written_is_one_line(trees, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_import(blocker / "runs", trees["alchemie"], "--format", "alchemie")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: cannot create the store {blocker / 'runs'}: Not a directory\n"
    )
