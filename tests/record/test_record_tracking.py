"""The tracking API: log, summary, open, save/load, numpy values, current()."""

from __future__ import annotations

import gzip
import json
import pickle
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from record_helpers import poll, read_json

import runlab
from runlab.errors import UsageError
from runlab.record.reader import RunReader
from runlab.tracking import NullRun


@pytest.fixture
def run(tmp_path: Path):
    run = runlab.start({"lr": 0.1}, store=tmp_path / "runs", capture=False, git=False)
    yield run
    run.finish()


def _metrics(run: runlab.Run) -> list[dict]:
    path = run.dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_logged_points_reach_disk_while_the_run_goes_on(run: runlab.Run) -> None:
    run.log(step=10, loss=0.5)
    run.log(loss=0.4)  # the step after the last one given
    run.log(step=3, acc=0.1)
    points = poll(lambda: len(_metrics(run)) == 3 and _metrics(run), timeout=10)
    assert points, "logged points never reached metrics.jsonl"
    assert [{k: v for k, v in p.items() if k != "time"} for p in points] == [
        {"step": 10, "loss": 0.5},
        {"step": 11, "loss": 0.4},
        {"step": 3, "acc": 0.1},
    ]
    assert run.status is runlab.RunStatus.RUNNING
    run.log()  # a point without values is still a point
    run.finish()
    assert _metrics(run)[-1]["step"] == 4 and set(_metrics(run)[-1]) == {"step", "time"}


def test_summary_merges_and_is_written_at_once(run: runlab.Run) -> None:
    assert run.summary(acc=0.9) == {"acc": 0.9}
    assert read_json(run.dir / "summary.json") == {"acc": 0.9}
    assert run.summary({"loss": 0.1}, acc=0.95) == {"acc": 0.95, "loss": 0.1}
    assert read_json(run.dir / "summary.json") == {"acc": 0.95, "loss": 0.1}
    with pytest.raises(UsageError, match="summary\\(\\) takes a mapping or keywords, not list"):
        run.summary([1, 2])  # type: ignore[arg-type]


def test_the_last_logged_values_join_the_summary_unless_given(run: runlab.Run) -> None:
    run.log(step=0, loss=1.0, acc=0.1)
    run.log(step=1, loss=0.5)
    run.summary(acc=0.99)
    run.finish()
    assert read_json(run.dir / "summary.json") == {"acc": 0.99, "loss": 0.5}


def test_open_writes_inside_artifacts(run: runlab.Run) -> None:
    with run.open("sub/model.pkl", "wb") as f:
        f.write(b"\x00weights")
    assert (run.dir / "artifacts" / "sub" / "model.pkl").read_bytes() == b"\x00weights"
    with run.open("sub/model.pkl", "rb") as f:
        assert f.read() == b"\x00weights"
    with run.open(Path("notes.txt"), "w", encoding="utf-8") as f:
        f.write("é")
    assert (run.dir / "artifacts" / "notes.txt").read_text(encoding="utf-8") == "é"


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "", "."])
def test_paths_leaving_artifacts_are_refused(run: runlab.Run, tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="must be a relative path inside the run"):
        run.open(name, "w")
    assert not (tmp_path / "runs" / "x").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["../state", "a/../../state", "/tmp/state"])
def test_save_outside_artifacts_is_refused(run: runlab.Run, name: str) -> None:
    with pytest.raises(UsageError, match="must be a relative path inside the run"):
        run.save({}, name)
    with pytest.raises(UsageError, match="must be a relative path inside the run"):
        run.load(name)


@pytest.mark.parametrize(
    ("format", "suffix"), [("json", ".json"), ("pickle", ".pkl"), ("gzip", ".pkl.gz")]
)
def test_save_and_load_round_trip(run: runlab.Run, format: str, suffix: str) -> None:
    obj = {"w": [1.5, 2.5], "step": 3}
    path = run.save(obj, "state", format=format)
    assert path == run.dir / "artifacts" / f"state{suffix}"
    assert run.load("state") == obj
    assert RunReader(run.dir).load("state") == obj
    if format == "pickle":
        assert pickle.loads(path.read_bytes()) == obj
    if format == "gzip":
        assert pickle.loads(gzip.decompress(path.read_bytes())) == obj
    assert sorted(p.name for p in path.parent.iterdir()) == [f"state{suffix}"]


