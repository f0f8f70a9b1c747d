"""The plan: what ``runlab run`` would do with each config, decided without running anything.

A run in a sweep is identified by its **key**: the canonical hash of its resolved config
together with its task. Looking keys up in the index makes re-running a sweep after any
crash idempotent: a completed key is skipped; a failed, interrupted or lost one is run
again in its own folder (``attempt`` + 1, old logs kept); a new key runs in a new folder.
Extending a design runs only the new cells, and a config whose defaults changed is a new
key, so it runs as a new config.

A command task's key covers its whole template, never the commands selected (``_cmd``,
``-c``): the selection only says which **steps** to execute now. An entry is ``done``
when every selected command has completed in its run (``run.json``'s ``commands``, see
:mod:`runlab.launch.steps`); otherwise it executes, in template order and in the same
folder, the selected commands not completed yet (all of them with ``--force``). So
``-c train`` then ``-c test`` runs test where train left its checkpoint, and a run that
failed at its second command starts again from that command.

Folders are named after the config's name. When that folder already belongs to another
key (the config changed under the same name), the new run's folder is
``<name>-<key prefix>``, and the plan says ``changed``.
"""

from __future__ import annotations

import enum
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any

from runlab.bulk import paused_gc
from runlab.canonical import config_hash, hash_text, json_encoder
from runlab.design import Config
from runlab.design.naming import folder_name
from runlab.launch.steps import completed_steps, pending_steps
from runlab.record.files import read_json
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask, Task

_PARAMS_TEXT = json_encoder(default=str)  # what json.dumps(params, default=str) writes


class PlanState(str, enum.Enum):
    """What ``run`` will do with one config."""

    NEW = "new"  # never run: will run
    DONE = "done"  # completed before: skipped
    RERUN = "rerun"  # failed, interrupted or lost before: will run again in its folder
    CHANGED = "changed"  # its name's folder holds another config: will run in a new folder
    RUNNING = "running"  # another launcher is running it now: skipped
    FORCED = "forced"  # completed, but --force: will run again
    PARTIAL = "partial"  # completed other commands before: will run the selected ones it lacks

    @property
    def will_run(self) -> bool:
        return self in (
            PlanState.NEW,
            PlanState.RERUN,
            PlanState.CHANGED,
            PlanState.FORCED,
            PlanState.PARTIAL,
        )


@dataclass(frozen=True)
class PlannedRun:
    """One config of the plan: its run folder id and what will happen to it.

    ``commands`` are the selected commands of a command task, rendered; ``steps`` the
    names of those this invocation will execute (none for an entry that will not run).
    """

    position: int
    config: Config
    key: str
    run_id: str
    state: PlanState
    previous_status: str | None = None
    commands: tuple[tuple[str, str], ...] = ()
    task: Task | None = None
    steps: tuple[str, ...] = ()

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
            "steps": list(self.steps),
        }

    def to_json_text(self) -> str:
        """``json.dumps(self.to_json(), default=str)``, built directly.

        ``runlab plan --json`` prints one of these per config, and for a sweep of
        100,000 configs building each dict and encoding it is most of the command's time.
        """
        text = encode_basestring_ascii
        name = text(self.config.name)
        run_id = name if self.run_id is self.config.name else text(self.run_id)
        previous = "null" if self.previous_status is None else text(self.previous_status)
        commands = ", ".join(
            [f'{{"name": {text(n)}, "command": {text(c)}}}' for n, c in self.commands]
        )
        steps = ", ".join([text(n) for n in self.steps])
        return (
            f'{{"position": {self.position}, "run_id": {run_id}, "name": {name}, '
            f'"key": {text(self.key)}, "state": {text(self.state.value)}, '
            f'"previous_status": {previous}, "params": {_PARAMS_TEXT(dict(self.config.params))}, '
            f'"commands": [{commands}], "steps": [{steps}]}}'
        )


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
        tally = Counter(entry.state for entry in self.entries)
        return {state.value: tally[state] for state in PlanState}

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep,
            "counts": self.counts(),
            "runs": [e.to_json() for e in self.entries],
        }


