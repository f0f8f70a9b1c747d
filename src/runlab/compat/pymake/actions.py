"""The task of pymake runs: ``runlab.compat.pymake.actions:<Script>.<action>``.

runlab's worker imports this module and asks it for the attribute ``MyScripts.fit``
(module ``__getattr__``), which is a task ``fn(config, run)`` that instantiates the
script class on the experiment and calls the action. The worker stays alive for every
run of its slot, so with one slot (the default) the experiments of a sweep run in one
process, in order, and share ``self.D``, as pymake's sequential runs did.

Which experiments form the batch is decided in the launcher: :func:`first` (called by
``runlab run`` before any run, see :func:`runlab.launch.sweeps.sweep_hooks`) writes the
ids of the runs that will run to ``<store>/.pymake/<sweep>.json``; :func:`last` removes
it. ``is_first_expe()`` is the first experiment of the batch a process runs (with
``--workers N`` each worker process has its own ``self.D``, as pymake's ``--cores``
had none), ``is_last_expe()`` the batch's last. A run started without a batch file is a
batch of its own: first and last.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlab.compat.pymake.project import find_project
from runlab.compat.pymake.types import ExpSpace
from runlab.errors import UsageError
from runlab.record.files import atomic_write_json, read_json
from runlab.record.layout import safe_name

BATCH_FOLDER = ".pymake"
_WILL_RUN = ("new", "rerun", "changed", "forced")


@dataclass
class _Batch:
    """A batch as one worker process sees it: the run ids in order, ``D``, ids it ran."""

    runs: tuple[str, ...]
    shared: ExpSpace = field(default_factory=ExpSpace)
    started: set[str] = field(default_factory=set)


# Per worker process: the batches its runs belong to, by the token first() wrote. This is
# the state pymake kept in its one process; a worker lives exactly as long as its launch.
_BATCHES: dict[str, _Batch] = {}
_TASKS: dict[str, Callable[[dict[str, Any], Any], Any]] = {}


def batch_file(store: Path, sweep: str) -> Path:
    """Where the launcher lists a sweep's batch for its workers."""
    return store / BATCH_FOLDER / f"{safe_name(sweep)}.json"


def first(runs: Sequence[Mapping[str, Any]]) -> None:
    """Before a sweep runs: record which of its runs will run, in order (the batch)."""
    if not runs:
        return
    store = Path(str(runs[0]["dir"])).parent
    sweep = str(runs[0].get("sweep") or "")
    if "state" in runs[0]:
        ids = [str(r["id"]) for r in runs if r.get("state") in _WILL_RUN]
    else:
        ids = [str(r["id"]) for r in runs if r.get("status") not in ("completed", "running")]
    path = batch_file(store, sweep)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"token": uuid.uuid4().hex, "runs": ids})


def last(runs: Sequence[Mapping[str, Any]]) -> None:
    """After a sweep: its batch file is no longer needed."""
    if runs:
        store = Path(str(runs[0]["dir"])).parent
        batch_file(store, str(runs[0].get("sweep") or "")).unlink(missing_ok=True)


def _batch_of(run: Any) -> _Batch:
    store = Path(os.environ.get("RUNLAB_STORE") or Path(run.dir).parent)
    sweep = str((run.record or {}).get("sweep") or "")
    data = read_json(batch_file(store, sweep), default=None, warn=False) if sweep else None
    if isinstance(data, dict) and run.id in (data.get("runs") or ()):
        token = str(data.get("token"))
        if token not in _BATCHES:
            _BATCHES[token] = _Batch(tuple(str(r) for r in data["runs"]))
        return _BATCHES[token]
    return _Batch((run.id,))


def run_action(ref: str, config: dict[str, Any], run: Any) -> Any:
    """Run action ``Script.action`` on one experiment; a returned dict joins the summary."""
    project = find_project()
    if project is None:
        raise UsageError(f"{Path.cwd()}: not in a pymake project (no pymake.cfg here or above)")
    action = project.action(ref)
    batch = _batch_of(run)
    position = batch.runs.index(run.id)
    script = action.cls(
        config,
        run,
        data=project.data,
        position=position,
        size=len(batch.runs),
        first=not batch.started,
        last=position == len(batch.runs) - 1,
        shared=batch.shared,
        project=project,
    )
    batch.started.add(run.id)
    result = getattr(script, action.name)()
    script.close(ok=True)
    return result if isinstance(result, dict) else None


def __getattr__(name: str) -> Callable[[dict[str, Any], Any], Any]:
    """``Script.action`` → the task running that action (what ``CallableTask.load`` asks)."""
    if name.startswith("__") or "." not in name:
        raise AttributeError(name)
    if name not in _TASKS:

        def task(config: dict[str, Any], run: Any) -> Any:
            return run_action(name, config, run)

        task.__qualname__ = task.__name__ = name
        _TASKS[name] = task
    return _TASKS[name]
