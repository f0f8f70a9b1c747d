"""The index follows the folders: markers, rescan, rebuild, types, lost runs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sqlalchemy as sa

import runlab
from runlab.index import Index
from runlab.record.files import read_json
from runlab.store import Store


def record(store, params, summary=None, **kwargs):
    with runlab.start(params, store=store, capture=False, git=False, **kwargs) as run:
        if summary:
            run.summary(summary)
    return run


def rows(index: Index) -> list[dict]:
    with index.engine.connect() as conn:
        result = conn.execute(sa.select(index.table()).order_by(sa.text("_seq IS NULL, _seq, id")))
        return [dict(r._mapping) for r in result]


@pytest.fixture
def store(tmp_path):
    return Store.at(tmp_path / "runs")


def test_marked_runs_are_ingested_and_markers_removed(store):
    record(store, {"lr": 0.1}, {"acc": 0.5})
    record(store, {"lr": 0.2}, {"acc": 0.7})
    index = store.index()
    got = [(r["id"], r["status"], r["params.lr"], r["metrics.acc"]) for r in rows(index)]
    assert got == [("1", "completed", 0.1, 0.5), ("2", "completed", 0.2, 0.7)]
    assert os.listdir(store.layout.changed_dir) == []
    assert index.column_names()[:14] == [
        "id",
        "name",
        "status",
        "start",
        "end",
        "duration",
        "exit_code",
        "git_sha",
        "git_dirty",
        "host",
        "description",
        "message",
        "attempt",
        "sweep",
    ]
    assert index.column_names()[14:] == ["params.lr", "metrics.acc"]


def test_incremental_and_full_rebuild_give_the_same_table(store):
    for i in range(5):
        record(store, {"i": i, "kind": "a" if i % 2 else "b"}, {"score": i / 3})
    index = store.index()
    record(store, {"i": 5, "extra": [1, 2]}, {"score": None}, tags={"team": "x"})
    index.refresh()
    incremental = rows(index)
    index.rebuild()
    assert rows(index) == incremental
    assert index.columns()["params.extra"] == ("params", frozenset({"json"}))
    assert incremental[-1]["params.extra"] == "[1, 2]"
    assert incremental[-1]["tags.team"] == "x"


def test_values_of_different_types_share_a_column(store):
    record(store, {"c": 1}, {"v": np.float32(0.5)})
    record(store, {"c": "high"}, {"v": np.int64(3)})
    record(store, {"c": True}, {"v": float("nan")})
    index = store.index()
    assert [r["params.c"] for r in rows(index)] == [1, "high", 1]
    assert index.columns()["params.c"][1] == frozenset({"int", "str", "bool"})
    assert [r["metrics.v"] for r in rows(index)] == [0.5, 3, None]
    assert index.columns()["metrics.v"][1] == frozenset({"float", "int"})


def test_nested_params_flatten_with_dots(store):
    record(store, {"optim": {"lr": 0.1, "name": "sgd"}, "layers": [64, 64]})
    row = rows(store.index())[0]
    assert row["params.optim.lr"] == 0.1
    assert row["params.optim.name"] == "sgd"
    assert row["params.layers"] == "[64, 64]"


def test_rescan_finds_copied_in_and_removed_folders(store, tmp_path):
    other = Store.at(tmp_path / "other")
    record(other, {"x": 1}, run_id="imported")
    record(store, {"x": 2})
    record(store, {"x": 3})
    index = store.index()
    shutil.copytree(other.root / "imported", store.root / "imported")
    shutil.rmtree(store.root / "2")
    assert [r["id"] for r in rows(index)] == ["1", "2"]
    assert index.rescan() == 2
    assert [r["id"] for r in rows(index)] == ["1", "imported"]


def test_rescan_rereads_a_folder_whose_file_was_replaced_by_hand(store):
    run = record(store, {"x": 1}, {"acc": 0.1})
    index = store.index()
    os.utime(run.dir, (1_000_000_000, 1_000_000_000))  # as if copied in with cp -a
    assert index.rescan() == 1
    summary = run.dir / "summary.json"
    (run.dir / "new.json").write_text('{"acc": 0.9}')
    os.replace(run.dir / "new.json", summary)  # how editors and runlab save a file
    assert index.rescan() == 1
    assert rows(index)[0]["metrics.acc"] == 0.9
    assert index.rescan() == 0


def test_a_file_edited_in_place_needs_the_full_rebuild(store):
    run = record(store, {"x": 1}, {"acc": 0.1})
    index = store.index()
    os.utime(run.dir, (1_000_000_000, 1_000_000_000))
    index.rescan()
    summary = run.dir / "summary.json"
    summary.write_text('{"acc": 0.9}')  # in place: the folder's mtime stays
    assert index.rescan() == 0
    assert rows(index)[0]["metrics.acc"] == 0.1
    index.rebuild()
    assert rows(index)[0]["metrics.acc"] == 0.9


def test_an_older_folder_mtime_is_a_change_too(store):
    run = record(store, {"x": 1}, {"acc": 0.1})
    index = store.index()
    (run.dir / "summary.json").write_text('{"acc": 0.3}')
    os.utime(run.dir, (1_000_000_000, 1_000_000_000))  # rsync -a of an older copy
    assert index.rescan() == 1
    assert rows(index)[0]["metrics.acc"] == 0.3


def test_a_claim_left_by_a_dead_reader_is_taken_over(store):
    record(store, {"x": 1})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    marker = store.layout.changed_dir / "1"
    os.rename(marker, store.layout.changed_dir / f"1@{socket.gethostname()}@{pid}.taken")
    assert rows(store.index())[0]["id"] == "1"
    assert os.listdir(store.layout.changed_dir) == []


def test_a_claim_of_a_live_reader_is_left_alone(store):
    record(store, {"x": 1})
    index = store.index()
    record(store, {"x": 2})
    marker = store.layout.changed_dir / "2"
    live = store.layout.changed_dir / f"2@{socket.gethostname()}@{os.getppid()}.taken"
    os.rename(marker, live)
    index.refresh()
    assert [r["id"] for r in rows(index)] == ["1"]
    assert live.exists()


def test_truncated_summary_warns_and_the_run_keeps_its_row(store):
    run = record(store, {"x": 1}, {"acc": 0.5})
    (run.dir / "summary.json").write_text('{"acc": 0.')
    store.layout.mark_changed(run.id)
    with pytest.warns(UserWarning, match="summary.json"):
        index = store.index()
    row = rows(index)[0]
    assert row["id"] == "1" and row["params.x"] == 1 and "metrics.acc" not in row


def test_killed_run_is_lost_in_the_index_without_an_end_time(store, tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time, runlab
        run = runlab.start({{"x": 1}}, store={str(store.root)!r}, capture=False, git=False)
        print("ready", flush=True)
        time.sleep(600)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    assert rows(store.index())[0]["status"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    row = rows(store.index())[0]
    assert row["status"] == "lost" and row["end"] is None
    assert read_json(store.root / "1" / "run.json")["status"] == "running"


def test_listing_a_missing_store_is_a_usage_error(tmp_path):
    with pytest.raises(runlab.UsageError, match="no store at"):
        Store.at(tmp_path / "nope").index()


def test_an_index_from_before_the_config_key_gets_it_from_its_own_columns(store):
    """Migration 0004 fills ``_config`` from the stored params: the keys ingest computes."""
    for params in ({"lr": 0.1, "seed": 0}, {"lr": 0.1, "seed": 1}, {"lr": 1.0, "flag": True}):
        record(store.root, params, {"acc": 0.5})
    index = Index(store.layout)
    index.refresh()
    ingested = {r["id"]: r["_config"] for r in rows(index)}
    assert ingested["1"] == ingested["2"] != ingested["3"]
    with index.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE runs DROP COLUMN _config")
        conn.exec_driver_sql("DELETE FROM migrations WHERE name = '0004_config'")
    index.close()
    migrated = Index(store.layout)
    assert {r["id"]: r["_config"] for r in rows(migrated)} == ingested
    table = runlab.load(store.root).groupby(over="params.seed").agg("acc", stats=["n"])
    assert table.rows() == [(True, 1.0, 1, 1), (None, 0.1, 2, 2)]