def run_key(params: Mapping[str, Any], task: Task | None, *, canonical: str = "") -> str:
    """The identity of a run in a sweep: its config and its task, hashed canonically.

    A command task counts with its whole template, whichever commands it selects.

    ``canonical`` is the config's canonical JSON text when the caller has it (an
    expanded :class:`~runlab.design.Config` does): the same key, without normalising
    the config again, which is most of the cost of planning a large sweep.
    """
    identity = task.identity() if task else None
    if not canonical:
        return config_hash({"config": dict(params), "task": identity})
    return _key_from_text(canonical, identity)


def _key_from_text(canonical: str, identity: str | None) -> str:
    # The canonical text of {"config": params, "task": identity}: keys sorted, compact.
    task_text = "null" if identity is None else encode_basestring_ascii(identity)
    return hash_text(f'{{"config":{canonical},"task":{task_text}}}')


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
    (a sweep file's ``_cmd`` picks commands per document: ``Sweep.task_for``). A command
    task's entry says which of its selected commands will execute (``steps``); finding
    out reads the ``run.json`` of runs with several commands (see the module docstring).
    """
    with paused_gc():
        return _make_plan(
            store,
            configs,
            task,
            sweep=sweep,
            force=force,
            dropped=dropped,
            launch_time=launch_time,
        )


def _make_plan(
    store: Store,
    configs: Sequence[Config],
    task: Task | Callable[[Config], Task | None] | None,
    *,
    sweep: str,
    force: bool,
    dropped: Iterable[Any],
    launch_time: str,
) -> Plan:
    known, taken = _known_runs(store)
    entries = []
    used_ids: set[str] = set()
    task_for = (
        task if callable(task) and not isinstance(task, (CommandTask, CallableTask)) else None
    )
    prefix = os.path.join(os.fspath(store.root), "")  # a run's output: prefix + run id
    # A sweep has a handful of tasks and many configs: each task's identity text, once.
    identities: dict[int, str] = {}
    for position, config in enumerate(configs):
        config_task = task_for(config) if task_for else task
        if config.canonical and config_task is not None:
            identity = identities.get(id(config_task))
            if identity is None:
                identity = identities[id(config_task)] = config_task.identity()
            key = _key_from_text(config.canonical, identity)
        else:
            key = run_key(config.params, config_task, canonical=config.canonical)
        previous = known.get(key)
        name_id = folder_name(config.name)
        if previous is not None:
            run_id, status = previous
            state, steps = _state(store, run_id, status, key, config_task, force=force)
        else:
            status = None
            run_id = name_id
            state = PlanState.NEW
            if run_id in taken or run_id in used_ids or run_id.isdigit():
                # digits would collide with automatic ids; a taken name means another config
                state = PlanState.CHANGED if run_id in taken else PlanState.NEW
                run_id = f"{name_id}-{key[:8]}"
            steps = _selected(config_task)
        used_ids.add(run_id)
        commands: tuple[tuple[str, str], ...] = ()
        if isinstance(config_task, CommandTask):
            reserved = reserved_values(run_id, config.name, sweep, prefix + run_id, launch_time)
            commands = tuple(config_task.render(config.params, reserved))
        entries.append(
            PlannedRun(position, config, key, run_id, state, status, commands, config_task, steps)
        )
    return Plan(sweep, tuple(entries), tuple(dropped))


def _selected(task: Task | None) -> tuple[str, ...]:
    return tuple(c.name for c in task.steps) if isinstance(task, CommandTask) else ()


def _state(
    store: Store, run_id: str, status: str, key: str, task: Task | None, *, force: bool
) -> tuple[PlanState, tuple[str, ...]]:
    """What becomes of a config that has a run already, and the steps it will execute."""
    completed = status == RunStatus.COMPLETED.value
    if status == RunStatus.RUNNING.value:
        return PlanState.RUNNING, ()
    if not isinstance(task, CommandTask):
        if completed:
            return (PlanState.FORCED if force else PlanState.DONE), ()
        return PlanState.RERUN, ()
    record = None
    if len(task.commands) > 1:  # with one command, its status says it all
        record = read_json(store.layout.run_dir(run_id).run_json, default=None, warn=False)
    if isinstance(record, dict):
        done = completed_steps(record, task.names, key=key)
    else:
        done = frozenset(task.names) if completed else frozenset()
    steps = pending_steps(_selected(task), done, force=force)
    if not steps:
        return PlanState.DONE, ()
    if force and completed:
        return PlanState.FORCED, steps
    return (PlanState.PARTIAL if completed else PlanState.RERUN), steps


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
