"""Atomic JSON, append-only metrics, and readers that survive what a crash leaves."""

from __future__ import annotations

import json
import os
import stat
import threading
from enum import IntEnum
from pathlib import Path

import pytest
from record_helpers import read_json

import runlab
from runlab.record import files
from runlab.record.files import (
    RecordWarning,
    atomic_write_json,
    atomic_write_text,
    iter_jsonl,
)
from runlab.record.reader import RunReader


def test_atomic_write_json_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    atomic_write_json(path, {"b": [1, 2.5, None], "a": "é", "nan": float("nan")})
    assert path.read_text(encoding="utf-8").endswith("}\n")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["b"] == [1, 2.5, None] and data["a"] == "é" and data["nan"] != data["nan"]
    assert os.listdir(tmp_path) == ["run.json"]


def test_atomic_write_gets_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    atomic_write_json(path, {})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_temp_file_left_by_a_crash_does_not_pass_on_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    stale = tmp_path / f".run.json.{os.getpid()}.{threading.get_ident()}.tmp"
    stale.write_text("half a reco")
    stale.chmod(0o600)
    atomic_write_json(path, {"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert read_json(path) == {"a": 1}
    assert os.listdir(tmp_path) == ["run.json"]


class _Level(IntEnum):
    HIGH = 2


def test_each_top_level_value_is_written_as_json_writes_it(tmp_path: Path) -> None:
    data = {
        "f": 0.1,
        "big": 1e300,
        "neg0": -0.0,
        "i": -(10**30),
        "t": True,
        "n": None,
        "s": 'é "q" \n \u2028',
        "nan": float("nan"),
        "inf": float("-inf"),
        "level": _Level.HIGH,  # an int subclass: written as the encoder writes it
        "nested": {"a": [1, 2.5]},
        3: "a key that is not a string",
    }
    text = files.dumps(data)
    lines = text.split("\n")  # not splitlines(): U+2028 is written raw, as json does
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(data) + 2
    encode = json.JSONEncoder(ensure_ascii=False).encode
    assert lines[1:-1] == [
        f"  {encode(str(k))}: {encode(v)},"
        if i < len(data) - 1
        else f"  {encode(str(k))}: {encode(v)}"
        for i, (k, v) in enumerate(data.items())
    ]


def test_a_failed_write_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.json"
    atomic_write_json(path, {"acc": 0.5})

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_text(path, '{"acc": 0.9}')
    assert read_json(path) == {"acc": 0.5}
    assert os.listdir(tmp_path) == ["summary.json"]


def test_unserialisable_data_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    atomic_write_json(path, {"a": 1})
    atomic_write_json(path, {"obj": object()})  # stored as its repr, never half a file
    assert read_json(path)["obj"].startswith("<object object at ")
    assert os.listdir(tmp_path) == ["run.json"]


def _finished_run(store: Path, **kw: object) -> runlab.Run:
    with runlab.start({"p": 1}, store=store, capture=False, git=False, **kw) as run:
        for step in range(3):
            run.log(step=step, loss=1.0 / (step + 1))
    return run


def test_metrics_are_appended_one_line_per_log_call(tmp_path: Path) -> None:
    run = _finished_run(tmp_path / "runs")
    lines = (run.dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["step"], r["loss"]) for r in records] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert all(set(r) == {"step", "time", "loss"} for r in records)
    assert all(isinstance(r["time"], float) for r in records)


def test_a_torn_last_metrics_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    run = _finished_run(tmp_path / "runs")
    with (run.dir / "metrics.jsonl").open("a") as f:
        f.write('{"step": 3, "time": 1.0, "lo')  # the writer died mid-line
    with pytest.warns(RecordWarning, match=r"metrics\.jsonl:4: torn or damaged line skipped"):
        frame = RunReader(run.dir).metrics()
    assert frame["step"].tolist() == [0, 1, 2]
    assert frame["loss"].tolist() == [1.0, 0.5, 1 / 3]


def test_a_resumed_run_appends_after_a_torn_line_without_losing_points(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    run = _finished_run(store, run_id="r")
    with (run.dir / "metrics.jsonl").open("a") as f:
        f.write('{"step": 3, "ti')  # killed mid-write
    with runlab.start({"p": 1}, store=store, run_id="r", capture=False, git=False) as again:
        again.log(step=3, loss=0.25)
        again.log(step=4, loss=0.2)
    with pytest.warns(RecordWarning, match="torn or damaged line skipped"):
        frame = RunReader(again.dir).metrics()
    assert frame["step"].tolist() == [0, 1, 2, 3, 4]
    assert frame["loss"].tolist() == [1.0, 0.5, 1 / 3, 0.25, 0.2]


def test_blank_and_non_object_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 0}\n\n[1, 2]\n{"step": 1}\n')
    assert list(iter_jsonl(path)) == [{"step": 0}, {"step": 1}]
    assert list(iter_jsonl(tmp_path / "missing.jsonl")) == []


def test_a_truncated_summary_reads_as_empty_with_a_warning(tmp_path: Path) -> None:
    with runlab.start({}, store=tmp_path / "runs", capture=False, git=False) as run:
        run.summary(acc=0.93, loss=0.1)
    text = (run.dir / "summary.json").read_text()
    (run.dir / "summary.json").write_text(text[: len(text) // 2])
    with pytest.warns(RecordWarning, match=r"summary\.json: unreadable JSON"):
        assert RunReader(run.dir).summary == {}


def test_reader_reads_back_what_the_run_wrote(tmp_path: Path) -> None:
    with runlab.start(
        {"lr": 0.1}, store=tmp_path / "runs", name="n", tags={"k": "v"}, capture=False, git=False
    ) as run:
        run.log(step=0, loss=2.0)
        run.summary(acc=0.5)
        run.save({"w": [1, 2]}, "weights")
    reader = RunReader(run.dir)
    assert reader.id == "1"
    assert reader.name == "n"
    assert reader.tags == {"k": "v"}
    assert reader.params == {"lr": 0.1}
    assert reader.defaults == {}
    assert reader.summary == {"acc": 0.5, "loss": 2.0}  # the last logged value joins it
    assert reader.metrics()["loss"].tolist() == [2.0]
    assert reader.load("weights") == {"w": [1, 2]}
    assert reader.stdout == reader.stderr == reader.error == reader.git_diff == ""
    assert reader.record == read_json(run.dir / "run.json")
    assert repr(reader) == f"<RunReader 1 completed {run.dir}>"


def test_a_folder_without_files_reads_as_empty(tmp_path: Path) -> None:
    reader = RunReader(tmp_path)
    assert reader.record == {} and reader.params == {} and reader.summary == {}
    assert reader.metrics().columns.tolist() == ["step", "time"]
    assert reader.status is runlab.RunStatus.LOST
