"""Plain helpers shared by the query tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import runlab


def record(store: Path, params: dict[str, Any], summary: dict[str, Any] | None = None, **kw: Any):
    """Record one finished run of ``params`` with ``summary`` in ``store``."""
    with runlab.start(params, store=store, capture=False, git=False, **kw) as run:
        if summary:
            run.summary(summary)
    return run


def fail(store: Path, params: dict[str, Any], summary: dict[str, Any]) -> None:
    """Record a run that raises: status failed, message "ValueError: boom"."""
    with runlab.start(params, store=store, capture=False, git=False, catch=True) as run:
        run.summary(summary)
        raise ValueError("boom")


def make_lost(store: Path, source: str, run_id: str) -> None:
    """Copy run ``source`` to ``run_id`` as a run still ``running`` on a host that is gone."""
    shutil.copytree(store / source, store / run_id)
    record_path = store / run_id / "run.json"
    data = json.loads(record_path.read_text())
    data.update(id=run_id, name=run_id, status="running", host="gone-host", end=None)
    record_path.write_text(json.dumps(data))
    (store / run_id / ".heartbeat").unlink(missing_ok=True)
    old = time.time() - 3600  # run.json stands for the first heartbeat: make it old too
    os.utime(record_path, (old, old))
    (store / ".changed" / run_id).touch()


# The zoo: 5 numbered runs, run "10" and the named run "best".
#   id    model  lr     seed  flag   mixed  layers    acc  loss(np.float32)  steps(np.int64)
#   1     cnn    0.1    1     True   1      [64, 64]  1.0  0.5               10     nanv=NaN
#   2     cnn    0.01   2     False  "a"    [32]      2.0  0.25              20
#   3     cnn    0.1    1     True   2.5    -         3.0  -                 30     failed
#   4     mlp    0.01   2     -      -      -         3.0  -                 -      tags.team=x
#   5     mlp    1      3     -      -      -         4.0  -                 -
#   10    rnn    -      -     -      -      -         -    -                 -
#   best  mlp    0.001  3     -      -      -         0.5  -                 -      name "best"
ZOO_IDS = ["1", "2", "3", "4", "5", "10", "best"]


# The grid: ids 1-12 in this order (kernel, C, then seed 1, 2, 3); val_loss = 1 - acc.
#   kernel  C    acc by seed         mean  std (ddof=1)
#   linear  0.1  0.80 0.82 0.84      0.82  0.02
#   linear  1    0.85 0.86 0.87      0.86  0.01
#   rbf     0.1  0.88 0.90 0.92      0.90  0.02
#   rbf     1    0.87 0.89 0.85      0.87  0.02
GRID_ACC = {
    ("linear", 0.1): (0.80, 0.82, 0.84),
    ("linear", 1): (0.85, 0.86, 0.87),
    ("rbf", 0.1): (0.88, 0.90, 0.92),
    ("rbf", 1): (0.87, 0.89, 0.85),
}
