"""Open and close a sweep run's folder: claim it, record the attempt, record the outcome.

The launcher, not the task, owns a sweep run's status: ``run.json`` carries the
launcher's pid, so a launcher killed with SIGKILL leaves its runs ``running`` with a dead
pid, which every reader judges ``lost`` and the next ``runlab run`` runs again.

Two launchers on the same store never run one config at once. A launcher that creates
a run folder (``mkdir``, atomic everywhere) owns it: that ``mkdir`` is its claim, and the
``run.json`` it writes a moment later (status ``running``, its host and pid) says whose
it is. A launcher that finds the folder already there claims it by creating ``.claim``
exclusively (``O_EXCL``) and reads the record again under that claim, so a config
another launcher completed a moment ago is not run twice; it backs off from a folder
whose ``running`` record has a live owner, and from a folder without a record that is
younger than a minute (its creator is writing the record now). A claim or a record
whose owner is gone (same host: pid dead; another host: no heartbeat for a minute) is
taken over. So a new run costs no claim file, and a re-entered one costs one.

A launcher killed with SIGKILL may leave its tasks running. Every task process gets
``RUNLAB_RUN_DIR`` in its environment, and children inherit it, so the next attempt
finds the leftovers by that variable and ends them: nothing is written per run for it,
and the search only happens when a run was left ``running`` on this host.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from runlab.canonical import config_hash, to_jsonable
from runlab.launch.steps import (
    COMMANDS,
    STEPS,
    carried_commands,
    completed_steps,
    pending_steps,
    set_step,
)
from runlab.record import git as gitmod
from runlab.record.attempt import begin_attempt
from runlab.record.files import atomic_write_json, atomic_write_text, read_json
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.parsers import Parser, ParseWarning, apply_parsers
from runlab.record.run import base_record, utc_iso
from runlab.record.status import (
    LOST_AFTER_SECONDS,
    RunStatus,
    identity,
    is_lost,
    process_start_time,
)

_COMPLETED = RunStatus.COMPLETED.value
CLAIM_FILE = ".claim"
LAUNCHER_VAR = "RUNLAB_LAUNCHER_PID"  # in a slot worker's environment: who started it


@dataclass(frozen=True)
class Outcome:
    """How one attempt of a run ended."""

    status: RunStatus
    exit_code: int
    error: str | None = None
    error_text: str | None = None
    summary: Mapping[str, Any] | None = None


def _claim_text() -> bytes:
    """What a claim file holds for this process: its host, pid and pid start."""
    pid, host, pid_start = identity()
    return json.dumps({"host": host, "pid": pid, "pid_start": pid_start}).encode()


# The claim files this process created and has not released: releasing a folder it
# owns by its mkdir (no claim file) must not delete another launcher's claim in it.
_HELD: set[str] = set()


def claim(run_dir: RunDir) -> bool:
    """Claim a run folder for this process; False if a live launcher holds it."""
    path = run_dir.file(CLAIM_FILE)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if not _claim_is_stale(run_dir, path):
                return False
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            continue
        try:
            os.write(fd, _claim_text())
        finally:
            os.close(fd)
        _HELD.add(path)
        return True
    return False


def release(run_dir: RunDir) -> None:
    """Give up this process's claim file on ``run_dir``, if it holds one."""
    if not _HELD:  # no claim file to give up: a folder this process created takes none
        return
    path = run_dir.file(CLAIM_FILE)
    if path not in _HELD:
        return
    _HELD.discard(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def end_leftovers(run_dir: RunDir, launcher_pid: int) -> int:
    """SIGKILL the processes of this host still working in ``run_dir``; return how many.

    They were started by launcher ``launcher_pid``, which died without ending them:
    every process whose environment names this run folder (``RUNLAB_RUN_DIR``, which
    children inherit), with its process group when it leads one, and that launcher's
    orphaned Python workers (``RUNLAB_LAUNCHER_PID``; a worker whose parent still is
    that pid belongs to a live launcher that got the pid again). A process's
    environment is its own, so a recycled pid never matches.
    """
    import signal

    import psutil

    target = os.path.realpath(run_dir.path)
    found = []
    for proc in psutil.process_iter(["ppid", "environ"]):
        env = proc.info.get("environ") or {}
        folder = env.get("RUNLAB_RUN_DIR")
        if (folder and os.path.realpath(folder) == target) or (
            env.get(LAUNCHER_VAR) == str(launcher_pid) and proc.info.get("ppid") != launcher_pid
        ):
            found.append(proc.pid)
    for pid in found:
        if pid == os.getpid():
            continue
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(found)


def _claim_is_stale(run_dir: RunDir, path: str) -> bool:
    owner = read_json(path, default=None, warn=False)
    if not isinstance(owner, dict):
        try:  # being written this very moment, or torn by a crash: judge by its age
            return time.time() - os.stat(path).st_mtime > LOST_AFTER_SECONDS
        except FileNotFoundError:
            return True
    if owner.get("host") == identity()[1]:
        started = process_start_time(int(owner.get("pid") or 0))
        return started is None or (
            owner.get("pid_start") is not None and abs(started - float(owner["pid_start"])) > 1.0
        )
    beat = run_dir.last_beat()
    if beat is None:  # the claim came before the record: judge by the claim's age
        beat = os.stat(path).st_mtime
    return time.time() - beat > LOST_AFTER_SECONDS


def open_attempt(
    layout: StoreLayout,
    run_id: str,
    params: Mapping[str, Any],
    *,
    key: str,
    name: str,
    sweep: str,
    command: list[str],
    force: bool = False,
    params_hash: str | None = None,
    template: Sequence[str] = (),
    selected: Sequence[str] = (),
) -> tuple[RunDir, dict[str, Any]] | None:
    """Create or claim the run folder and open a new attempt; None when it must not run now.

    It must not run when another launcher holds it (see the module docstring), or when
    (re-read after the claim) it turns out completed with this key and ``force`` is off.
    A new folder is removed again if opening it fails, so none is left without a record.
    ``params_hash`` is the config's canonical hash when the caller has it (an expanded
    config does), so it is not computed again per run.

    For a command task, ``template`` names every command of the template and
    ``selected`` the commands asked for, one per line of ``command``. The attempt
    executes the selected commands this run has not completed (all of them with
    ``force``): the record's ``steps`` (see :mod:`runlab.launch.steps`), and ``command``
    keeps their lines. Only their logs move aside; the other commands' logs stay.
    """
    run_dir = layout.run_dir(run_id)
    fresh = _create(run_dir)
    if fresh:
        previous = None
    else:
        entered = _enter(run_dir)
        if entered is False:
            return None
        previous = entered
    try:
        steps = _steps(previous, key, template, selected, force=force)
        if steps is None:
            release(run_dir)
            return None
        state = gitmod.git_state()
        params_json = to_jsonable(dict(params))
        if template:
            command = [line for step, line in zip(selected, command, strict=True) if step in steps]
        record = base_record(
            run_id,
            name=name,
            description="",
            tags=None,
            params_hash=params_hash or config_hash(params_json),
            git=state.as_record() if state is not None else None,
            command=command,
            sweep=sweep,
        )
        record["key"] = key
        if template:
            _plan_steps(run_dir, record, previous, template, steps)
        elif previous is not None:
            _keep_old_logs(run_dir, int(previous.get("attempt") or 1))
        record = begin_attempt(
            layout,
            run_dir,
            record,
            params_json,
            previous=previous,
            git=state,
            fresh=fresh,
        )
    except BaseException:
        # Nothing half-made is left: a folder this call created goes, a claim is given up.
        if fresh:
            shutil.rmtree(run_dir.path, ignore_errors=True)
        else:
            release(run_dir)
        raise
    return run_dir, record


def _plan_steps(
    run_dir: RunDir,
    record: dict[str, Any],
    previous: dict[str, Any] | None,
    template: Sequence[str],
    steps: tuple[str, ...],
) -> None:
    """Put the attempt's steps in ``record``, the first one ``running``, and move old logs.

    The first step starts right after the record is written, so it is recorded running
    in that same write rather than in one more.
    """
    key = record["key"]
    # begin_attempt sets the same number; the first step's entry needs it already
    record["attempt"] = int(previous.get("attempt") or 1) + 1 if previous is not None else 1
    carried = carried_commands(previous, template, key=key)
    if previous is not None:
        attempt = int(previous.get("attempt") or 1)
        written = {n: int(carried.get(n, {}).get("attempt") or attempt) for n in steps}
        _keep_old_logs(run_dir, attempt, written)
    record[COMMANDS] = carried
    record[STEPS] = list(steps)
    set_step(record, template, steps[0], status=RunStatus.RUNNING, exit_code=None)


def _create(run_dir: RunDir) -> bool:
    """Create the run folder; True if this call created it (and so owns it)."""
    try:
        os.mkdir(run_dir.path)
    except FileExistsError:
        return False
    except FileNotFoundError:  # the store itself is new
        run_dir.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(run_dir.path)
        except FileExistsError:
            return False
    return True


def _enter(run_dir: RunDir) -> dict[str, Any] | Literal[False] | None:
    """Claim an existing run folder; its record (None: none yet), False when it is not ours.

    Not ours: another launcher holds its claim, or owns it by its ``mkdir`` (a live
    ``running`` record, or no record yet in a folder younger than a minute).
    """
    try:
        created = os.stat(run_dir.path).st_mtime  # before our claim file touches it
    except FileNotFoundError:
        created = 0.0
    if not claim(run_dir):
        return False
    found = read_json(run_dir.run_json, default=None, warn=False)
    previous = found if isinstance(found, dict) else None
    if previous is None:
        if time.time() - created <= LOST_AFTER_SECONDS:
            release(run_dir)
            return False
        return None
    if previous.get("status") == RunStatus.RUNNING.value:
        if not is_lost(previous, run_dir.last_beat()):
            release(run_dir)
            return False
        if previous.get("host") == identity()[1]:
            # its launcher died: its tasks may still be running
            end_leftovers(run_dir, int(previous.get("pid") or 0))
    return previous


def _steps(
    previous: dict[str, Any] | None,
    key: str,
    template: Sequence[str],
    selected: Sequence[str],
    *,
    force: bool,
) -> tuple[str, ...] | None:
    """The commands this attempt executes (none for a Python task); None: nothing to do."""
    same = previous is not None and previous.get("key") == key
    if not template:
        completed = same and previous is not None and previous.get("status") == _COMPLETED
        return None if completed and not force else ()
    done = completed_steps(previous, template, key=key)
    return pending_steps(selected, done, force=force) or None


def record_step(
    run_dir: RunDir,
    record: dict[str, Any],
    template: Sequence[str],
    name: str,
    *,
    status: RunStatus,
    exit_code: int | None = None,
) -> None:
    """Record in ``record`` and at once in ``run.json`` that command ``name`` is ``status``.

    Written as each command starts and ends, so a launcher killed during a later
    command leaves the commands that completed recorded completed: the next ``runlab
    run`` starts again from the command that was cut short.
    """
    set_step(record, template, name, status=status, exit_code=exit_code)
    atomic_write_json(run_dir.file("run.json"), record)


def close_attempt(
    layout: StoreLayout,
    run_dir: RunDir,
    record: dict[str, Any],
    outcome: Outcome,
    started: float,
    *,
    parsers: Sequence[Parser] = (),
) -> dict[str, Any]:
    """Record the outcome of an attempt, write its numbered report, release the claim.

    ``parsers`` (a sweep's ``metrics:``) are applied to the run's logs first, so their
    values are in ``summary.json`` and the report when the run shows as finished. What
    they could not find is a ParseWarning for a completed run; a failed one is expected
    to miss values.
    """
    if parsers:
        _apply_parsers(run_dir, parsers, warn=outcome.status is RunStatus.COMPLETED)
    if outcome.error_text or (outcome.error and outcome.status is not RunStatus.COMPLETED):
        atomic_write_text(run_dir.error_txt, (outcome.error_text or outcome.error or "") + "\n")
    now = time.time()
    record = dict(record)
    record.update(
        status=outcome.status.value,
        end=utc_iso(now),
        duration=round(float(record.get("duration") or 0.0) + now - started, 6),
        exit_code=outcome.exit_code,
        error=outcome.error,
    )
    summary = read_json(run_dir.file("summary.json"), default={}, warn=False) or {}
    try:
        os.mkdir(run_dir.file("reports"))
    except FileExistsError:
        pass
    atomic_write_json(
        run_dir.file(f"reports/{record['attempt']}.json"),
        {
            "attempt": record["attempt"],
            "status": outcome.status.value,
            "final": outcome.status is RunStatus.COMPLETED,
            "end": record["end"],
            "summary": summary,
        },
    )
    atomic_write_json(run_dir.file("run.json"), record)
    layout.mark_changed(run_dir.id)
    release(run_dir)
    return record


def _apply_parsers(run_dir: RunDir, parsers: Sequence[Parser], *, warn: bool) -> None:
    try:
        result = apply_parsers(run_dir, parsers)
    except OSError as exc:  # the summary could not be written: the run's outcome still is
        warnings.warn(f"run {run_dir.id}: metrics not recorded: {exc}", ParseWarning, stacklevel=3)
        return
    for notice in result.notices if warn else ():
        warnings.warn(notice, ParseWarning, stacklevel=3)


def _keep_old_logs(
    run_dir: RunDir, attempt: int, commands: Mapping[str, int] | None = None
) -> None:
    """Move the previous attempt's logs to ``logs/attempt-<n>/`` so the new ones start empty.

    ``commands`` maps the commands about to run again to the attempt that wrote their
    current log (``None``: every command, written by ``attempt``); the logs of the other
    commands stay where they are, as the latest output of those commands.
    """
    logs = (run_dir.path / "logs").glob("*.log")
    moves = [
        (path, attempt) for path in (run_dir.stdout_log, run_dir.stderr_log, run_dir.error_txt)
    ]
    for path in sorted(logs):
        if commands is None:
            moves.append((path, attempt))
        elif path.stem in commands:
            moves.append((path, commands[path.stem]))
    for path, written in moves:
        if path.exists():
            keep = run_dir.path / "logs" / f"attempt-{written}"
            keep.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), keep / path.name)
