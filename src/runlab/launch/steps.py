"""The steps of a command-task run: which of its named commands ran, and how each ended.

A command task's run is its config and its whole template (see
:class:`~runlab.tasks.CommandTask`); ``_cmd`` and ``runlab run -c`` only say which
commands to execute now. So one run folder collects its commands over several
invocations, as mlrunner's per-command ``stat`` file did, and ``run.json`` says how far
it got::

    "commands": {"train": {"status": "completed", "exit_code": 0, "attempt": 1},
                 "test": {"status": "failed", "exit_code": 2, "attempt": 2}},
    "steps": ["test"]

- ``commands``: one entry per command that has started in this run, in template order:
  its status (RunStatus words: ``running`` while it runs, then ``completed``,
  ``failed`` or ``interrupted``), its exit code (``null`` while it runs), and the
  attempt of the run that last executed it. A command never started has no entry.
- ``steps``: the commands the latest attempt was asked to execute, in order. The run's
  own ``status`` is ``completed`` when every one of them completed.

A run recorded before steps were recorded (no ``commands``) counts as having completed
every command of its template when its status is ``completed``, and none otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runlab.record.status import RunStatus

COMMANDS = "commands"
STEPS = "steps"
_COMPLETED = RunStatus.COMPLETED.value


def completed_steps(
    record: Mapping[str, Any] | None, template: Sequence[str], *, key: str | None = None
) -> frozenset[str]:
    """The commands of ``template`` that have completed in the run ``record`` describes.

    With ``key``, a record of another key (another config or template) completed nothing.
    """
    if not isinstance(record, Mapping) or (key is not None and record.get("key") != key):
        return frozenset()
    commands = record.get(COMMANDS)
    if not isinstance(commands, Mapping):
        return frozenset(template) if record.get("status") == _COMPLETED else frozenset()
    return frozenset(
        name
        for name in template
        if isinstance(commands.get(name), Mapping) and commands[name].get("status") == _COMPLETED
    )


def pending_steps(
    selected: Sequence[str], completed: frozenset[str], *, force: bool
) -> tuple[str, ...]:
    """The selected commands to execute now: those not completed yet, or all with ``force``."""
    if force:
        return tuple(selected)
    return tuple(name for name in selected if name not in completed)


def carried_commands(
    previous: Mapping[str, Any] | None, template: Sequence[str], *, key: str
) -> dict[str, dict[str, Any]]:
    """The per-command entries a new attempt of a run starts from (see the module docstring).

    A run recorded before steps were recorded gets entries now: every command completed
    in its last attempt when it completed, none otherwise.
    """
    if not isinstance(previous, Mapping) or previous.get("key") != key:
        return {}
    commands = previous.get(COMMANDS)
    if isinstance(commands, Mapping):
        return {
            name: dict(commands[name])
            for name in template
            if isinstance(commands.get(name), Mapping)
        }
    if previous.get("status") != _COMPLETED:
        return {}
    attempt = int(previous.get("attempt") or 1)
    return {name: {"status": _COMPLETED, "exit_code": 0, "attempt": attempt} for name in template}


def set_step(
    record: dict[str, Any],
    template: Sequence[str],
    name: str,
    *,
    status: RunStatus,
    exit_code: int | None,
) -> None:
    """Record in ``record`` that command ``name`` is now ``status`` in this attempt.

    The entries stay in template order, whatever order the steps ran in over time.
    """
    commands = dict(record.get(COMMANDS) or {})
    commands[name] = {
        "status": status.value,
        "exit_code": exit_code,
        "attempt": int(record.get("attempt") or 1),
    }
    record[COMMANDS] = {n: commands[n] for n in template if n in commands}
