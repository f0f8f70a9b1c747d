"""examples/iris: the README's main job, run for real through `runlab run`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from example_helpers import ROOT, run_folders, runlab_in, snapshot

pytest.importorskip(
    "sklearn", reason="examples/iris needs scikit-learn: pip install -e '.[examples]'"
)

SWEEP = "examples/iris/sweep.yaml"
# kernel × C × degree is 27 cells; the where rule keeps degree None for linear and rbf
# (3 C each) and degree 2 or 3 for poly (6): 12 configs, × 3 seeds.
RUNS = 36


def runlab(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m runlab ARGS` from the repository root, as the README does."""
    return runlab_in(ROOT, *args)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("iris") / "runs"
    done = runlab("run", SWEEP, "--workers", "2", "--store", str(store))
    assert done.returncode == 0, done.stdout + done.stderr
    return store


def read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def test_every_config_completed_with_acc_and_f1(store: Path) -> None:
    folders = run_folders(store)
    assert len(folders) == RUNS
    for folder in folders:
        assert read(folder, "run.json")["status"] == "completed", folder.name
        summary = read(folder, "summary.json")
        assert 0 <= summary["acc"] <= 1 and 0 <= summary["f1"] <= 1, folder.name


def test_configs_are_the_grid_with_degree_only_for_poly(store: Path) -> None:
    params = [read(folder, "params.json") for folder in run_folders(store)]
    cells = {(p["kernel"], p["C"], p["degree"], p["seed"]) for p in params}
    expected = {
        (kernel, c, degree, seed)
        for kernel, degrees in (("linear", [None]), ("rbf", [None]), ("poly", [2, 3]))
        for c in (0.1, 1, 10)
        for degree in degrees
        for seed in (0, 1, 2)
    }
    assert cells == expected
    assert {p["test_size"] for p in params} == {0.3}


def test_linear_kernel_with_c_1_is_accurate(store: Path) -> None:
    accuracies = {}
    for folder in run_folders(store):
        params = read(folder, "params.json")
        if params["kernel"] == "linear" and params["C"] == 1:
            accuracies[params["seed"]] = read(folder, "summary.json")["acc"]
    assert sorted(accuracies) == [0, 1, 2]
    assert min(accuracies.values()) > 0.9


def test_each_run_logs_a_learning_curve(store: Path) -> None:
    for folder in run_folders(store):
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        points = [json.loads(line) for line in lines]
        assert [p["step"] for p in points] == [21, 42, 63, 84, 105], folder.name
        assert points[-1]["acc"] == read(folder, "summary.json")["acc"]


def test_running_again_does_nothing(store: Path) -> None:
    before = snapshot(store)
    again = runlab("run", SWEEP, "--workers", "2", "--store", str(store))
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot(store) == before
    plan = runlab("plan", SWEEP, "--store", str(store), "--json")
    assert json.loads(plan.stdout)["counts"]["done"] == RUNS


def test_the_python_design_is_the_same_study(store: Path) -> None:
    plan = runlab("plan", "examples/iris/designs.py:svm_grid", "--store", str(store), "--json")
    assert plan.returncode == 0, plan.stderr
    counts = {k: v for k, v in json.loads(plan.stdout)["counts"].items() if v}
    assert counts == {"done": RUNS}


def test_the_c_curve_runs_only_its_new_cells(store: Path) -> None:
    plan = runlab("plan", "examples/iris/designs.py:c_curve", "--store", str(store), "--json")
    assert plan.returncode == 0, plan.stderr
    counts = {k: v for k, v in json.loads(plan.stdout)["counts"].items() if v}
    # linear and rbf × 9 values of C × 3 seeds; C = 0.1, 1 and 10 were run by the sweep.
    assert counts == {"done": 2 * 3 * 3, "new": 2 * 6 * 3}
