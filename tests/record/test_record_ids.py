"""Run ids: consecutive integers claimed by mkdir across real processes, safe given ids."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from record_helpers import poll, read_json

import runlab
from runlab.errors import UsageError
from runlab.record.layout import StoreLayout, check_run_id, safe_name

WORKER = """
    import os, sys, time
    import runlab

    store, worker, count, go, capture = (
        sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "on"
    )
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.002)
    for i in range(count):
        with runlab.start({"worker": worker, "i": i}, store=store, capture=capture) as run:
            run.log(step=0, x=i)
            run.summary(worker=worker)
            if capture:
                print(f"out w{worker} i{i}", flush=True)
                os.write(2, f"err w{worker} i{i}\\n".encode())
"""


def _race(tmp_path: Path, env: dict[str, str], workers: int, count: int, capture: bool) -> Path:
    """Start ``workers`` processes that each record ``count`` runs into one store at once."""
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    store, go = tmp_path / "runs", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, str(script), str(store), str(w), str(count), str(go)),
                "on" if capture else "off",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(workers)
    ]
    try:
        # All interpreters are up before any run starts, so the claims really overlap.
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"ready\n"
        go.touch()
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return store


def _check_store(store: Path, workers: int, count: int) -> dict[str, dict]:
    total = workers * count
    names = sorted(p.name for p in store.iterdir() if not p.name.startswith("."))
    assert names == sorted(str(i) for i in range(1, total + 1))
    seen: dict[tuple[int, int], str] = {}
    records = {}
    for name in names:
        run_dir = store / name
        record = read_json(run_dir / "run.json")
        params = read_json(run_dir / "params.json")
        assert record["id"] == name
        assert record["status"] == "completed"
        assert record["exit_code"] == 0
        assert read_json(run_dir / "summary.json") == {"worker": params["worker"], "x": params["i"]}
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        assert len(lines) == 1
        key = (params["worker"], params["i"])
        assert key not in seen, f"{key} recorded twice: {seen.get(key)} and {name}"
        seen[key] = name
        records[name] = record
        # No temp file of an atomic write is left behind anywhere.
        assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert set(seen) == {(w, i) for w in range(workers) for i in range(count)}
    assert not [p.name for p in store.iterdir() if p.name.endswith(".tmp")]
    assert sorted(os.listdir(store / ".changed")) == names
    return records


def test_eight_processes_claim_ids_1_to_1600_without_collision(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = _race(tmp_path, env, workers=8, count=200, capture=False)
    records = _check_store(store, workers=8, count=200)
    assert len({r["pid"] for r in records.values()}) == 8
    # Every worker got its share, and within one worker ids grow in run order.
    by_pid: dict[int, list[tuple[str, int]]] = {}
    for name, record in records.items():
        by_pid.setdefault(record["pid"], []).append((record["start"], int(name)))
    for runs in by_pid.values():
        assert len(runs) == 200
        in_time_order = [run_id for _, run_id in sorted(runs)]
        assert in_time_order == sorted(in_time_order)
    # The index ingests every marker: 1600 rows, each with the params its folder holds.
    runs = runlab.load(store)
    frame = runs.df()
    assert len(frame) == 1600 and list(frame["id"]) == [str(i) for i in range(1, 1601)]
    assert set(zip(frame["params.worker"], frame["params.i"], strict=True)) == {
        (w, i) for w in range(8) for i in range(200)
    }
    assert set(frame["status"]) == {"completed"}
    assert os.listdir(store / ".changed") == []


def test_concurrent_runs_with_capture_keep_their_own_output(
    tmp_path: Path, env: dict[str, str]
) -> None:
    store = _race(tmp_path, env, workers=4, count=15, capture=True)
    _check_store(store, workers=4, count=15)
    for run_dir in store.iterdir():
        if run_dir.name.startswith("."):
            continue
        params = read_json(run_dir / "params.json")
        w, i = params["worker"], params["i"]
        assert (run_dir / "stdout.log").read_text() == f"out w{w} i{i}\n"
        assert (run_dir / "stderr.log").read_text() == f"err w{w} i{i}\n"


def test_named_run_id_does_not_disturb_numbering(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    ids = []
    for run_id in (None, "best", None, None):
        with runlab.start({"a": 1}, store=store, run_id=run_id, capture=False, git=False) as run:
            ids.append(run.id)
    assert ids == ["1", "best", "2", "3"]
    assert read_json(store / "best" / "run.json")["id"] == "best"
    assert read_json(store / "best" / "run.json")["name"] == "best"


def test_name_is_recorded_and_id_stays_numeric(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    with runlab.start({}, store=store, name="baseline", capture=False, git=False) as run:
        pass
    assert run.id == "1"
    assert run.name == "baseline"
    assert read_json(store / "1" / "run.json")["name"] == "baseline"
    assert runlab.Store(store).resolve("baseline").path == store / "1"


@pytest.mark.parametrize("bad", ["../x", ".hidden", "a/b", "", "-rf", "index.db", "x" * 201])
def test_unsafe_run_ids_are_refused_and_nothing_is_written(tmp_path: Path, bad: str) -> None:
    store = tmp_path / "runs"
    with pytest.raises(UsageError, match="is not allowed"):
        runlab.start({}, store=store, run_id=bad, capture=False, git=False)
    assert not store.exists()
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("good", ["best", "lr=0.1,seed=2", "a.b", "_x", "7"])
def test_safe_run_ids_are_kept_as_given(good: str) -> None:
    assert check_run_id(good) == good


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../etc/passwd", "_.._etc_passwd"),
        (".hidden", "_.hidden"),
        ("lr 0.1/seed 2", "lr_0.1_seed_2"),
        ("///", "run"),
        ("-x", "_-x"),
        ("index.db", "_index.db"),
    ],
)
def test_safe_name_always_gives_an_allowed_id(text: str, expected: str) -> None:
    assert safe_name(text) == expected
    assert check_run_id(safe_name(text)) == expected


def test_stale_or_missing_hint_never_gives_a_duplicate(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "runs")
    assert layout.claim_next().id == "1"
    assert layout.claim_next().id == "2"
    (layout.root / ".next-id").write_text("1")  # stale: ids 1 and 2 exist
    assert layout.claim_next().id == "3"
    (layout.root / ".next-id").write_text("garbage")  # damaged: falls back to a scan
    assert layout.claim_next().id == "4"
    (layout.root / ".next-id").unlink()
    assert layout.claim_next().id == "5"
    assert layout.claim("best") is not None
    assert layout.claim("best") is None  # already taken
    assert layout.claim_next().id == "6"


def test_iter_run_dirs_skips_claimed_folders_without_run_json(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    with runlab.start({}, store=store, capture=False, git=False):
        pass
    layout = StoreLayout(store)
    half = layout.claim_next()  # claimed, run.json not written yet
    assert half.id == "2"
    assert [d.id for d in layout.iter_run_dirs()] == ["1"]
    assert poll(lambda: (store / "1" / "run.json").exists())
