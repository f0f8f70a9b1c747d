"""Helpers of the log-parser tests: a store of real command runs, and reading it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runlab.design import Group, Point
from runlab.launch.local import LocalLauncher
from runlab.launch.plan import make_plan
from runlab.launch.slots import make_slots
from runlab.store import Store
from runlab.tasks import CommandTask

# bleu → loss of each run; every test log says "BLEU4 = 1.5" first, then the run's bleu.
RUNS = {10.25: 0.5, 20.5: 0.25, 30.75: 0.125}
TASK = {
    "train": "echo step 1 loss = 0.9 && echo step 2 loss = {loss} && echo done",
    "test": "echo BLEU4 = 1.5 && echo 'beam=5 words=' {words} && echo BLEU4 = {bleu}",
}


def build_store(root: Path) -> Store:
    """Run the three configs of ``RUNS`` with the two commands of ``TASK`` into ``root``."""
    store = Store.at(root)
    design = Group(*(Point(bleu=b, loss=loss) for b, loss in RUNS.items()), defaults={"words": 7})
    configs = design.expand("s").configs
    task = CommandTask.from_templates(TASK)
    plan = make_plan(store, configs, task, sweep="s")
    result = LocalLauncher(store, make_slots(workers=3)).launch(plan, sweep="s")
    assert result.failed == [], result.outcomes
    return store


def summaries(store: Store) -> dict[str, dict[str, Any]]:
    """Every run's summary.json (``{}`` when it has none), by run id."""
    out = {}
    for run_dir in store.layout.iter_run_dirs():
        path = run_dir.summary_json
        out[run_dir.id] = json.loads(path.read_text()) if path.exists() else {}
    return out


def by_bleu(store: Store) -> dict[float, str]:
    """The run id of each bleu param."""
    return {
        json.loads(d.params_json.read_text())["bleu"]: d.id for d in store.layout.iter_run_dirs()
    }