def test_saving_again_in_another_format_replaces_the_old_one(run: runlab.Run) -> None:
    run.save({"v": 1}, "state", format="json")
    run.save({"v": 2}, "state", format="pickle")
    assert run.load("state") == {"v": 2}
    run.save({"v": 3}, "state", format="gzip")
    assert run.load("state") == {"v": 3}
    run.save({"v": 4}, "state", format="json")
    assert run.load("state") == {"v": 4}
    assert [p.name for p in (run.dir / "artifacts").iterdir()] == ["state.json"]


def test_save_and_load_refuse_bad_input(run: runlab.Run) -> None:
    with pytest.raises(UsageError, match="save format 'yaml': use json, pickle or gzip"):
        run.save({}, "state", format="yaml")
    with pytest.raises(UsageError, match="run 1 has no artifact 'nothing'"):
        run.load("nothing")


def test_numpy_values_become_numbers_and_lists(tmp_path: Path) -> None:
    params = {"lr": np.float64(0.5), "n": np.int64(3), "sizes": np.array([1, 2]), "b": np.bool_(1)}
    with runlab.start(params, store=tmp_path / "runs", capture=False, git=False) as run:
        run.log(step=np.int64(0), a=np.float32(0.25), b=np.arange(3), c=np.int32(7), d=np.bool_(0))
        run.summary(acc=np.float32(0.75), matrix=np.eye(2), best=np.int64(9))
    assert json.loads((run.dir / "params.json").read_text()) == {
        "lr": 0.5,
        "n": 3,
        "sizes": [1, 2],
        "b": True,
    }
    [point] = _metrics(run)
    assert point["step"] == 0
    assert {k: point[k] for k in "abcd"} == {"a": 0.25, "b": [0, 1, 2], "c": 7, "d": False}
    assert type(point["c"]) is int and type(point["d"]) is bool
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary == {
        "acc": 0.75,
        "matrix": [[1.0, 0.0], [0.0, 1.0]],
        "best": 9,
        "a": 0.25,
        "b": [0, 1, 2],
        "c": 7,
        "d": False,
    }
    assert read_json(run.dir / "run.json")["params_hash"] == runlab.canonical.config_hash(
        {"lr": 0.5, "n": 3, "sizes": [1, 2], "b": True}
    )


def test_tags_are_set_and_removed(run: runlab.Run) -> None:
    run.set_tags(stage="warmup", gpu=np.int64(1))
    assert read_json(run.dir / "run.json")["tags"] == {"stage": "warmup", "gpu": 1}
    run.set_tags(stage=None)
    assert read_json(run.dir / "run.json")["tags"] == {"gpu": 1}


def test_finish_is_idempotent_and_status_is_final(tmp_path: Path) -> None:
    run = runlab.start({}, store=tmp_path / "runs", capture=False, git=False)
    run.finish(runlab.RunStatus.FAILED, error="gave up")
    run.finish()  # no effect
    record = read_json(run.dir / "run.json")
    assert (record["status"], record["exit_code"], record["error"]) == ("failed", 1, "gave up")
    assert (run.dir / "error.txt").read_text() == "gave up\n"
    assert run.status is runlab.RunStatus.FAILED
    assert repr(run) == f"<Run 1 failed {run.dir}>"


def test_current_is_none_outside_a_launched_process() -> None:
    assert runlab.current() is None


