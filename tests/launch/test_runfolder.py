"""Who may run a config: a new folder's mkdir is its claim, an existing folder's is ``.claim``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runlab.launch.runfolder import CLAIM_FILE, Outcome, claim, close_attempt, open_attempt
from runlab.record.files import atomic_write_json, dumps, read_json
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.status import LOST_AFTER_SECONDS, RunStatus


def _open(layout: StoreLayout, run_id: str = "r", **options: Any) -> tuple[RunDir, dict] | None:
    options.setdefault("template", ("main",))
    options.setdefault("selected", ("main",))
    return open_attempt(
        layout, run_id, {"x": 1}, key="k", name=run_id, sweep="s", command=["true"], **options
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def layout(tmp_path: Path) -> StoreLayout:
    return StoreLayout(tmp_path / "runs")


def test_a_new_run_needs_no_claim_file_and_records_its_first_step_running(layout):
    opened = _open(layout)
    assert opened is not None
    run_dir, record = opened
    files = set(os.listdir(run_dir.path)) - {"git.diff"}  # (when the tests run in a dirty tree)
    assert files == {"params.json", "run.json"}
    on_disk = read_json(run_dir.run_json)
    assert on_disk["status"] == "running" and on_disk["pid"] == os.getpid()
    assert on_disk["commands"] == {"main": {"status": "running", "exit_code": None, "attempt": 1}}
    assert read_json(run_dir.params_json) == {"x": 1}
    close_attempt(layout, run_dir, record, Outcome(RunStatus.COMPLETED, 0), time.time())
    assert read_json(run_dir.run_json)["status"] == "completed"
    assert not (run_dir.path / CLAIM_FILE).exists()


def test_a_folder_a_live_launcher_is_running_is_left_to_it(layout):
    opened = _open(layout)
    assert opened is not None
    assert _open(layout) is None  # same host, the recorded pid (this process) is alive
    assert not (opened[0].path / CLAIM_FILE).exists()  # backing off gave its claim up


def test_a_running_record_whose_launcher_died_is_run_again(layout):
    run_dir, record = _open(layout) or pytest.fail("not opened")
    atomic_write_json(run_dir.run_json, {**record, "pid": _dead_pid()})
    again = _open(layout)
    assert again is not None
    assert again[1]["attempt"] == 2
    assert (run_dir.path / CLAIM_FILE).exists()  # a re-entered folder is held by .claim
    close_attempt(layout, run_dir, again[1], Outcome(RunStatus.COMPLETED, 0), time.time())
    assert not (run_dir.path / CLAIM_FILE).exists()


def test_a_folder_without_a_record_is_being_created_until_a_minute_has_passed(layout):
    folder = layout.root / "r"
    folder.mkdir(parents=True)
    assert _open(layout) is None  # its creator is writing run.json right now
    old = time.time() - LOST_AFTER_SECONDS - 5
    os.utime(folder, (old, old))
    opened = _open(layout)
    assert opened is not None and opened[1]["attempt"] == 1  # left by a crash: taken over


def test_the_owner_of_a_new_folder_never_removes_another_launchers_claim(layout):
    run_dir, record = _open(layout) or pytest.fail("not opened")
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from runlab.launch.runfolder import claim;"
            "from runlab.record.layout import RunDir; print(claim(RunDir(Path(sys.argv[1]))))",
            str(run_dir.path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == "True"  # (it exited: its claim is stale from now on)
    close_attempt(layout, run_dir, record, Outcome(RunStatus.COMPLETED, 0), time.time())
    assert json.loads((run_dir.path / CLAIM_FILE).read_text())["pid"] != os.getpid()
    assert claim(run_dir)  # a dead owner's claim is taken over as before


def test_a_failure_while_opening_a_new_folder_leaves_nothing(layout):
    layout.root.mkdir()
    with pytest.raises(ValueError):  # two commands selected, one command line given
        _open(layout, template=("a", "b"), selected=("a", "b"))
    assert os.listdir(layout.root) == []


def test_a_new_runs_files_are_written_as_the_atomic_writer_writes_them(layout):
    run_dir, record = _open(layout, params_hash="h") or pytest.fail("not opened")
    # params.json is written in place in the new folder, before run.json appears
    assert (run_dir.path / "params.json").read_text() == dumps({"x": 1}) + "\n"
    assert (run_dir.path / "run.json").read_text() == dumps(record) + "\n"
    assert (layout.changed_dir / "r").exists()
    os.unlink(layout.changed_dir / "r")  # as the index takes it
    final = close_attempt(layout, run_dir, record, Outcome(RunStatus.FAILED, 3, "boom"), 0.0)
    assert (run_dir.path / "run.json").read_text() == dumps(final) + "\n"
    assert final["status"] == "failed" and final["exit_code"] == 3 and final["error"] == "boom"
    report = (run_dir.path / "reports" / "1.json").read_text()
    assert (
        report
        == dumps(
            {"attempt": 1, "status": "failed", "final": False, "end": final["end"], "summary": {}}
        )
        + "\n"
    )
    assert (layout.changed_dir / "r").exists()  # the outcome is marked for the index again
    left = set(os.listdir(run_dir.path)) - {"git.diff"}
    assert left == {"params.json", "run.json", "reports", "error.txt"}


def test_a_summary_the_task_wrote_reaches_the_report(layout):
    run_dir, record = _open(layout) or pytest.fail("not opened")
    atomic_write_json(run_dir.summary_json, {"acc": 0.9})
    close_attempt(layout, run_dir, record, Outcome(RunStatus.COMPLETED, 0), time.time())
    assert read_json(run_dir.path / "reports" / "1.json")["summary"] == {"acc": 0.9}


def test_a_re_entered_folder_replaces_its_params_and_keeps_its_reports(layout):
    run_dir, record = _open(layout) or pytest.fail("not opened")
    close_attempt(layout, run_dir, record, Outcome(RunStatus.FAILED, 1), time.time())
    atomic_write_json(run_dir.params_json, {"x": "old"})
    again = _open(layout)  # a failed run runs again, in the folder that holds its params
    assert again is not None and again[1]["attempt"] == 2
    assert read_json(run_dir.params_json) == {"x": 1}
    close_attempt(layout, run_dir, again[1], Outcome(RunStatus.COMPLETED, 0), time.time())
    assert sorted(os.listdir(run_dir.path / "reports")) == ["1.json", "2.json"]
    assert [n for n in os.listdir(run_dir.path) if n.endswith(".tmp")] == []
