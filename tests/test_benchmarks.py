"""The benchmark scripts keep working: the synthetic store is what runlab writes, and
``bench_index.py --quick`` runs end to end on a tiny store.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab.store import Store

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import _synthetic as S  # noqa: E402

SHAPE = S.Shape(runs=3)
VOLATILE = {"start", "attempt_start", "end", "duration", "host", "pid", "pid_start"}
VOLATILE |= {"cwd", "argv", "command", "python", "executable"}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same three runs, written by the generator and recorded by ``runlab.start``."""
    base = tmp_path_factory.mktemp("synthetic")
    fake, real = base / "fake", base / "real"
    fake.mkdir()
    for i in range(1, SHAPE.runs + 1):
        S.write_run(fake, i, SHAPE)
        with runlab.start(S.params_of(i, SHAPE), store=real, capture=False, git=False) as run:
            assert run.id == str(i)
            keys = S.METRICS[: SHAPE.metrics]
            series = S.series_of(i, SHAPE)
            for step, values in enumerate(series):
                run.log(step=step, **dict(zip(keys, values, strict=True)))
            run.summary(dict(zip(keys, series[-1], strict=True)))
    return fake, real


def _file(store: Path, i: int, name: str) -> str:
    return (store / str(i) / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["params.json", "summary.json"])
def test_synthetic_params_and_summary_are_byte_identical(stores, name):
    fake, real = stores
    for i in range(1, SHAPE.runs + 1):
        assert _file(fake, i, name) == _file(real, i, name)


def test_synthetic_metrics_lines_match_but_for_the_time(stores):
    fake, real = stores
    untimed = re.compile(r'"time": \d+\.\d{3}')
    for i in range(1, SHAPE.runs + 1):
        ours = untimed.sub('"time": T', _file(fake, i, "metrics.jsonl"))
        theirs = untimed.sub('"time": T', _file(real, i, "metrics.jsonl"))
        assert ours == theirs
        assert len(ours.splitlines()) == SHAPE.steps


def test_synthetic_run_json_has_runlab_keys_layout_and_values(stores):
    fake, real = stores
    for i in range(1, SHAPE.runs + 1):
        ours = json.loads(_file(fake, i, "run.json"))
        theirs = json.loads(_file(real, i, "run.json"))
        assert list(ours) == list(theirs)
        assert {k: v for k, v in ours.items() if k not in VOLATILE} == {
            k: v for k, v in theirs.items() if k not in VOLATILE
        }
        assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
        # one top-level key per line, like every record runlab writes
        assert len(_file(fake, i, "run.json").splitlines()) == len(ours) + 2


def test_synthetic_store_indexes_like_real_runs(stores):
    fake, real = stores
    assert Store(fake).index(refresh=False).rescan() == SHAPE.runs
    ours, theirs = runlab.load(fake).df(), runlab.load(real).df()
    assert list(ours.columns) == list(theirs.columns)
    assert dict(ours.dtypes) == dict(theirs.dtypes)
    data = [c for c in ours.columns if c.startswith(("params.", "metrics.")) or c == "status"]
    assert ours[data].equals(theirs[data])
    assert len(data) == 1 + SHAPE.params + SHAPE.metrics


def test_synthetic_params_make_groups_of_seeds():
    params = [S.params_of(i, S.Shape(runs=20)) for i in range(1, 21)]
    assert all(len(p) == 20 for p in params)
    configs = {tuple((k, v) for k, v in p.items() if k != "seed") for p in params}
    assert len(configs) == 20 // S.SEEDS
    assert {p["seed"] for p in params} == set(range(S.SEEDS))


def test_bench_index_quick_runs_end_to_end(tmp_path):
    script = str(BENCHMARKS / "bench_index.py")
    sizes = ["--data", str(tmp_path), "--runs", "40", "--small-runs", "15"]
    cmd = [sys.executable, script, "--quick", "--only", "runlab", "--wait-quiet", "0", *sizes]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    runlab_result = out["results"]["runlab"]
    assert runlab_result["status"] == "ok", runlab_result
    assert runlab_result["index"]["ok"] and runlab_result["query"]["df"]["ok"]
    assert runlab_result["small"]["ok"]
    figures = out["figures"]
    assert figures["runs"] == 40
    assert figures["groupby_groups"] == 40 // S.SEEDS
    assert figures["index_runs_per_s"] > 0
    assert set(out["targets"]) <= set(figures)
    assert all(t["met"] is not None for t in out["targets"].values())
    assert sorted(p.name for p in tmp_path.iterdir()) == [S.Shape(15).key, S.Shape(40).key]
