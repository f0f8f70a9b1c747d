"""The plan: what ``runlab run`` would do with each config, decided without running anything.

A run in a sweep is identified by its **key**: the canonical hash of its resolved config
together with its task. Looking keys up in the index makes re-running a sweep after any
crash idempotent: a completed key is skipped; a failed, interrupted or lost one is run
again in its own folder (``attempt`` + 1, old logs kept); a new key runs in a new folder.
Extending a design runs only the new cells, and a config whose defaults changed is a new
key, so it runs as a new config.

Folders are named after the config's name. When that folder already belongs to another
key (the config changed under the same name), the new run's folder is
``<name>-<key prefix>``, and the plan says ``changed``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runlab.canonical import config_hash
from runlab.design import Config
from runlab.record.layout import safe_name
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask, Task


class PlanState(str, enum.Enum):
    """What ``run`` will do with one config."""

    NEW = "new"  # never run: will run
    DONE = "done"  # completed before: skipped
    RERUN = "rerun"  # failed, interrupted or lost before: will run again in its folder
    CHANGED = "changed"  # its name's folder holds another config: will run in a new folder
    RUNNING = "running"  # another launcher is running it now: skipped
    FORCED = "forced"  # completed, but --force: will run again

    @property
    def will_run(self) -> bool:
        return self in (PlanState.NEW, PlanState.RERUN, PlanState.CHANGED, PlanState.FORCED)


@dataclass(frozen=True)
class PlannedRun:
    """One config of the plan: its run folder id and what will happen to it."""

    position: int
    config: Config
    key: str
    run_id: str
    state: PlanState
    previous_status: str | None = None
    commands: tuple[tuple[str, str], ...] = ()
    task: Task | None = None

    @property
    def params(self) -> Mapping[str, Any]:
        return self.config.params

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "run_id": self.run_id,
            "name": self.config.name,
            "key": self.key,
            "state": self.state.value,
            "previous_status": self.previous_status,
            "params": dict(self.config.params),
            "commands": [{"name": n, "command": c} for n, c in self.commands],
        }


@dataclass(frozen=True)
class Plan:
    """Every config of a sweep, in design order, with its state; ``dropped`` as the design said."""

    sweep: str
    entries: tuple[PlannedRun, ...]
    dropped: tuple[Any, ...] = field(default=())

    @property
    def to_run(self) -> tuple[PlannedRun, ...]:
        return tuple(e for e in self.entries if e.state.will_run)

    def counts(self) -> dict[str, int]:
        out = {state.value: 0 for state in PlanState}
        for entry in self.entries:
            out[entry.state.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep,
            "counts": self.counts(),
            "runs": [e.to_json() for e in self.entries],
        }


def run_key(params: Mapping[str, Any], task: Task | None) -> str:
    """The identity of a run in a sweep: its config and its task, hashed canonically."""
    return config_hash({"config": dict(params), "task": task.identity() if task else None})


def reserved_values(run_id: str, name: str, sweep: str, output: str, time: str) -> dict[str, str]:
    """The values of the reserved template names for one run."""
    return {"_output": output, "_id": run_id, "_name": name, "_sweep": sweep, "_time": time}


def make_plan(
    store: Store,
    configs: Sequence[Config],
    task: Task | Callable[[Config], Task | None] | None,
    *,
    sweep: str,
    force: bool = False,
    dropped: Iterable[Any] = (),
    launch_time: str = "",
) -> Plan:
    """Compare each config with the runs in the store and decide what to do with it.

    ``task`` is one task for every config, or a function giving each config its own
    (a sweep file's ``_cmd`` picks commands per document: ``Sweep.task_for``).
    """
    known, taken = _known_runs(store)
    entries = []
    used_ids: set[str] = set()
    task_for = (
        task if callable(task) and not isinstance(task, (CommandTask, CallableTask)) else None
    )
    for position, config in enumerate(configs):
        config_task = task_for(config) if task_for else task
        key = run_key(config.params, config_task)
        previous = known.get(key)
        name_id = safe_name(config.name)
        if previous is not None:
            run_id, status = previous
            if status == RunStatus.COMPLETED.value:
                state = PlanState.FORCED if force else PlanState.DONE
            elif status == RunStatus.RUNNING.value:
                state = PlanState.RUNNING
            else:
                state = PlanState.RERUN
        else:
            status = None
            run_id = name_id
            state = PlanState.NEW
            if run_id in taken or run_id in used_ids or run_id.isdigit():
                # digits would collide with automatic ids; a taken name means another config
                state = PlanState.CHANGED if run_id in taken else PlanState.NEW
                run_id = f"{name_id}-{key[:8]}"
        used_ids.add(run_id)
        commands: tuple[tuple[str, str], ...] = ()
        if isinstance(config_task, CommandTask):
            output = str(store.root / run_id)
            reserved = reserved_values(run_id, config.name, sweep, output, launch_time)
            commands = tuple(config_task.render(config.params, reserved))
        entries.append(
            PlannedRun(position, config, key, run_id, state, status, commands, config_task)
        )
    return Plan(sweep, tuple(entries), tuple(dropped))


def _known_runs(store: Store) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """key → (run id, status) of every keyed run, and the set of every run id in the store."""
    if not store.root.exists():
        return {}, set()
    index = store.index()
    with index.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, _key, status FROM runs").all()
    known: dict[str, tuple[str, str]] = {}
    for run_id, key, status in rows:
        if key:
            known[key] = (run_id, status)
    return known, {row[0] for row in rows}


__all__ = ["Plan", "PlanState", "PlannedRun", "make_plan", "run_key"]
