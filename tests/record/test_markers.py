"""The index markers: a hard link to the run's record, so a run's end frees no inode."""

from __future__ import annotations

import os
from pathlib import Path

from runlab.record.files import atomic_write_json, read_json
from runlab.record.layout import StoreLayout
from runlab.store import Store


def test_a_marker_is_the_run_record_and_keeps_the_first_one_when_it_is_replaced(
    tmp_path: Path,
) -> None:
    layout = StoreLayout(tmp_path / "runs")
    run_dir = layout.run_dir("r1")
    run_dir.path.mkdir(parents=True)
    atomic_write_json(run_dir.run_json, {"status": "running"})
    first = os.stat(run_dir.run_json).st_ino
    layout.mark_changed("r1")  # a new store: .changed/ is made on the way
    marker = layout.changed_dir / "r1"
    assert os.stat(marker).st_ino == first

    atomic_write_json(run_dir.run_json, {"status": "completed"})
    layout.mark_changed("r1")  # marked already: the marker stays as it is
    assert os.stat(marker).st_ino == first != os.stat(run_dir.run_json).st_ino
    assert os.stat(marker).st_nlink == 1  # the first record's inode lives on, not freed
    assert read_json(run_dir.run_json) == {"status": "completed"}


def test_a_run_without_a_record_gets_an_empty_marker(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "runs")
    layout.mark_changed("imported")
    marker = layout.changed_dir / "imported"
    assert marker.is_file() and marker.stat().st_size == 0


def test_the_index_takes_linked_markers_and_reads_the_records_not_the_markers(
    tmp_path: Path,
) -> None:
    store = Store.at(tmp_path / "runs")
    layout = store.layout
    for run_id, status in (("a", "completed"), ("b", "failed")):
        run_dir = layout.run_dir(run_id)
        run_dir.path.mkdir(parents=True)
        atomic_write_json(run_dir.params_json, {"x": 1})
        atomic_write_json(run_dir.run_json, {"id": run_id, "status": "running"})
        layout.mark_changed(run_id)
        atomic_write_json(run_dir.run_json, {"id": run_id, "status": status})
    with store.index().engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, status FROM runs").all()
    assert sorted(rows) == [("a", "completed"), ("b", "failed")]
    assert os.listdir(layout.changed_dir) == []
