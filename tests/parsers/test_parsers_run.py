"""A sweep's ``metrics:`` applied as each run ends: real ``runlab run`` and the local launcher."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

from runlab.design import Grid
from runlab.launch.local import LocalLauncher
from runlab.launch.plan import make_plan
from runlab.launch.slots import make_slots
from runlab.record.parsers import ParseWarning
from runlab.store import Store
from runlab.tasks import CallableTask

SWEEP = """\
template:
  train: echo loss = 0.5 && echo loss = {loss}
  test: echo BLEU4 = {bleu} && exit {code}
default:
  loss: 0.25
  code: 0
metrics:
  bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)', last: true}
  loss: {log: train, regex: 'loss = ([0-9.]+)'}
  first_loss: {log: train, regex: 'loss = ([0-9.]+)', last: false}
  eval: {log: eval, regex: 'acc = ([0-9.]+)'}
---
bleu: [10.5, 20]
---
bleu: [30]
code: [3]
"""


def run_sweep(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["GIT_CEILING_DIRECTORIES"] = str(cwd.parent)
    return subprocess.run(
        [sys.executable, "-m", "runlab", "--store", str(cwd / "runs"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def folders(store: Path) -> dict[float, Path]:
    return {
        json.loads((p / "params.json").read_text())["bleu"]: p
        for p in store.iterdir()
        if (p / "run.json").exists()
    }


def test_runlab_run_records_parsed_values_before_the_run_shows_finished(tmp_path):
    (tmp_path / "params.yaml").write_text(SWEEP)
    done = run_sweep(tmp_path, "run", "params.yaml", "--workers", "3")
    assert done.returncode == 1, done.stderr  # the run with code 3 failed
    runs = folders(tmp_path / "runs")
    assert sorted(runs) == [10.5, 20, 30]
    for bleu, folder in runs.items():
        summary = json.loads((folder / "summary.json").read_text())
        assert summary == {"bleu": float(bleu), "loss": 0.25, "first_loss": 0.5}
        report = json.loads((folder / "reports" / "1.json").read_text())
        assert report["summary"] == summary
    assert json.loads((runs[30] / "run.json").read_text())["status"] == "failed"
    # A completed run missing a value is worth a warning; a failed one is expected to.
    warnings = sorted(line for line in done.stderr.splitlines() if "metrics." in line)
    assert warnings == sorted(
        f"warning: run {runs[b].name}: metrics.eval: no log 'eval'" for b in (10.5, 20)
    )
    listing = run_sweep(tmp_path, "ls", "--json")
    rows = json.loads(listing.stdout)
    assert sorted(r["metrics.bleu"] for r in rows) == [10.5, 20.0, 30.0]


def test_the_local_launcher_parses_a_python_tasks_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fit_task.py").write_text(
        textwrap.dedent(
            """\
            def fit(config, run):
                for epoch in range(3):
                    print(f"epoch {epoch} acc = {config['base'] + epoch / 10}", flush=True)
                return {"kept": 1}
            """
        )
    )
    store = Store.at(tmp_path / "runs")
    task = CallableTask("fit_task:fit")
    configs = Grid(base=[0.5, 0.25]).expand("fit").configs
    plan = make_plan(store, configs, task, sweep="fit")
    metrics = {
        "acc": {"log": "stdout", "regex": r"acc = (\S+)"},
        "epochs": {"log": "stdout", "regex": r"epoch (\d+)", "type": "int"},
    }
    launcher = LocalLauncher(store, make_slots(workers=1), metrics=metrics)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = launcher.launch(plan, sweep="fit")
    assert [w for w in caught if issubclass(w.category, ParseWarning)] == []
    assert result.failed == []
    got = {
        json.loads((store.root / e.run_id / "params.json").read_text())["base"]: json.loads(
            (store.root / e.run_id / "summary.json").read_text()
        )
        for e in plan.entries
    }
    assert got == {
        0.5: {"kept": 1, "acc": 0.7, "epochs": 2},
        0.25: {"kept": 1, "acc": 0.45, "epochs": 2},
    }