def test_a_child_process_writes_into_the_parents_run(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import os, subprocess, sys, runlab

        child = '''
        import runlab
        run = runlab.current()
        print("child sees", run.id, run.params)
        run.log(step=0, child_loss=0.5)
        run.summary(child_acc=0.8)
        '''
        with runlab.start({"lr": 0.1}, store="runs") as run:
            run.summary(parent_before=1)
            env = dict(os.environ, RUNLAB_RUN_DIR=str(run.dir))
            subprocess.run([sys.executable, "-c", child], env=env, check=True)
            run.log(step=1, parent_loss=0.25)
            run.summary(parent_after=2)
        print("current in parent:", runlab.current())
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "child sees 1 {'lr': 0.1}\ncurrent in parent: None\n"
    run_dir = tmp_path / "runs" / "1"
    assert (run_dir / "stdout.log").read_text() == "child sees 1 {'lr': 0.1}\n"
    assert read_json(run_dir / "summary.json") == {
        "parent_before": 1,
        "child_acc": 0.8,
        "child_loss": 0.5,
        "parent_after": 2,
        "parent_loss": 0.25,
    }
    points = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in p.items() if k != "time"} for p in points] == [
        {"step": 0, "child_loss": 0.5},
        {"step": 1, "parent_loss": 0.25},
    ]
    record = read_json(run_dir / "run.json")
    assert record["status"] == "completed"  # the parent owns the status, not the child


def test_a_failing_child_does_not_finish_the_parents_run(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import os, subprocess, sys, runlab
        from runlab.record.reader import RunReader

        child = "import runlab; runlab.current().log(step=0, x=1); raise SystemExit(5)"
        with runlab.start({}, store="runs") as run:
            env = dict(os.environ, RUNLAB_RUN_DIR=str(run.dir))
            code = subprocess.run([sys.executable, "-c", child], env=env).returncode
            print("child exit", code)
            print("status after child", RunReader(run.dir).record["status"])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "child exit 5\nstatus after child running\n"
    record = read_json(tmp_path / "runs" / "1" / "run.json")
    assert record["status"] == "completed" and record["exit_code"] == 0
    assert read_json(tmp_path / "runs" / "1" / "summary.json") == {"x": 1}


def test_no_record_writes_nothing_but_the_code_still_works(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    with runlab.start({"lr": 0.1}, store=store, record=False) as run:
        assert isinstance(run, NullRun)
        assert run.params == {"lr": 0.1}
        run.log(step=0, loss=1.0)
        assert run.summary(acc=0.5) == {"acc": 0.5}
        run.set_tags(k="v")
        with run.open("sub/model.bin", "wb") as f:
            f.write(b"x")
        with run.open("sub/model.bin", "rb") as f:
            assert f.read() == b"x"
        run.save({"w": 1}, "state", format="pickle")
        assert run.load("state") == {"w": 1}
        scratch = run.dir
    assert not store.exists()
    assert not scratch.exists()


def test_hooks_are_installed_only_while_a_run_lives(tmp_path: Path) -> None:
    before = (sys.excepthook, sys.exit, signal.getsignal(signal.SIGTERM))
    assert before[2] is signal.SIG_DFL
    run = runlab.start({}, store=tmp_path / "runs", capture=False, git=False)
    try:
        assert sys.excepthook is not before[0]
        assert sys.exit is not before[1]
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        run.finish()
    assert (sys.excepthook, sys.exit, signal.getsignal(signal.SIGTERM)) == before


def test_a_users_own_sigterm_handler_is_left_alone(tmp_path: Path) -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with runlab.start({}, store=tmp_path / "runs", capture=False, git=False):
            assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_relative_store_follows_the_working_directory_and_the_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    places = []
    for where in ("a", "b", "a"):
        (tmp_path / where).mkdir(exist_ok=True)
        monkeypatch.chdir(tmp_path / where)
        with runlab.start({}, store="runs", capture=False, git=False) as run:
            places.append(run.dir)
        monkeypatch.setenv("RUNLAB_STORE", str(tmp_path / f"env-{where}"))
        with runlab.start({}, capture=False, git=False) as run:
            places.append(run.dir)
    assert places == [
        tmp_path / "a" / "runs" / "1",
        tmp_path / "env-a" / "1",
        tmp_path / "b" / "runs" / "1",
        tmp_path / "env-b" / "1",
        tmp_path / "a" / "runs" / "2",
        tmp_path / "env-a" / "2",
    ]
