"""Statuses of real processes: exits, exceptions, Ctrl-C, SIGTERM, SIGKILL, heartbeats."""

from __future__ import annotations

import os
import signal
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from record_helpers import only_run, read_json

import runlab
from runlab.record.reader import RunReader
from runlab.record.status import LOST_AFTER_SECONDS, RunStatus

# One script for every ending; argv[1] is "with" or "bare" (no `with`: hooks.py finishes
# the run at interpreter exit), argv[2] the ending.
SCRIPT = """
    import signal, sys, time
    import runlab

    # A shell that starts jobs in the background makes them ignore SIGINT; a user at a
    # terminal has Python's own handler, so the test gives the child that one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode, ending = sys.argv[1], sys.argv[2]

    def body():
        print("to stderr", file=sys.stderr, flush=True)
        print("ready", flush=True)  # last: the test may signal as soon as it sees this
        if ending == "exit0":
            sys.exit(0)
        if ending == "exit3":
            sys.exit(3)
        if ending == "raise":
            raise ValueError("boom")
        if ending == "return":
            return
        while True:  # wait for a signal
            time.sleep(0.02)

    if mode == "with":
        with runlab.start({"ending": ending}, store="runs", description="d", tags={"t": 1}):
            body()
    else:
        run = runlab.start({"ending": ending}, store="runs", description="d", tags={"t": 1})
        body()
"""

# ending: (signal to send, status, run.json exit_code, run.json error, process returncode)
ENDINGS = {
    "return": (None, "completed", 0, None, 0),
    "exit0": (None, "completed", 0, None, 0),
    "exit3": (None, "failed", 3, "SystemExit: 3", 3),
    "raise": (None, "failed", 1, "ValueError: boom", 1),
    "sigint": (signal.SIGINT, "interrupted", 130, "KeyboardInterrupt", -signal.SIGINT),
    "sigterm": (signal.SIGTERM, "interrupted", 143, "terminated by SIGTERM", 143),
}


