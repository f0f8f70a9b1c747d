"""Starting a command (posix_spawn on Linux), and ending what a dead launcher left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from runlab.launch.runfolder import LAUNCHER_VAR, end_leftovers
from runlab.launch.spawn import USE_POSIX_SPAWN, SpawnedProcess, spawn
from runlab.record.layout import RunDir

PROBE = """\
import os, signal, sys
print("session leader:", os.getsid(0) == os.getpid())
print("stdin:", repr(sys.stdin.read()))
print("to stderr", file=sys.stderr)
sys.exit(int(os.environ["EXIT_WITH"]))
"""


def _log(tmp_path):
    return os.open(tmp_path / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def test_a_command_gets_its_own_session_an_empty_stdin_and_its_log(tmp_path):
    fd = _log(tmp_path)
    try:
        env = {**os.environ, "EXIT_WITH": "3"}
        proc = spawn([sys.executable, "-c", PROBE], log_fd=fd, env=env)
    finally:
        os.close(fd)
    assert proc.wait() == 3
    assert proc.poll() == 3
    assert (tmp_path / "log").read_text().splitlines() == [
        "session leader: True",
        "stdin: ''",
        "to stderr",
    ]


def _program(folder, name, text):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {text}\n")
    path.chmod(0o755)
    return path


def test_a_program_is_found_on_path_and_found_again_when_it_moves(tmp_path, monkeypatch):
    first = _program(tmp_path / "a", "runlab-probe-tool", "first")
    _program(tmp_path / "b", "runlab-probe-tool", "second")
    monkeypatch.setenv("PATH", f"{tmp_path / 'a'}:{tmp_path / 'b'}:{os.environ['PATH']}")
    outputs = []
    for _ in range(2):
        fd = _log(tmp_path)
        try:
            assert spawn(["runlab-probe-tool"], log_fd=fd, env=dict(os.environ)).wait() == 0
        finally:
            os.close(fd)
        outputs.append((tmp_path / "log").read_text().splitlines()[-1])
        first.unlink(missing_ok=True)  # the program found first is gone: the next finds the other
    assert outputs == ["first", "second"]
    with pytest.raises(FileNotFoundError):
        spawn(["runlab-no-such-tool"], log_fd=0, env=dict(os.environ))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_command_gets_default_signals_and_an_empty_mask(tmp_path):
    # Python ignores SIGPIPE: a command must not inherit that (`yes | head` would hang).
    fd = _log(tmp_path)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    try:
        argv = ["grep", "-E", "^(SigIgn|SigBlk)", "/proc/self/status"]
        assert spawn(argv, log_fd=fd, env=dict(os.environ)).wait() == 0
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        os.close(fd)
    masks = dict(line.split(":\t") for line in (tmp_path / "log").read_text().splitlines())
    assert int(masks["SigBlk"], 16) == 0
    assert int(masks["SigIgn"], 16) & (1 << (signal.SIGPIPE - 1)) == 0


def test_a_program_found_on_path_runs_and_a_missing_one_raises(tmp_path):
    fd = _log(tmp_path)
    try:
        assert spawn(["true"], log_fd=fd, env=dict(os.environ)).wait() == 0
        with pytest.raises(FileNotFoundError):
            spawn(["no-such-program-here-xyz"], log_fd=fd, env=dict(os.environ))
    finally:
        os.close(fd)


def test_a_killed_command_reports_minus_the_signal(tmp_path):
    fd = _log(tmp_path)
    try:
        proc = spawn(["sleep", "30"], log_fd=fd, env=dict(os.environ))
    finally:
        os.close(fd)
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait() == -signal.SIGTERM


@pytest.mark.skipif(not USE_POSIX_SPAWN, reason="posix_spawn is used on Linux only")
def test_on_linux_commands_start_with_posix_spawn(tmp_path):
    fd = _log(tmp_path)
    try:
        proc = spawn(["true"], log_fd=fd, env=dict(os.environ))
    finally:
        os.close(fd)
    assert isinstance(proc, SpawnedProcess)
    assert proc.wait() == 0


def _wait_gone(proc: subprocess.Popen[bytes]) -> None:
    proc.wait(timeout=30)  # reaped by us, so a gone process is not a zombie of ours


def _has_exec(pid: int) -> bool:
    """True once ``pid`` runs its program (before that it shows its parent's environment)."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().startswith(b"sleep")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_leftovers_of_a_run_folder_are_ended_and_nothing_else(tmp_path):
    run_dir = RunDir(tmp_path / "runs" / "r1")
    run_dir.path.mkdir(parents=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    mine = subprocess.Popen(
        ["sleep", "60"], env={**base, "RUNLAB_RUN_DIR": str(run_dir.path)}, start_new_session=True
    )
    other = subprocess.Popen(
        ["sleep", "60"], env={**base, "RUNLAB_RUN_DIR": str(tmp_path / "runs" / "r2")}
    )
    # a dead launcher's orphaned worker (its parent is no longer that launcher's pid)
    worker = subprocess.Popen(["sleep", "60"], env={**base, LAUNCHER_VAR: "999999"})
    try:
        deadline = time.monotonic() + 30
        while not all(_has_exec(p.pid) for p in (mine, other, worker)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert end_leftovers(run_dir, 999999) == 2
        _wait_gone(mine)
        _wait_gone(worker)
        assert mine.returncode == -signal.SIGKILL and worker.returncode == -signal.SIGKILL
        assert other.poll() is None
    finally:
        for proc in (mine, other, worker):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
