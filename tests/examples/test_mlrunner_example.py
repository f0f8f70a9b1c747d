"""examples/mlrunner: mlrunner's README sweep, run for real from its folder."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from example_helpers import ROOT, run_folders, runlab_in, snapshot

FOLDER = ROOT / "examples" / "mlrunner"
# (norm, moment, early-stop) → the BLEU4 of mlrunner's README table.
EXPECTED = {
    ("new", 0.1, False): "11.00",
    ("new", 0.05, False): "12.30",
    ("batch", 0.1, False): "14.40",
    ("batch", 0.05, False): "16.50",
    ("batch", 0.1, True): "15.00",
}


def runlab(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m runlab ARGS` in examples/mlrunner."""
    return runlab_in(FOLDER, *args)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("mlrunner") / "runs"
    done = runlab("run", "params.yaml", "--store", str(store))
    assert done.returncode == 0, done.stdout + done.stderr
    return store


def test_five_runs_of_three_commands_each(store: Path) -> None:
    folders = run_folders(store)
    assert len(folders) == 5
    logs = sorted(str(p.relative_to(store)) for p in store.glob("*/logs/*.log"))
    assert len(logs) == 15
    for folder in folders:
        assert json.loads((folder / "run.json").read_text())["status"] == "completed"
        assert sorted(p.name for p in (folder / "logs").iterdir()) == [
            "avg.log",
            "test.log",
            "train.log",
        ]


def test_every_test_log_has_the_bleu_of_its_params(store: Path) -> None:
    scores = {}
    for folder in run_folders(store):
        params = json.loads((folder / "params.json").read_text())
        match = re.search(r"BLEU4 = (\S+)", (folder / "logs" / "test.log").read_text())
        assert match, folder.name
        scores[(params["norm"], params["moment"], params["early-stop"])] = match[1]
    assert scores == EXPECTED


def test_the_metrics_section_puts_each_bleu_in_its_summary(store: Path) -> None:
    scores = {}
    for folder in run_folders(store):
        params = json.loads((folder / "params.json").read_text())
        summary = json.loads((folder / "summary.json").read_text())
        scores[(params["norm"], params["moment"], params["early-stop"])] = summary["bleu"]
    assert scores == {key: float(bleu) for key, bleu in EXPECTED.items()}
    listing = runlab("--store", str(store), "ls", "--json")
    assert listing.returncode == 0, listing.stderr
    assert sorted(row["metrics.bleu"] for row in json.loads(listing.stdout)) == sorted(
        float(bleu) for bleu in EXPECTED.values()
    )


def test_scripts_write_checkpoints_into_the_run_folder(store: Path) -> None:
    for folder in run_folders(store):
        params = json.loads((folder / "params.json").read_text())
        epochs = 6 if params["early-stop"] else 8
        checkpoints = {p.name for p in folder.glob("checkpoint*.pt")}
        assert checkpoints == {f"checkpoint{n}.pt" for n in range(1, epochs + 1)}
        assert json.loads((folder / "avg.pt").read_text())["epochs"] == list(
            range(epochs - 4, epochs + 1)
        )


def test_each_run_had_one_gpu_of_the_resource_list(store: Path) -> None:
    for folder in run_folders(store):
        train = (folder / "logs" / "train.log").read_text()
        assert re.search(r", gpu [0-3]\n", train), train


def test_running_again_does_nothing(store: Path) -> None:
    before = snapshot(store)
    again = runlab("run", "params.yaml", "--store", str(store))
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot(store) == before
    plan = runlab("plan", "params.yaml", "--store", str(store), "--json")
    assert json.loads(plan.stdout)["counts"]["done"] == 5
