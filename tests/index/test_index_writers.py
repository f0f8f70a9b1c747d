"""Every writer of an indexed file is seen by ``runlab index`` without reading file mtimes.

``Index.rescan`` compares only each run folder's own mtime. That holds because every
writer of ``run.json``, ``params.json`` and ``summary.json`` replaces the file by a
rename inside the folder (which moves the folder's mtime), and ``runlab note``, which
appends to ``notes.md`` in place, drops a ``.changed`` marker. Each test here indexes a
run, sets its folder's mtime far back (so a write in the same clock tick still shows),
throws the change markers away (a marker lost, or never dropped by hand), lets one
writer change the run, and checks that a rescan sees the change.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import runlab
from runlab.importers.writer import remove_run
from runlab.query.annotate import add_note, set_tags
from runlab.record.parsers import write_values
from runlab.store import Store

OLD = 1_000_000_000.0  # 2001: older than any write a test makes


def record(root: Path, params: dict, summary: dict | None = None) -> str:
    with runlab.start(params, store=root, capture=False, git=False) as run:
        if summary:
            run.summary(summary)
    return run.id


def row(store: Store, run_id: str) -> dict | None:
    """The index row of a run, bookkeeping columns (``_mtime``) included."""
    index = store.index(refresh=False)
    with index.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT * FROM runs WHERE id = ?", (run_id,)).first()
    return None if found is None else dict(found._mapping)


def settle(store: Store, run_id: str) -> None:
    """Index the run with an old folder mtime, and leave no change marker behind."""
    store.index()
    os.utime(store.layout.run_dir(run_id).path, (OLD, OLD))
    store.index(refresh=False).rescan()
    assert row(store, run_id)["_mtime"] == OLD
    shutil.rmtree(store.layout.changed_dir, ignore_errors=True)


def markers(store: Store) -> list[str]:
    try:
        return sorted(os.listdir(store.layout.changed_dir))
    except FileNotFoundError:
        return []


@pytest.fixture
def store(tmp_path: Path) -> Store:
    root = tmp_path / "runs"
    record(root, {"lr": 0.1}, {"acc": 0.5})
    settle(Store.at(root), "1")
    return Store.at(root)


def rescan_sees(store: Store, run_id: str, write: Callable[[], object]) -> dict:
    """Run ``write`` with no marker to rely on; the rescan must re-read the run."""
    write()
    shutil.rmtree(store.layout.changed_dir, ignore_errors=True)
    assert os.stat(store.layout.run_dir(run_id).path).st_mtime != OLD
    assert store.index(refresh=False).rescan() >= 1
    found = row(store, run_id)
    assert found is not None
    return found


def test_run_summary_and_finish_move_the_folder_mtime(tmp_path):
    root = tmp_path / "runs"
    store = Store.at(root)
    with runlab.start({"lr": 0.1}, store=root, capture=False, git=False) as run:
        settle(store, run.id)
        assert row(store, run.id)["status"] == "running"
        got = rescan_sees(store, run.id, lambda: run.summary(acc=0.9))
        assert got["metrics.acc"] == 0.9
        settle(store, run.id)
    shutil.rmtree(store.layout.changed_dir, ignore_errors=True)
    assert store.index(refresh=False).rescan() == 1
    assert row(store, run.id)["status"] == "completed"


def test_set_tags_moves_the_folder_mtime(store):
    got = rescan_sees(store, "1", lambda: set_tags(store, 1, {"team": "x"}))
    assert got["tags.team"] == "x"


def test_parsed_values_move_the_folder_mtime(store):
    got = rescan_sees(store, "1", lambda: write_values(store.layout.run_dir("1"), {"f1": 0.7}))
    assert (got["metrics.f1"], got["metrics.acc"]) == (0.7, 0.5)


def test_a_note_appends_in_place_then_moves_the_folder_mtime(store):
    notes = store.layout.run_dir("1").path / "notes.md"
    notes.write_text("first\n")  # the first note creates the file: that moves the folder
    settle(store, "1")
    rescan_sees(store, "1", lambda: add_note(store, 1, "diverged after epoch 40"))
    assert runlab.load(store.root).search("diverged").ids() == ["1"]


def test_a_note_drops_a_marker_too(store):
    add_note(store, 1, "diverged after epoch 40")
    assert markers(store) == ["1"]
    store.index()  # what ls and load do first: ingest the marked runs
    assert markers(store) == []
    assert runlab.load(store.root).search("diverged").ids() == ["1"]


def test_a_reimported_run_moves_the_folder_mtime(tmp_path):
    source = tmp_path / "tree"
    (source / "a").mkdir(parents=True)
    conf = source / "a" / "conf.json"
    conf.write_text(json.dumps({"lr": 0.1, "acc": 0.5}))
    root = tmp_path / "runs"
    runlab.import_tree(source, root, settings="conf.json", metrics=["acc"])
    store = Store.at(root)
    settle(store, "1")
    conf.write_text(json.dumps({"lr": 0.1, "acc": 0.75}))
    os.utime(conf, (OLD + 10, OLD + 10))  # a new stamp, whatever the clock's tick
    got = rescan_sees(
        store, "1", lambda: runlab.import_tree(source, root, settings="conf.json", metrics=["acc"])
    )
    assert got["metrics.acc"] == 0.75


def test_a_removed_run_leaves_the_index(store):
    remove_run(store.layout, "1")
    shutil.rmtree(store.layout.changed_dir, ignore_errors=True)
    assert store.index(refresh=False).rescan() == 1
    assert row(store, "1") is None


def test_a_folder_without_run_json_is_no_run(store):
    (store.root / "7").mkdir()  # a claim whose run.json is not written yet
    assert store.index(refresh=False).rescan() == 0
    assert row(store, "7") is None
    os.unlink(store.layout.run_dir("1").run_json)
    assert store.index(refresh=False).rescan() == 1
    assert row(store, "1") is None
