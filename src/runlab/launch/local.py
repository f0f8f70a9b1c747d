"""The local launcher: run a plan's runs on this machine's slots, in parallel.

One thread per slot takes the next run from a shared queue, so a slot runs one task at
a time and a task's named commands run in order on that slot. Commands start in their
own session (process group): cancelling a run kills its whole process tree, and
Ctrl-C at the terminal reaches the launcher only, which decides. On Ctrl-C or SIGTERM
every running tree gets SIGTERM, then SIGKILL after the grace period; those runs are
``interrupted``, and the runs not yet started are left for the next ``runlab run``.

Python tasks run in one long-lived worker process per slot (``launch/worker.py``), so
a sweep pays the interpreter start once per slot, not once per run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from runlab.errors import UsageError
from runlab.launch.plan import Plan, PlannedRun, PlanState
from runlab.launch.runfolder import (
    LAUNCHER_VAR,
    Outcome,
    close_attempt,
    open_attempt,
    record_step,
)
from runlab.launch.slots import Slot
from runlab.launch.spawn import Process, spawn
from runlab.launch.steps import STEPS, set_step
from runlab.record import git as gitmod
from runlab.record.layout import RunDir
from runlab.record.parsers import metric_rules
from runlab.record.status import HEARTBEAT_SECONDS, RunStatus
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask

# Characters that need a shell; a command without them is executed directly (no sh).
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]#~=%{}\n!]")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")  # shlex's whitespace, not str.split's wider set
TIMEOUT_EXIT_CODE = 124  # as coreutils `timeout` reports it
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


@dataclass
class Event:
    """What a launcher tells its caller: a run started or finished on a slot."""

    kind: str  # "start" | "finish" | "skip"
    entry: PlannedRun
    slot: Slot | None = None
    outcome: Outcome | None = None
    attempt: int = 0


@dataclass
class LaunchResult:
    """Every run's final outcome, and whether the launch was interrupted."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def failed(self) -> list[str]:
        return [k for k, o in self.outcomes.items() if o.status is not RunStatus.COMPLETED]


def command_argv(line: str) -> list[str]:
    """The argv for a rendered command: run directly when it needs no shell.

    Without shell syntax there are no quotes, escapes or comments either, so
    ``shlex.split`` would only split at its whitespace: done here with one regex, as
    ``shlex`` reads a line character by character.
    """
    if _SHELL_SYNTAX.search(line):
        return ["/bin/sh", "-c", line]
    return [word for word in _SHLEX_SPACE.split(line) if word]


class _Active:
    """A process running for a run, and when it must stop."""

    def __init__(self, proc: Process, deadline: float | None, run_dir: RunDir) -> None:
        self.proc = proc
        self.deadline = deadline
        self.run_dir = run_dir
        self.timed_out = False
        self.cancelled = False


