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
from types import MappingProxyType
from typing import Any

from runlab.bulk import column_texts, paused_gc
from runlab.canonical import config_hash, hash_text, json_encoder
from runlab.design import Config
from runlab.design.naming import folder_name
from runlab.launch.steps import completed_steps, pending_steps
from runlab.record.files import read_json
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tasks import RESERVED, CallableTask, CommandTask, Task

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


@dataclass(frozen=True, init=False)
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

    def __init__(
        self,
        position: int,
        config: Config,
        key: str,
        run_id: str,
        state: PlanState,
        previous_status: str | None = None,
        commands: tuple[tuple[str, str], ...] = (),
        task: Task | None = None,
        steps: tuple[str, ...] = (),
    ) -> None:
        # A plan makes one per config, and the generated frozen __init__ sets each field
        # through a call of object.__setattr__: four times the cost of one update.
        self.__dict__.update(
            position=position,
            config=config,
            key=key,
            run_id=run_id,
            state=state,
            previous_status=previous_status,
            commands=commands,
            task=task,
            steps=steps,
        )

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


def json_lines(entries: Sequence[PlannedRun]) -> list[str]:
    """Return ``json.dumps(entry.to_json(), default=str)`` of every entry, built directly.

    ``runlab plan --json`` prints one line per config. What many entries share is
    encoded once: the few distinct statuses and step lists, every command name, and,
    when every config has the same keys in the same order (a grid), each key's
    distinct values: building each dict and encoding it would be most of the time the
    command takes on 100,000 configs.
    """
    text = encode_basestring_ascii
    shown = {s: "null" if s is None else text(s) for s in {e.previous_status for e in entries}}
    listed = {steps: ", ".join(map(text, steps)) for steps in {e.steps for e in entries}}
    params = _params_texts([e.config.params for e in entries])
    commands = _commands_texts([e.commands for e in entries])
    return [
        f'{{"position": {e.position}, "run_id": {text(e.run_id)}, "name": {text(e.config.name)}, '
        f'"key": {text(e.key)}, "state": {text(e.state)}, '
        f'"previous_status": {shown[e.previous_status]}, "params": {p}, '
        f'"commands": [{c}], "steps": [{listed[e.steps]}]}}'
        for e, p, c in zip(entries, params, commands, strict=True)
    ]


def _commands_texts(commands: list[tuple[tuple[str, str], ...]]) -> list[str]:
    """The inside of each entry's ``"commands": [...]``, from its (name, line) pairs."""
    text = encode_basestring_ascii
    names = {name: text(name) for pairs in commands for name, _ in pairs}
    if set(map(len, commands)) == {1}:  # one command each: no inner loop per entry
        return [
            f'{{"name": {names[pairs[0][0]]}, "command": {text(pairs[0][1])}}}'
            for pairs in commands
        ]
    return [
        ", ".join([f'{{"name": {names[n]}, "command": {text(line)}}}' for n, line in pairs])
        for pairs in commands
    ]


def _params_texts(params: list[Mapping[str, Any]]) -> Iterable[str]:
    """``json.dumps(dict(p), default=str)`` of each of ``params``.

    Made key by key (see :func:`runlab.bulk.column_texts`) when every mapping has the
    same keys in the same order and each key's values are all ints or all strings.
    """
    if not params or len(set(map(tuple, params))) != 1:
        return [_PARAMS_TEXT(dict(p)) for p in params]
    keys = tuple(params[0])
    if not keys:
        return ["{}"] * len(params)
    pieces = column_texts(
        params,
        keys,
        lambda key, v: f"{encode_basestring_ascii(key)}: {_PARAMS_TEXT(v)}",
        _INTS_OR_TEXT,
    )
    if pieces is None:
        return [_PARAMS_TEXT(dict(p)) for p in params]
    return map("{{{}}}".format, map(", ".join, pieces))


_INTS_OR_TEXT = (frozenset((int,)), frozenset((str,)))


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
    return _key_from_text(canonical, _key_end(identity))


def _key_from_text(canonical: str, end: str) -> str:
    # The canonical text of {"config": params, "task": identity}: keys sorted, compact.
    return hash_text(f'{{"config":{canonical}{end}')


def _key_end(identity: str | None) -> str:
    """The end of a run key's text, after the config's canonical text."""
    task_text = "null" if identity is None else encode_basestring_ascii(identity)
    return f',"task":{task_text}}}'


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
    # A sweep has a handful of tasks and many configs: what each task gives every config
    # (the end of its keys' text, the steps it selects) is worked out once per task.
    facts: dict[int, _TaskFacts] = {}
    for position, config in enumerate(configs):
        config_task = task_for(config) if task_for else task
        about = facts.get(id(config_task))
        if about is None:
            about = facts[id(config_task)] = _TaskFacts.of(config_task)
        if config.canonical:
            key = _key_from_text(config.canonical, about.key_end)
        else:
            key = run_key(config.params, config_task)
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
            steps = about.steps
        used_ids.add(run_id)
        commands: tuple[tuple[str, str], ...] = ()
        if isinstance(config_task, CommandTask):
            reserved = (
                reserved_values(run_id, config.name, sweep, prefix + run_id, launch_time)
                if about.reserved
                else _NONE_RESERVED
            )
            commands = tuple(config_task.render(config.params, reserved))
        entries.append(
            PlannedRun(position, config, key, run_id, state, status, commands, config_task, steps)
        )
    return Plan(sweep, tuple(entries), tuple(dropped))


@dataclass(frozen=True)
class _TaskFacts:
    """What a task gives every config it runs: the same for all of them, so made once.

    ``key_end`` ends the text a run key hashes (after the config's canonical text; see
    :func:`_key_from_text`), ``steps`` are the commands a new run executes, and
    ``reserved`` says whether they name a reserved value such as ``{_output}``.
    """

    key_end: str
    steps: tuple[str, ...]
    reserved: bool

    @classmethod
    def of(cls, task: Task | None) -> _TaskFacts:
        identity = task.identity() if task is not None else None
        names = (
            {name for c in task.steps for name in c.values} if isinstance(task, CommandTask) else ()
        )
        return cls(_key_end(identity), _selected(task), any(n in RESERVED for n in names))


_NONE_RESERVED: Mapping[str, str] = MappingProxyType({})  # for commands that name none


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


__all__ = ["Plan", "PlanState", "PlannedRun", "json_lines", "make_plan", "run_key"]
