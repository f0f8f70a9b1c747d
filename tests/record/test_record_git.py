"""Git capture against real repositories: what is recorded, and that nothing is changed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from record_helpers import git, only_run, read_json

import runlab
from runlab.errors import DirtyRepository
from runlab.record import git as gitmod

RUN = """
    import runlab
    with runlab.start({"a": 1}, store=STORE) as run:
        print(run.id)
"""


def _run_in(repo: Path, run_script, store: Path, code: str = RUN):
    result = run_script(code.replace("STORE", repr(str(store))), name="go.py", cwd=repo)
    assert result.returncode == 0, result.stderr
    return result


def _snapshot(repo: Path) -> dict[str, object]:
    """Everything about a repository that runlab must leave as it was."""
    # Read .git/index first, and never let our own `git status` refresh (rewrite) it.
    index = (repo / ".git" / "index").read_bytes()
    return {
        "index": index,
        "status": git(repo, "--no-optional-locks", "status", "--porcelain", "-uall"),
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "branch", "--show-current"),
        "gitignore": (repo / ".gitignore").read_bytes(),
        "stash": git(repo, "stash", "list"),
        "log": git(repo, "log", "--format=%H %s"),
    }


def test_clean_repository_is_recorded(repo: Path, run_script, tmp_path: Path) -> None:
    store = tmp_path / "store"
    # Same content, new mtime: a plain `git status` would refresh and rewrite .git/index.
    os.utime(repo / "train.py", (time.time() + 5, time.time() + 5))
    before = _snapshot(repo)
    _run_in(repo, run_script, store)
    assert _snapshot(repo) == before
    run_dir = only_run(store)
    assert read_json(run_dir / "run.json")["git"] == {
        "sha": git(repo, "rev-parse", "HEAD").strip(),
        "branch": "main",
        "message": "first commit",
        "dirty": False,
        "root": str(repo.resolve()),
    }
    assert not (run_dir / "git.diff").exists()


def test_dirty_repository_records_the_patch(repo: Path, run_script, tmp_path: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "util.py").write_text("X = 2\n")
    git(repo, "add", "util.py")  # staged changes are part of the patch too
    (repo / "notes.txt").write_text("untracked\n")
    store = tmp_path / "store"
    expected_diff = git(repo, "diff", "HEAD", "--binary")
    before = _snapshot(repo)
    _run_in(repo, run_script, store)
    assert _snapshot(repo) == before
    run_dir = only_run(store)
    record = read_json(run_dir / "run.json")
    assert record["git"]["dirty"] is True
    assert record["git"]["sha"] == git(repo, "rev-parse", "HEAD").strip()
    diff = (run_dir / "git.diff").read_text()
    assert diff == expected_diff
    assert "-print('v1')\n+print('v2')\n" in diff
    assert "-X = 1\n+X = 2\n" in diff
    assert "notes.txt" not in diff


def test_untracked_files_and_a_store_inside_the_repo_are_not_dirty(repo: Path, run_script) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    before = _snapshot(repo)
    _run_in(repo, run_script, repo / "runs")
    _run_in(repo, run_script, repo / "runs")  # the store now exists inside the repo
    after = _snapshot(repo)
    # The only change is the store folder itself, untracked; .gitignore is not edited.
    assert after["status"] != before["status"]
    assert {k: v for k, v in after.items() if k != "status"} == {
        k: v for k, v in before.items() if k != "status"
    }
    assert git(repo, "--no-optional-locks", "status", "--porcelain", "-uno") == ""
    for n in ("1", "2"):
        assert read_json(repo / "runs" / n / "run.json")["git"]["dirty"] is False


def test_detached_head_records_no_branch(repo: Path, run_script, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    (repo / ".git" / "HEAD").write_text(sha + "\n")
    store = tmp_path / "store"
    _run_in(repo, run_script, store)
    recorded = read_json(only_run(store) / "run.json")["git"]
    assert recorded["sha"] == sha
    assert recorded["branch"] is None


def test_outside_a_repository_git_is_null_and_warned_once(run_script, tmp_path: Path) -> None:
    result = run_script(
        """
        import warnings, runlab
        from runlab.record.git import GitWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(3):
                with runlab.start({"i": i}, store="runs", capture=False):
                    pass
        print(sum(issubclass(w.category, GitWarning) for w in caught))
        print(caught[0].message)
        """
    )
    assert result.returncode == 0, result.stderr
    count, message = result.stdout.splitlines()
    assert count == "1"
    assert message == f"{tmp_path} is not in a git repository: runs record git: null"
    for n in ("1", "2", "3"):
        assert read_json(tmp_path / "runs" / n / "run.json")["git"] is None
        assert not (tmp_path / "runs" / n / "git.diff").exists()


def test_require_clean_refuses_a_dirty_tree_and_writes_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    (repo / "util.py").write_text("X = 2\n")
    monkeypatch.chdir(repo)
    store = tmp_path / "store"
    before = _snapshot(repo)
    with pytest.raises(DirtyRepository) as info:
        runlab.start({}, store=store, require_clean=True, capture=False)
    assert str(info.value) == (
        f"git tree {repo.resolve()} has uncommitted changes: train.py, util.py "
        "(commit or stash them, or drop --require-clean)"
    )
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2
    assert not store.exists()
    assert _snapshot(repo) == before


def test_require_clean_passes_on_a_clean_tree(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(repo)
    with runlab.start({}, store=tmp_path / "store", require_clean=True, capture=False) as run:
        pass
    assert run.record["git"]["dirty"] is False


def test_require_clean_from_the_command_line(repo: Path, run_script, tmp_path: Path) -> None:
    (repo / "util.py").write_text("X = 2\n")
    store = tmp_path / "store"
    code = """
        import argparse, runlab
        from runlab.errors import RunlabError
        parser = argparse.ArgumentParser()
        try:
            runlab.from_parser(parser)
        except RunlabError as err:
            print(err)
            raise SystemExit(err.exit_code)
    """
    result = run_script(code, "--require-clean", "--store", str(store), cwd=repo)
    assert result.returncode == 2
    assert result.stdout == (
        f"git tree {repo.resolve()} has uncommitted changes: util.py "
        "(commit or stash them, or drop --require-clean)\n"
    )
    assert not store.exists()


def test_git_is_asked_once_per_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    monkeypatch.chdir(repo)
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(gitmod.subprocess, "run", counting_run)
    store = tmp_path / "store"
    with runlab.start({"i": 0}, store=store, capture=False):
        pass
    first = len(calls)
    assert first >= 1
    assert all(c[0] == "git" for c in calls)
    for i in range(1, 5):
        with runlab.start({"i": i}, store=store, capture=False):
            pass
    assert len(calls) == first  # the cache answered
    assert set(gitmod._cache) == {os.getcwd()}  # keyed by the working directory
    diffs = {(store / str(n) / "git.diff").read_text() for n in range(1, 6)}
    assert len(diffs) == 1 and "+print('v2')" in diffs.pop()
    gitmod.clear_cache()
    with runlab.start({"i": 5}, store=store, capture=False):
        pass
    assert len(calls) == 2 * first


def test_git_false_records_null_without_asking(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(repo)
    with runlab.start({}, store=tmp_path / "store", git=False, capture=False) as run:
        pass
    assert run.record["git"] is None
    assert gitmod._cache == {}


def test_a_failed_run_in_a_dirty_tree_has_exactly_the_documented_files(
    repo: Path, run_script, tmp_path: Path
) -> None:
    (repo / "util.py").write_text("X = 2\n")
    store = tmp_path / "store"
    result = run_script(
        f"""
        import runlab
        with runlab.start({{"lr": 0.1}}, store={str(store)!r}) as run:
            print("training")
            run.log(step=0, loss=1.0)
            run.summary(acc=0.5)
            with run.open("model.bin", "wb") as f:
                f.write(b"w")
            raise RuntimeError("diverged")
        """,
        cwd=repo,
    )
    assert result.returncode == 1
    run_dir = only_run(store)
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "artifacts",
        "error.txt",
        "git.diff",
        "metrics.jsonl",
        "params.json",
        "run.json",
        "stderr.log",
        "stdout.log",
        "summary.json",
    ]
    assert [p.name for p in (run_dir / "artifacts").iterdir()] == ["model.bin"]
    assert (run_dir / "stdout.log").read_text() == "training\n"
    assert read_json(run_dir / "summary.json") == {"acc": 0.5, "loss": 1.0}
    record = read_json(run_dir / "run.json")
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: diverged")
    assert record["git"]["dirty"] is True