def _iso(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.utcoffset() == timedelta(0), text
    return value


@pytest.mark.parametrize("mode", ["with", "bare"])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_how_a_script_ends_is_its_status(spawn, tmp_path: Path, mode: str, ending: str) -> None:
    sig, status, exit_code, error, returncode = ENDINGS[ending]
    child = spawn(SCRIPT, mode, ending)
    child.wait_for("ready")
    if sig is not None:
        child.proc.send_signal(sig)
    code, out, err = child.finish()
    assert code == returncode, err
    assert out == "ready\n"  # the capture passes output through to the real stdout

    run_dir = only_run(tmp_path / "runs")
    record = read_json(run_dir / "run.json")
    assert record["status"] == status
    assert record["exit_code"] == exit_code
    assert record["error"] == error
    assert record["pid"] == child.proc.pid
    assert record["attempt"] == 1
    assert record["description"] == "d"
    assert record["tags"] == {"t": 1}
    assert _iso(record["end"]) >= _iso(record["start"])
    assert RunReader(run_dir).status is RunStatus(status)
    assert (run_dir / "stdout.log").read_text() == "ready\n"
    assert (run_dir / "stderr.log").read_text().startswith("to stderr\n")
    error_txt = run_dir / "error.txt"
    if status == "completed":
        assert not error_txt.exists()
    elif ending == "raise":
        text = error_txt.read_text()
        assert text.startswith("Traceback (most recent call last):\n")
        assert 'raise ValueError("boom")' in text
        assert text.endswith("ValueError: boom\n")
    else:
        assert error_txt.read_text() == f"{error}\n"


def test_run_json_holds_every_field(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import os, sys, runlab
        with runlab.start({"lr": 0.1}, store="runs", name="n", description="what") as run:
            print(os.getpid(), run.id)
        """,
        "--flag",
        "x y",
    )
    assert result.returncode == 0, result.stderr
    pid, run_id = result.stdout.split()
    record = read_json(tmp_path / "runs" / run_id / "run.json")
    expected_keys = {
        "id", "name", "description", "tags", "status", "attempt", "start", "end",
        "duration", "host", "pid", "argv", "command", "python", "exit_code", "error",
        "git", "params_hash",
    }  # fmt: skip
    assert expected_keys <= set(record)
    script = str(tmp_path / "script.py")
    assert record["id"] == run_id == "1"
    assert record["name"] == "n"
    assert record["description"] == "what"
    assert record["tags"] == {}
    assert record["status"] == "completed"
    assert record["host"] == socket.gethostname()
    assert record["pid"] == int(pid)
    assert record["argv"] == [script, "--flag", "x y"]
    assert record["command"].endswith(f"{script} --flag 'x y'")
    assert record["python"] == ".".join(map(str, os.sys.version_info[:3]))
    assert record["git"] is None  # tmp_path is not in a repository
    assert record["params_hash"] == runlab.canonical.config_hash({"lr": 0.1})
    start, end = _iso(record["start"]), _iso(record["end"])
    # The duration of a first attempt is exactly the span from start to end.
    assert record["duration"] == pytest.approx((end - start).total_seconds(), abs=1e-5)
    assert read_json(tmp_path / "runs" / "1" / "params.json") == {"lr": 0.1}
    names = {p.name for p in (tmp_path / "runs" / "1").iterdir()}
    assert {"run.json", "params.json", "stdout.log", "stderr.log"} <= names
    assert "error.txt" not in names
    assert "git.diff" not in names


def test_sigkill_reads_as_lost_with_no_end(spawn, tmp_path: Path) -> None:
    child = spawn(
        """
        import time, runlab
        with runlab.start({"a": 1}, store="runs") as run:
            run.log(step=0, loss=1.0)
            print("ready", flush=True)
            while True:
                time.sleep(0.02)
        """
    )
    child.wait_for("ready")
    run_dir = only_run(tmp_path / "runs")
    assert RunReader(run_dir).status is RunStatus.RUNNING
    child.proc.kill()
    code, _, _ = child.finish()  # reaped: a zombie would still look alive
    assert code == -signal.SIGKILL
    reader = RunReader(run_dir)
    assert reader.record["status"] == "running"  # what the file says...
    assert reader.status is RunStatus.LOST  # ...and what a reader concludes
    assert reader.record["end"] is None
    assert reader.record["exit_code"] is None


def test_a_recycled_pid_does_not_keep_a_dead_run_alive(tmp_path: Path) -> None:
    run = runlab.start({}, store=tmp_path / "runs", capture=False, git=False)
    try:
        record = read_json(run.dir / "run.json")
        assert RunReader(run.dir).status is RunStatus.RUNNING
        # Our pid, but a process that started at another time: the run's process is gone.
        record["pid_start"] = record["pid_start"] - 1000
        (run.dir / "run.json").write_text(runlab.record.files.dumps(record))
        assert RunReader(run.dir).status is RunStatus.LOST
    finally:
        run.finish()


def test_heartbeat_decides_for_a_run_on_another_host(tmp_path: Path) -> None:
    run = runlab.start({}, store=tmp_path / "runs", capture=False, git=False)
    try:
        record = read_json(run.dir / "run.json")
        record["host"] = "another-host.example"
        record["pid"] = 1  # means nothing on another host
        (run.dir / "run.json").write_text(runlab.record.files.dumps(record))
        # Until the first heartbeat, run.json's mtime stands for it.
        assert RunReader(run.dir).status is RunStatus.RUNNING
        now = time.time()
        old = now - LOST_AFTER_SECONDS - 30
        os.utime(run.dir / "run.json", (old, old))
        assert RunReader(run.dir).status is RunStatus.LOST
        beat = run.dir / ".heartbeat"
        beat.touch()
        assert RunReader(run.dir).status is RunStatus.RUNNING
        os.utime(beat, (old, old))
        assert RunReader(run.dir).status is RunStatus.LOST
        beat.unlink()
        assert RunReader(run.dir).status is RunStatus.LOST
    finally:
        run.finish()
    assert RunReader(run.dir).status is RunStatus.COMPLETED


def test_a_finished_status_is_never_overridden_by_the_heartbeat(tmp_path: Path) -> None:
    with runlab.start({}, store=tmp_path / "runs", capture=False, git=False) as run:
        pass
    old = time.time() - 10 * LOST_AFTER_SECONDS
    (run.dir / ".heartbeat").touch()
    for name in (".heartbeat", "run.json"):
        os.utime(run.dir / name, (old, old))
    assert RunReader(run.dir).status is RunStatus.COMPLETED


def test_status_strings_have_no_whitespace() -> None:
    values = [s.value for s in RunStatus]
    assert values == ["queued", "running", "completed", "failed", "interrupted", "lost"]
    for value in values:
        assert value == value.strip() and not any(c.isspace() for c in value)
        assert str(RunStatus(value)) == value
    assert {s for s in RunStatus if s.finished} == {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.INTERRUPTED,
    }


def test_an_unknown_status_reads_as_lost(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "1"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text('{"status": "RUNNING "}')
    assert RunReader(run_dir).status is RunStatus.LOST
