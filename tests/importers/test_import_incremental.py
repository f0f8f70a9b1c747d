"""Importing again: new folders come in, changed ones are re-read, gone ones leave, once each."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from import_trees import meticulous_experiment, rows, run_import, run_json

import runlab


def mtimes(store: Path) -> dict[str, int]:
    """Every file of every run folder with its mtime: what an unchanged import must not touch."""
    return {
        str(p.relative_to(store)): p.stat().st_mtime_ns
        for p in store.glob("[0-9]*/**/*")
        if p.is_file()
    }


def sources(store: Path) -> list[tuple[str, str]]:
    return sorted(
        (p.parent.name, json.loads(p.read_text()).get("imported_from", ""))
        for p in store.glob("*/run.json")
    )


def test_reimport_adds_updates_removes_and_never_duplicates(copy_tree, tmp_path):
    root = copy_tree("meticulous")
    store = tmp_path / "runs"
    first = run_import(store, root, "--format", "meticulous")
    assert first.stdout == "imported 5, updated 0, removed 0, skipped 0\n"
    before = mtimes(store)

    again = run_import(store, root, "--format", "meticulous")
    assert (again.exit_code, again.stdout, again.stderr) == (
        0,
        "imported 0, updated 0, removed 0, skipped 0; 5 unchanged\n",
        "",
    )
    assert mtimes(store) == before

    meticulous_experiment(root, "11", {"batch_size": 8, "lr": 0.01, "epochs": 1}, "SUCCESS")
    shutil.rmtree(root / "3")
    summary = root / "1" / "summary.json"
    summary.write_text(json.dumps({"loss": 0.125, "accuracy": 0.95}))
    os.utime(summary, (time.time(), time.time()))

    plan = run_import(store, root, "--format", "meticulous", "--dry-run")
    assert plan.stdout == (
        f"update  {root}/1 (run 1)\n"
        f"import  {root}/11\n"
        f"remove  {root}/3 (run 3)\n"
        "dry run: would import 1, update 1, remove 1, skip 0; 3 unchanged\n"
    )
    assert mtimes(store) == before

    done = run_import(store, root, "--format", "meticulous")
    assert done.stdout == "imported 1, updated 1, removed 1, skipped 0; 3 unchanged\n"
    assert rows(store, "id", "name", "metrics.loss", "metrics.accuracy") == [
        {"id": "1", "name": "1", "metrics.loss": 0.125, "metrics.accuracy": 0.95},
        {"id": "2", "name": "2", "metrics.loss": None, "metrics.accuracy": None},
        {"id": "4", "name": "4", "metrics.loss": None, "metrics.accuracy": None},
        {"id": "5", "name": "10", "metrics.loss": None, "metrics.accuracy": None},
        {"id": "6", "name": "11", "metrics.loss": None, "metrics.accuracy": None},
    ]
    assert not (store / "3").exists()
    assert sources(store) == [
        ("1", f"{root}/1"),
        ("2", f"{root}/2"),
        ("4", f"{root}/4"),
        ("5", f"{root}/10"),
        ("6", f"{root}/11"),
    ]
    final = run_import(store, root, "--format", "meticulous")
    assert final.stdout == "imported 0, updated 0, removed 0, skipped 0; 5 unchanged\n"


def test_an_update_drops_what_the_source_no_longer_has_and_keeps_tags(copy_tree, tmp_path):
    root = copy_tree("meticulous")
    store = tmp_path / "runs"
    run_import(store, root, "--format", "meticulous")
    record = run_json(store, "2")
    record["tags"] = {"reviewed": True}
    (store / "2" / "run.json").write_text(json.dumps(record))
    status = root / "2" / "STATUS"
    status.write_text("SUCCESS")
    (root / "2" / "summary.json").write_text('{"loss": 9.5}')
    result = run_import(store, root, "--format", "meticulous")
    assert result.stdout == "imported 0, updated 1, removed 0, skipped 0; 4 unchanged\n"
    assert not (store / "2" / "error.txt").exists()
    assert rows(store, "id", "status", "message", "metrics.loss", "tags.reviewed")[1] == {
        "id": "2",
        "status": "completed",
        "message": None,
        "metrics.loss": 9.5,
        "tags.reviewed": True,
    }


def test_an_update_keeps_what_came_from_elsewhere(copy_tree, tmp_path):
    root = copy_tree("mlrunner")
    store = tmp_path / "runs"
    run_import(store, root, "--format", "mlrunner")
    assert run_json(store, "3")["imported_files"] == ["logs/test.log", "logs/train.log"]
    (store / "3" / "summary.json").write_text('{"bleu": 11.0}')  # as `runlab parse` does
    log = root / "Norm_new-Moment_0.1" / "log.test.20220316.030151"
    log.write_text("BLEU4 = 11.50\n")
    (root / "Norm_new-Moment_0.1" / "log.train.20220316.030151").unlink()
    result = run_import(store, root, "--format", "mlrunner")
    assert result.stdout == "imported 0, updated 1, removed 0, skipped 0; 3 unchanged\n"
    assert (store / "3" / "logs" / "test.log").read_text() == "BLEU4 = 11.50\n"
    # The older train log is the newest one now.
    assert (store / "3" / "logs" / "train.log").read_text() == "Iter 1: loss=9.0\n"
    assert json.loads((store / "3" / "summary.json").read_text()) == {"bleu": 11.0}


def test_reading_differently_rereads_every_folder(trees, tmp_path):
    store = tmp_path / "runs"
    run_import(store, trees["naklar"], "--settings", "conf.json")
    result = run_import(store, trees["naklar"], "--settings", "conf.json", "--metric", "f1")
    assert result.stdout == "imported 0, updated 4, removed 0, skipped 0\n"
    frame = runlab.load(store).df()
    assert "params.f1" not in frame.columns
    assert list(frame["metrics.f1"]) == [0.76, 0.8000000000000002, 0.82, 0.8266666666666667]


def test_only_runs_imported_from_this_tree_in_this_format_can_leave(trees, copy_tree, tmp_path):
    store = tmp_path / "runs"
    with runlab.start({"lr": 0.1}, store=store, capture=False, git=False) as own:
        own.summary(acc=0.5)
    run_import(store, trees["alchemie"], "--format", "alchemie")
    root = copy_tree("naklar")
    run_import(store, root, "--settings", "conf.json")
    for folder in root.iterdir():
        if folder.is_dir():
            shutil.rmtree(folder)
    result = run_import(store, root, "--settings", "conf.json")
    assert result.stdout == "imported 0, updated 0, removed 4, skipped 0\n"
    assert [(r["id"], r["name"]) for r in rows(store, "id", "name")] == [
        ("1", "1"),
        ("2", "0"),
        ("3", "1"),
        ("4", "2"),
    ]
    # Importing a sub-folder of an imported tree removes nothing outside that sub-folder.
    sub = run_import(store, trees["alchemie"] / "1", "--format", "alchemie")
    assert sub.stdout == "imported 0, updated 0, removed 0, skipped 0; 1 unchanged\n"


def test_duplicates_left_by_two_imports_at_once_are_removed(trees, tmp_path):
    store = tmp_path / "runs"
    run_import(store, trees["alchemie"], "--format", "alchemie")
    shutil.copytree(store / "2", store / "9")
    result = run_import(store, trees["alchemie"], "--format", "alchemie")
    assert result.stdout == "imported 0, updated 0, removed 1, skipped 0; 3 unchanged\n"
    assert runlab.load(store).ids() == ["1", "2", "3"]
    assert not (store / "9").exists()


def test_stores_inside_the_tree_are_not_imported(copy_tree):
    root = copy_tree("naklar")
    other = root / "old_runs"  # another runlab store, with its index
    with runlab.start({"kernel": "poly"}, store=other, capture=False, git=False):
        pass
    assert len(runlab.load(other)) == 1
    store = root / "runs"
    first = run_import(store, root, "--settings", "params.json")
    assert first.stdout == "imported 0, updated 0, removed 0, skipped 0\n"
    run_import(store, root, "--settings", "conf.json")
    again = run_import(store, root, "--settings", "params.json")
    assert again.stdout == "imported 0, updated 0, removed 0, skipped 0\n"
    assert len(runlab.load(store)) == 4


def test_the_library_reports_each_change(copy_tree, tmp_path):
    root = copy_tree("alchemie")
    store = tmp_path / "runs"
    report = runlab.import_tree(root, store, format="alchemie")
    assert [(c.action.value, c.source.name, c.run_id) for c in report.changes] == [
        ("import", "0", "1"),
        ("import", "1", "2"),
        ("import", "2", "3"),
    ]
    shutil.rmtree(root / "1")
    seen: list[tuple[int, int]] = []
    report = runlab.import_tree(root, store, format="alchemie", progress=lambda *a: seen.append(a))
    assert [(str(c.action), c.run_id) for c in report.changes] == [("remove", "2")]
    assert (report.unchanged, report.dry_run, seen) == (2, False, [(1, 2), (2, 2)])
