"""argparse integration: recorded args and defaults, --run-id, --resume, --no-record."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from record_helpers import git, read_json

import runlab
from runlab.errors import RunConflict
from runlab.record.reader import RunReader
from runlab.record.status import RunStatus

TRAIN = """
    import argparse, os, sys, runlab
    from runlab.errors import RunlabError

    parser = argparse.ArgumentParser(description="train")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--tag", default=None)
    runlab.add_argument_group(parser)
    try:
        run = runlab.from_parser(parser)
    except RunlabError as err:  # what the runlab CLI does: one line, the error's exit code
        print(err)
        raise SystemExit(err.exit_code)
    args = parser.parse_args()  # the script's own parsing still works
    print(f"lr={args.lr} epochs={args.epochs} run={run.id}")
    run.log(step=0, lr=args.lr)
    if os.environ.get("FAIL"):
        raise RuntimeError("diverged")
"""


@pytest.fixture
def train(run_script, tmp_path: Path):
    """Run TRAIN with arguments (cwd: tmp_path unless given); return the completed process."""

    def go(*args: str, cwd: Path | None = None, fail: bool = False):
        return run_script(
            TRAIN, *args, name="train.py", cwd=cwd, extra_env={"FAIL": "1"} if fail else None
        )

    return go


def test_add_argument_group_adds_runlab_options() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    group = runlab.add_argument_group(parser)
    assert [a.option_strings for a in group._group_actions] == [
        ["--store"],
        ["--run-id"],
        ["--run-name"],
        ["--description"],
        ["--resume"],
        ["--no-record"],
        ["--require-clean"],
    ]
    args = parser.parse_args(
        [
            *("--lr", "0.2", "--store", "s", "--run-id", "7", "--run-name", "n"),
            *("--description", "d", "--resume", "--no-record", "--require-clean"),
        ]
    )
    assert vars(args) == {
        "lr": 0.2,
        "runlab_store": "s",
        "runlab_run_id": "7",
        "runlab_run_name": "n",
        "runlab_description": "d",
        "runlab_resume": True,
        "runlab_no_record": True,
        "runlab_require_clean": True,
    }
    assert "--require-clean" in parser.format_help()


def test_from_parser_records_args_and_defaults(train, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    result = train("--lr", "0.5", "--store", str(store), "--run-name", "fast", "--description", "d")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "lr=0.5 epochs=3 run=1\n"
    run_dir = store / "1"
    assert read_json(run_dir / "params.json") == {"lr": 0.5, "epochs": 3, "tag": None}
    assert read_json(run_dir / "defaults.json") == {"lr": 0.1, "epochs": 3, "tag": None}
    record = read_json(run_dir / "run.json")
    assert (record["name"], record["description"], record["status"]) == ("fast", "d", "completed")
    assert record["argv"][1:] == [
        *("--lr", "0.5", "--store", str(store)),
        *("--run-name", "fast", "--description", "d"),
    ]


def test_from_parser_in_process_with_explicit_args(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    run = runlab.from_parser(
        parser, ["--lr", "0.3", "--store", str(tmp_path / "s")], capture=False, git=False
    )
    run.finish()
    assert run.params == {"lr": 0.3}
    assert read_json(run.dir / "defaults.json") == {"lr": 0.1}
    assert run.dir == tmp_path / "s" / "1"


def test_run_id_reuses_the_run_keeping_start_and_counting_attempts(train, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    common = ("--lr", "0.2", "--store", str(store), "--run-id", "best")
    first = train(*common, fail=True)
    assert first.returncode == 1
    assert "RuntimeError: diverged" in first.stderr
    one = read_json(store / "best" / "run.json")
    assert (one["status"], one["attempt"], one["error"]) == ("failed", 1, "RuntimeError: diverged")
    assert (store / "best" / "error.txt").exists()

    second = train(*common)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "lr=0.2 epochs=3 run=best\n"
    two = read_json(store / "best" / "run.json")
    assert (two["status"], two["attempt"], two["error"]) == ("completed", 2, None)
    assert two["start"] == one["start"]
    assert two["attempt_start"] > one["attempt_start"]
    assert two["end"] > one["end"]
    assert two["duration"] >= one["duration"]  # attempts add up
    # The failure belonged to attempt 1; a completed run has no error.txt.
    assert not (store / "best" / "error.txt").exists()
    assert (store / "best" / "stdout.log").read_text() == (
        "lr=0.2 epochs=3 run=best\nlr=0.2 epochs=3 run=best\n"
    )
    points = RunReader(store / "best").metrics()
    assert points["lr"].tolist() == [0.2, 0.2]

    third = train(*common)
    assert read_json(store / "best" / "run.json")["attempt"] == 3, third.stderr
    # The named run did not use up a number.
    fresh = train("--store", str(store))
    assert fresh.stdout == "lr=0.1 epochs=3 run=1\n"


def test_run_id_refuses_different_params_in_one_line(train, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    assert train("--lr", "0.2", "--store", str(store), "--run-id", "7").returncode == 0
    before = {p.name: p.read_bytes() for p in (store / "7").iterdir()}
    refused = train("--lr", "0.3", "--store", str(store), "--run-id", "7")
    assert refused.returncode == 2
    assert refused.stdout == (
        "run 7 was recorded with lr=0.2, this run has lr=0.3: use another --run-id, or none\n"
    )
    assert {p.name: p.read_bytes() for p in (store / "7").iterdir()} == before
    added = train("--tag", "x", "--lr", "0.2", "--store", str(store), "--run-id", "7")
    assert added.stdout == (
        "run 7 was recorded with tag=None, this run has tag='x': use another --run-id, or none\n"
    )


def test_run_id_refuses_different_code(train, repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    first_sha = git(repo, "rev-parse", "HEAD").strip()
    assert train("--store", str(store), "--run-id", "r", cwd=repo).returncode == 0
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "second commit")
    second_sha = git(repo, "rev-parse", "HEAD").strip()
    refused = train("--store", str(store), "--run-id", "r", cwd=repo)
    assert refused.returncode == 2
    assert refused.stdout == (
        f"run r was recorded at git {first_sha}, the code is now at git {second_sha}: "
        "use another --run-id, or none\n"
    )
    assert read_json(store / "r" / "run.json")["attempt"] == 1


def test_run_id_reuse_drops_a_stale_git_diff(train, repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    (repo / "util.py").write_text("X = 2\n")
    assert train("--store", str(store), "--run-id", "r", cwd=repo).returncode == 0
    assert "+X = 2" in (store / "r" / "git.diff").read_text()
    (repo / "util.py").write_text("X = 1\n")  # back to the committed code, same sha
    assert train("--store", str(store), "--run-id", "r", cwd=repo).returncode == 0
    record = read_json(store / "r" / "run.json")
    assert (record["attempt"], record["git"]["dirty"]) == (2, False)
    assert not (store / "r" / "git.diff").exists()


def test_run_id_in_process_raises_run_conflict(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    with runlab.start({"a": 1, "b": [1, 2]}, store=store, run_id="x", capture=False, git=False):
        pass
    with pytest.raises(RunConflict) as info:
        runlab.start({"a": 1, "b": [1, 3]}, store=store, run_id="x", capture=False, git=False)
    assert str(info.value) == (
        "run x was recorded with b=[1, 2], this run has b=[1, 3]: use another --run-id, or none"
    )
    # 1 and 1.0 are the same config: reuse is allowed.
    with runlab.start(
        {"a": 1.0, "b": [1, 2]}, store=store, run_id="x", capture=False, git=False
    ) as run:
        pass
    assert run.record["attempt"] == 2


def test_resume_reuses_the_newest_unfinished_identical_run(train, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    s = ("--store", str(store), "--resume")
    assert train("--lr", "0.2", *s, fail=True).stdout == "lr=0.2 epochs=3 run=1\n"
    assert train("--lr", "0.9", *s, fail=True).stdout == "lr=0.9 epochs=3 run=2\n"
    assert train("--lr", "0.2", *s, fail=True).stdout == "lr=0.2 epochs=3 run=1\n"
    resumed = train("--lr", "0.2", *s)
    assert resumed.stdout == "lr=0.2 epochs=3 run=1\n"
    record = read_json(store / "1" / "run.json")
    assert (record["status"], record["attempt"]) == ("completed", 3)
    # Run 1 is completed now: the same params start a new run.
    assert train("--lr", "0.2", *s).stdout == "lr=0.2 epochs=3 run=3\n"
    # Different params never reuse; run 2 (lr=0.9) is the one to resume for them.
    assert train("--lr", "0.5", *s).stdout == "lr=0.5 epochs=3 run=4\n"
    assert train("--lr", "0.9", *s).stdout == "lr=0.9 epochs=3 run=2\n"
    # Without --resume, a new run every time.
    assert train("--lr", "0.9", "--store", str(store)).stdout == "lr=0.9 epochs=3 run=5\n"


def test_resume_picks_the_most_recent_of_several(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    for _ in range(3):
        run = runlab.start({"a": 1}, store=store, capture=False, git=False)
        run.finish(RunStatus.FAILED)
    again = runlab.start({"a": 1}, store=store, resume=True, capture=False, git=False)
    again.finish()
    assert again.id == "3"
    assert again.record["attempt"] == 2


def test_resume_needs_the_same_git_sha(train, repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    s = ("--store", str(store), "--resume")
    assert train(*s, cwd=repo, fail=True).stdout == "lr=0.1 epochs=3 run=1\n"
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "second commit")
    assert train(*s, cwd=repo).stdout == "lr=0.1 epochs=3 run=2\n"
    assert read_json(store / "1" / "run.json")["attempt"] == 1


def test_resume_never_joins_a_run_that_is_still_running(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    live = runlab.start({"a": 1}, store=store, capture=False, git=False)
    try:
        other = runlab.start({"a": 1}, store=store, resume=True, capture=False, git=False)
        other.finish()
        assert (live.id, other.id) == ("1", "2")
    finally:
        live.finish()


def test_resume_picks_up_a_killed_run(spawn, train, tmp_path: Path) -> None:
    # The sleep is unconditional: the run must still be running when it is killed.
    sleeping = TRAIN.replace(
        '    if os.environ.get("FAIL"):',
        "    sys.stdout.flush(); __import__('time').sleep(600)\n    if 0:",
    )
    assert sleeping != TRAIN
    child = spawn(sleeping)
    # spawn runs without arguments; store defaults to ./runs
    child.wait_for("lr=0.1 epochs=3 run=1")
    child.proc.kill()
    child.finish()
    assert RunReader(tmp_path / "runs" / "1").status is RunStatus.LOST
    resumed = train("--resume", fail=False)
    assert resumed.stdout == "lr=0.1 epochs=3 run=1\n", resumed.stderr
    record = read_json(tmp_path / "runs" / "1" / "run.json")
    assert (record["status"], record["attempt"]) == ("completed", 2)


def test_no_record_runs_the_code_and_creates_no_store(train, tmp_path: Path) -> None:
    store = tmp_path / "runs"
    result = train("--lr", "0.4", "--store", str(store), "--no-record")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "lr=0.4 epochs=3 run=None\n"
    assert not store.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]