class LocalLauncher:
    """Run plans on local slots. ``launch`` blocks until done or cancelled.

    Usage::

        launcher = LocalLauncher(store, make_slots(workers=2), timeout=600, retries=1)
        launcher = LocalLauncher(store, slots, metrics=sweep.metrics)  # parse its logs too
        result = launcher.launch(plan, task, sweep="svm")
    """

    def __init__(
        self,
        store: Store,
        slots: Sequence[Slot],
        *,
        timeout: float | None = None,
        retries: int = 0,
        grace: float = 10.0,
        force: bool = False,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.store = store
        self.slots = list(slots)
        self.timeout = timeout
        self.retries = retries
        self.grace = grace
        self.force = force
        # A sweep's metrics: parsed into each run's summary as its attempt closes.
        self.parsers = metric_rules(metrics or {})
        self.on_event = on_event or (lambda event: None)
        self._queue: queue.Queue[PlannedRun] = queue.Queue()
        self._active: dict[int, _Active] = {}
        self._workers: dict[int, subprocess.Popen[str]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._result = LaunchResult()

    # -- the one verb ---------------------------------------------------------------
    def launch(self, plan: Plan, *, sweep: str) -> LaunchResult:
        """Run every run of the plan that will run (each with its entry's task)."""
        gitmod.git_state()  # asked once here, not by the first run of each slot at once
        for entry in plan.to_run:
            self._queue.put(entry)
        threads = [
            threading.Thread(target=self._slot_loop, args=(slot, sweep), daemon=True)
            for slot in self.slots
        ]
        for thread in threads:
            thread.start()
        last_beat = time.monotonic()
        while alive := [t for t in threads if t.is_alive()]:
            alive[0].join(0.2)
            self._enforce_deadlines()
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                self._heartbeat()
        self._stop_workers()
        return self._result

    def cancel(self) -> None:
        """Stop: no new runs; running trees get SIGTERM, SIGKILL after the grace period."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._result.interrupted = True
        with self._lock:
            active = list(self._active.values())
            workers = list(self._workers.values())
        for item in active:
            item.cancelled = True
        # A slot's worker is also the active process of its run: signal each group once.
        groups = {p.pid: p for p in [*(a.proc for a in active), *workers]}
        for proc in groups.values():
            _signal_group(proc, signal.SIGTERM)
        threading.Thread(target=self._kill_after_grace, args=(active, workers), daemon=True).start()

    # -- slots ----------------------------------------------------------------------
    def _slot_loop(self, slot: Slot, sweep: str) -> None:
        # Every run on this slot starts from this environment: built once, not per run.
        base_env = {**os.environ, **slot.env(), "RUNLAB_STORE": str(self.store.root)}
        while not self._stopping.is_set():
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return
            for attempt in range(self.retries + 1):
                # A retry continues from the failed command, never re-running what completed.
                force = attempt == 0 and (self.force or entry.state is PlanState.FORCED)
                outcome = self._run_once(slot, entry, sweep, base_env, force=force)
                if outcome is None:
                    self.on_event(Event("skip", entry, slot))
                    break
                self._result.outcomes[entry.run_id] = outcome
                self.on_event(Event("finish", entry, slot, outcome, attempt))
                if outcome.status is not RunStatus.FAILED or self._stopping.is_set():
                    break

    def _run_once(
        self,
        slot: Slot,
        entry: PlannedRun,
        sweep: str,
        base_env: dict[str, str],
        *,
        force: bool,
    ) -> Outcome | None:
        task = entry.task
        if not isinstance(task, (CommandTask, CallableTask)):
            raise UsageError(f"run {entry.run_id}: no task (give a template or -x module:function)")
        # A command task executes the selected commands its run has not completed yet.
        template: tuple[str, ...] = ()
        if isinstance(task, CommandTask):
            template, command = task.names, [line for _, line in entry.commands]
        else:
            command = [task.target]
        opened = open_attempt(
            self.store.layout,
            entry.run_id,
            entry.config.params,
            key=entry.key,
            name=entry.config.name,
            sweep=sweep,
            command=command,
            force=force,
            params_hash=entry.config.hash,
            template=template,
            selected=[name for name, _ in entry.commands],
        )
        if opened is None:
            return None
        run_dir, record = opened
        self.on_event(Event("start", entry, slot, attempt=int(record["attempt"])))
        started = time.time()
        env = {**base_env, "RUNLAB_RUN_DIR": str(run_dir.path), "RUNLAB_RUN_ID": run_dir.id}
        deadline = started + self.timeout if self.timeout else None
        try:
            if isinstance(task, CommandTask):
                steps = _Steps(run_dir, record, task.names)
                outcome = self._run_commands(slot, steps, entry, env, deadline)
            else:
                outcome = self._run_callable(slot, run_dir, task, env, deadline)
        except BaseException as exc:  # a launcher bug must not leave the run "running"
            outcome = Outcome(RunStatus.FAILED, 1, f"runlab: {type(exc).__name__}: {exc}")
        close_attempt(self.store.layout, run_dir, record, outcome, started, parsers=self.parsers)
        return outcome

    def _run_commands(
        self,
        slot: Slot,
        steps: _Steps,
        entry: PlannedRun,
        env: dict[str, str],
        deadline: float | None,
    ) -> Outcome:
        """Execute the attempt's steps in order; the first that does not complete ends it.

        Each step's status reaches ``run.json`` with the next write: the first step is
        recorded running as the attempt opens, a step's end together with the next
        step's start, and the last step's end with the run's outcome (``close_attempt``).
        So a launcher killed at any point leaves every step that completed before the
        running one recorded completed, at one write per step.
        """
        run_dir = steps.run_dir
        logs = os.path.join(run_dir.path, "logs")
        try:
            os.mkdir(logs)
        except FileExistsError:
            pass
        first = True
        for name, line in entry.commands:
            if name not in steps.names:
                continue  # completed in an earlier attempt
            if not first:
                steps.record(name, RunStatus.RUNNING)
            first = False
            outcome = self._run_step(slot, run_dir, name, line, env, deadline)
            steps.update(name, outcome.status, outcome.exit_code)
            if outcome.status is not RunStatus.COMPLETED:
                return outcome
        return Outcome(RunStatus.COMPLETED, 0)

    def _run_step(
        self,
        slot: Slot,
        run_dir: RunDir,
        name: str,
        line: str,
        env: dict[str, str],
        deadline: float | None,
    ) -> Outcome:
        """Run one command with its output appended to ``logs/<name>.log``."""
        argv = command_argv(line)
        log_fd = os.open(os.path.join(run_dir.path, "logs", f"{name}.log"), _LOG_FLAGS, 0o666)
        try:
            proc = spawn(argv, log_fd=log_fd, env=env)
        except OSError as exc:
            os.write(log_fd, f"runlab: cannot start {argv[0]}: {exc.strerror}\n".encode())
            return Outcome(
                RunStatus.FAILED, 127, f"command {name!r}: cannot start {argv[0]}: {exc.strerror}"
            )
        finally:
            os.close(log_fd)  # the child has its own copy
        item = self._track(slot, proc, deadline, run_dir)
        code = proc.wait()
        self._untrack(slot)
        return _judge(name, code, item, self.timeout) or Outcome(RunStatus.COMPLETED, 0)

    def _run_callable(
        self,
        slot: Slot,
        run_dir: RunDir,
        task: CallableTask,
        env: dict[str, str],
        deadline: float | None,
    ) -> Outcome:
        worker = self._worker(slot)
        request = {
            "run_dir": str(run_dir.path),
            "target": task.target,
            "env": {k: env[k] for k in ("RUNLAB_RUN_DIR", "RUNLAB_RUN_ID", "RUNLAB_STORE")},
        }
        item = self._track(slot, worker, deadline, run_dir)
        assert worker.stdin is not None and worker.stdout is not None
        try:
            worker.stdin.write(json.dumps(request) + "\n")
            worker.stdin.flush()
            answer = worker.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        self._untrack(slot)
        if answer:
            data = json.loads(answer)
            return Outcome(
                RunStatus(data["status"]),
                int(data["exit_code"]),
                data.get("error"),
                data.get("error_text"),
            )
        code = worker.wait()
        with self._lock:
            self._workers.pop(slot.index, None)
        return _judge("task", code, item, self.timeout) or Outcome(
            RunStatus.FAILED, 1, "the worker process ended without an answer"
        )

    def _worker(self, slot: Slot) -> subprocess.Popen[str]:
        with self._lock:
            worker = self._workers.get(slot.index)
            if worker is not None and worker.poll() is None:
                return worker
            worker = subprocess.Popen(
                [sys.executable, "-m", "runlab.launch.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, **slot.env(), LAUNCHER_VAR: str(os.getpid())},
                start_new_session=True,
            )
            self._workers[slot.index] = worker
            return worker

    # -- bookkeeping ----------------------------------------------------------------
    def _track(self, slot: Slot, proc: Process, deadline: float | None, run_dir: RunDir) -> _Active:
        item = _Active(proc, deadline, run_dir)
        with self._lock:
            self._active[slot.index] = item
        if self._stopping.is_set():  # cancelled between the queue and the start
            item.cancelled = True
            _signal_group(proc, signal.SIGTERM)
        return item

    def _untrack(self, slot: Slot) -> None:
        with self._lock:
            self._active.pop(slot.index, None)

    def _enforce_deadlines(self) -> None:
        now = time.time()
        with self._lock:
            expired = [
                a
                for a in self._active.values()
                if a.deadline and now > a.deadline and not a.timed_out
            ]
        for item in expired:
            item.timed_out = True
            _signal_group(item.proc, signal.SIGTERM)
            threading.Thread(target=self._kill_after_grace, args=([item], []), daemon=True).start()

    def _kill_after_grace(
        self, active: list[_Active], workers: list[subprocess.Popen[str]]
    ) -> None:
        end = time.monotonic() + self.grace
        procs = [a.proc for a in active] + workers
        while time.monotonic() < end and any(p.poll() is None for p in procs):
            time.sleep(0.05)
        for proc in procs:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGKILL)

    def _heartbeat(self) -> None:
        with self._lock:
            dirs = [a.run_dir for a in self._active.values()]
        for run_dir in dirs:
            try:
                run_dir.beat()
            except OSError:
                pass

    def _stop_workers(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            stdin: IO[str] | None = worker.stdin
            if stdin is not None:
                try:
                    stdin.close()
                except OSError:
                    pass
            try:
                worker.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                _signal_group(worker, signal.SIGKILL)
                worker.wait()


@dataclass
class _Steps:
    """The steps of one attempt of a command-task run, and where their statuses go."""

    run_dir: RunDir
    state: dict[str, Any]  # the attempt's run.json record, updated as steps end
    template: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.state.get(STEPS) or ())

    def record(self, name: str, status: RunStatus, exit_code: int | None = None) -> None:
        """Set the step's status and write ``run.json`` now."""
        record_step(
            self.run_dir, self.state, self.template, name, status=status, exit_code=exit_code
        )

    def update(self, name: str, status: RunStatus, exit_code: int | None = None) -> None:
        """Set the step's status in the record only: the next write takes it to disk."""
        set_step(self.state, self.template, name, status=status, exit_code=exit_code)


def _judge(name: str, code: int, item: _Active, timeout: float | None) -> Outcome | None:
    """The outcome of a command that exited with ``code``; None when it succeeded."""
    if item.timed_out:
        return Outcome(
            RunStatus.FAILED, TIMEOUT_EXIT_CODE, f"command {name!r} timed out after {timeout:g}s"
        )
    if item.cancelled:
        return Outcome(RunStatus.INTERRUPTED, 128 + signal.SIGTERM, f"command {name!r} interrupted")
    if code == 0:
        return None
    if code < 0:
        sig = -code
        status = (
            RunStatus.INTERRUPTED if sig in (signal.SIGINT, signal.SIGTERM) else RunStatus.FAILED
        )
        return Outcome(status, 128 + sig, f"command {name!r} killed by {signal.Signals(sig).name}")
    return Outcome(RunStatus.FAILED, code, f"command {name!r} exited with {code}")


def _signal_group(proc: Process, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
