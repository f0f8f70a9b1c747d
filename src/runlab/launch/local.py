"""The local launcher: run a plan's runs on this machine's slots, in parallel.

One thread watches every slot (an event loop, as ``xargs -P`` and GNU parallel do): it
opens a run, starts its command, and goes on with the other slots until some process
ends; each slot runs one task at a time, and a task's named commands run in order on
its slot. How it waits for all of them at once (pidfds, SIGCHLD or polling) is
``launch/waiter.py``'s. A thread per slot was the first design: its threads handed the
GIL to each other at every step (for a thousand ``true`` commands on two slots:
6,200-7,700 context switches and 1.9-2.1 s of CPU, against 1,500-1,900 and 1.5 s in one
loop), and a launcher with one thread has no lock for a signal handler to deadlock on.

Commands start in their own session (process group): cancelling a run kills its whole
process tree, and Ctrl-C at the terminal reaches the launcher only, which decides. On
Ctrl-C or SIGTERM (``cancel``, safe to call from a signal handler or another thread)
every running tree gets SIGTERM, then SIGKILL after the grace period; those runs are
``interrupted``, and the runs not yet started are left for the next ``runlab run``. When
the launcher itself fails (an exception out of ``launch``), every tree still running is
killed at once: those runs read as ``lost`` and the next ``runlab run`` runs them again.

Python tasks run in one long-lived worker process per slot (``launch/worker.py``), so
a sweep pays the interpreter start once per slot, not once per run; the loop sends it a
run as a JSON line and reads the answer line when it comes.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runlab.errors import UsageError
from runlab.launch.plan import Plan, PlannedRun, PlanState
from runlab.launch.runfolder import (
    Outcome,
    close_attempt,
    open_attempt,
    record_step,
)
from runlab.launch.slots import Slot
from runlab.launch.slotworker import SlotWorker
from runlab.launch.spawn import Process, command_argv, judge, signal_group, spawn
from runlab.launch.steps import STEPS, set_step
from runlab.launch.waiter import Waiter
from runlab.record import git as gitmod
from runlab.record.layout import RunDir
from runlab.record.parsers import metric_rules
from runlab.record.status import HEARTBEAT_SECONDS, RunStatus
from runlab.store import Store
from runlab.tasks import CallableTask, CommandTask

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


class _Lane:
    """A slot as the loop sees it: the run it has, and the process working for that run.

    Between two turns of the loop a lane either has a run and a process (``proc``: the
    run's current command, or the slot's worker answering for it) or is idle with
    neither, once the plan has nothing more for it.
    """

    def __init__(self, slot: Slot, env: dict[str, str]) -> None:
        self.slot = slot
        self.env = env  # every task on this slot starts from it: built once, not per run
        self.entry: PlannedRun | None = None
        self.tries = 0  # attempts of this entry in this launch (retries are the others)
        self.run_dir: RunDir | None = None
        self.record: dict[str, Any] = {}
        self.run_env: dict[str, str] = env
        self.started = 0.0
        self.deadline: float | None = None
        self.template: tuple[str, ...] = ()  # a command task's commands, in order
        self.todo: collections.deque[tuple[str, str]] = collections.deque()
        self.step = ""  # the command running now
        self.proc: Process | None = None
        self.timed_out = False
        self.cancelled = False
        self.kill_at: float | None = None
        self.worker: SlotWorker | None = None


class LocalLauncher:
    """Run plans on local slots. ``launch`` blocks until done or cancelled.

    Usage::

        launcher = LocalLauncher(store, make_slots(workers=2), timeout=600, retries=1)
        launcher = LocalLauncher(store, slots, metrics=sweep.metrics)  # parse its logs too
        result = launcher.launch(plan, sweep="svm")
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
        self._queue: collections.deque[PlannedRun] = collections.deque()
        self._sweep = ""
        self._waiter = Waiter()
        self._stop_asked = False  # set by cancel(), acted on by the loop
        self._stopping = False
        self._retired: list[SlotWorker] = []
        self._result = LaunchResult()

    # -- the two verbs --------------------------------------------------------------
    def launch(self, plan: Plan, *, sweep: str) -> LaunchResult:
        """Run every run of the plan that will run (each with its entry's task)."""
        for entry in plan.to_run:
            if not isinstance(entry.task, (CommandTask, CallableTask)):
                raise UsageError(
                    f"run {entry.run_id}: no task (give a template or -x module:function)"
                )
        gitmod.git_state()  # asked once here, not by the first run of each slot
        self._queue.extend(plan.to_run)
        self._sweep = sweep
        self._waiter.open()
        store_env = {**os.environ, "RUNLAB_STORE": str(self.store.root)}
        lanes = [_Lane(slot, {**store_env, **slot.env()}) for slot in self.slots]
        try:
            self._loop(lanes)
        except BaseException:
            self._kill_all(lanes)
            raise
        finally:
            self._stop_workers(lanes)
            self._waiter.close()
        return self._result

    def cancel(self) -> None:
        """Stop: no new runs; running trees get SIGTERM, SIGKILL after the grace period.

        Only notes the request and wakes the loop, which does the rest: so it is safe
        from a signal handler (which may interrupt the loop anywhere) and from any thread.
        """
        self._stop_asked = True
        self._result.interrupted = True
        self._waiter.wake()

    # -- the loop -------------------------------------------------------------------
    def _loop(self, lanes: list[_Lane]) -> None:
        beat_at = time.monotonic() + HEARTBEAT_SECONDS
        while True:
            if self._stop_asked and not self._stopping:
                self._stop_runs(lanes)
            for lane in lanes:
                self._fill(lane)
            busy = [lane for lane in lanes if lane.proc is not None]
            if not busy:
                return
            now = time.monotonic()
            self._waiter.wait(self._wait_time(busy, beat_at, now))
            now = time.monotonic()
            self._enforce_deadlines(lanes, now)
            if now >= beat_at:
                beat_at = now + HEARTBEAT_SECONDS
                self._heartbeat(lanes)

    def _wait_time(self, busy: list[_Lane], beat_at: float, now: float) -> float:
        """How long the loop may sleep: until the next deadline, kill or heartbeat."""
        times = [beat_at]
        for lane in busy:
            if lane.deadline is not None and not lane.timed_out:
                times.append(lane.deadline)
            if lane.kill_at is not None:
                times.append(lane.kill_at)
        return min(times) - now

    # -- a lane's runs --------------------------------------------------------------
    def _fill(self, lane: _Lane) -> None:
        """Keep the lane busy: its run's retry, else the next run the plan has for it now.

        A run that ends at once (skipped, or its command cannot start) is followed by
        the next one here, in a loop, never by a call from the code that ended it: a
        sweep of a thousand commands that cannot start must not nest a thousand calls.
        """
        while lane.proc is None:
            stopping = self._stopping or self._stop_asked
            if lane.entry is None:
                if stopping or not self._queue:
                    return
                lane.entry, lane.tries = self._queue.popleft(), 0
            elif stopping:  # a retry that will not be made
                lane.entry = None
                return
            if not self._open(lane):
                self.on_event(Event("skip", lane.entry, lane.slot))
                lane.entry = None

    def _open(self, lane: _Lane) -> bool:
        """Open the next attempt of the lane's run and start it; False: it must not run now."""
        entry = lane.entry
        assert entry is not None
        task = entry.task
        # A retry continues from the failed command, never re-running what completed.
        force = lane.tries == 0 and (self.force or entry.state is PlanState.FORCED)
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
            sweep=self._sweep,
            command=command,
            force=force,
            params_hash=entry.config.hash,
            template=template,
            selected=[name for name, _ in entry.commands],
        )
        if opened is None:
            return False
        lane.run_dir, lane.record = opened
        lane.timed_out = lane.cancelled = False
        lane.kill_at = None
        self.on_event(Event("start", entry, lane.slot, attempt=int(lane.record["attempt"])))
        lane.started = time.time()
        lane.deadline = time.monotonic() + self.timeout if self.timeout else None
        run_dir = lane.run_dir
        lane.run_env = {
            **lane.env,
            "RUNLAB_RUN_DIR": str(run_dir.path),
            "RUNLAB_RUN_ID": run_dir.id,
        }
        try:
            if isinstance(task, CommandTask):
                self._first_command(lane, task)
            else:
                self._ask_worker(lane, task)
        except BaseException as exc:  # a launcher bug must not leave the run "running"
            lane.proc = None
            self._close(lane, Outcome(RunStatus.FAILED, 1, f"runlab: {type(exc).__name__}: {exc}"))
        return True

    def _close(self, lane: _Lane, outcome: Outcome) -> None:
        """Record the attempt's outcome; the lane keeps the run only for a retry."""
        entry, run_dir = lane.entry, lane.run_dir
        assert entry is not None and run_dir is not None
        close_attempt(
            self.store.layout, run_dir, lane.record, outcome, lane.started, parsers=self.parsers
        )
        self._result.outcomes[entry.run_id] = outcome
        self.on_event(Event("finish", entry, lane.slot, outcome, lane.tries))
        lane.tries += 1
        if outcome.status is not RunStatus.FAILED or lane.tries > self.retries:
            lane.entry = None  # else the lane keeps it, and _fill opens its retry

    # -- command tasks --------------------------------------------------------------
    def _first_command(self, lane: _Lane, task: CommandTask) -> None:
        """Start the attempt's steps in order; the first that does not complete ends it.

        Each step's status reaches ``run.json`` with the next write: the first step is
        recorded running as the attempt opens, a step's end together with the next
        step's start, and the last step's end with the run's outcome (``close_attempt``).
        So a launcher killed at any point leaves every step that completed before the
        running one recorded completed, at one write per step.
        """
        assert lane.entry is not None and lane.run_dir is not None
        lane.template = task.names
        names = lane.record.get(STEPS) or ()  # those completed earlier are left out
        lane.todo = collections.deque(c for c in lane.entry.commands if c[0] in names)
        try:
            os.mkdir(lane.run_dir.file("logs"))
        except FileExistsError:
            pass
        self._start_command(lane)

    def _start_command(self, lane: _Lane) -> None:
        """Start the lane's next command with its output appended to ``logs/<name>.log``."""
        assert lane.run_dir is not None
        name, line = lane.todo.popleft()
        lane.step = name
        argv = command_argv(line)
        log_fd = os.open(lane.run_dir.file(f"logs/{name}.log"), _LOG_FLAGS, 0o666)
        try:
            proc = spawn(argv, log_fd=log_fd, env=lane.run_env)
        except OSError as exc:
            os.write(log_fd, f"runlab: cannot start {argv[0]}: {exc.strerror}\n".encode())
            message = f"command {name!r}: cannot start {argv[0]}: {exc.strerror}"
            self._command_done(lane, Outcome(RunStatus.FAILED, 127, message))
            return
        finally:
            os.close(log_fd)  # the child has its own copy
        self._watch(lane, proc)

    def _watch(self, lane: _Lane, proc: Process) -> None:
        """Make ``proc`` the lane's process, and have the loop told when it ends."""
        lane.proc = proc
        self._waiter.watch(proc, lambda: self._command_ended(lane))
        self._stop_if_stopping(lane)

    def _command_ended(self, lane: _Lane) -> None:
        assert lane.proc is not None
        code = lane.proc.wait()
        lane.proc = None
        judged = judge(
            lane.step,
            code,
            timed_out=lane.timed_out,
            cancelled=lane.cancelled,
            timeout=self.timeout,
        )
        self._command_done(lane, judged or Outcome(RunStatus.COMPLETED, 0))

    def _command_done(self, lane: _Lane, outcome: Outcome) -> None:
        """Record the command's end; start the next one, or close the attempt."""
        # In the record only: the next write (the next step's start, or the close) takes it.
        set_step(
            lane.record,
            lane.template,
            lane.step,
            status=outcome.status,
            exit_code=outcome.exit_code,
        )
        if outcome.status is RunStatus.COMPLETED and lane.todo:
            assert lane.run_dir is not None
            record_step(
                lane.run_dir, lane.record, lane.template, lane.todo[0][0], status=RunStatus.RUNNING
            )
            self._start_command(lane)
        else:
            self._close(lane, outcome)

    # -- Python tasks ---------------------------------------------------------------
    def _ask_worker(self, lane: _Lane, task: CallableTask) -> None:
        """Send the run to the slot's worker; its answer ends the attempt."""
        assert lane.run_dir is not None
        if lane.worker is None:
            worker = lane.worker = SlotWorker(lane.slot)
            self._waiter.add_reader(worker.fd, lambda: self._answer(lane))
        lane.proc = lane.worker
        self._stop_if_stopping(lane)
        env = lane.run_env
        names = ("RUNLAB_RUN_DIR", "RUNLAB_RUN_ID", "RUNLAB_STORE")
        lane.worker.send(
            {
                "run_dir": str(lane.run_dir.path),
                "target": task.target,
                "env": {k: env[k] for k in names},
            }
        )

    def _answer(self, lane: _Lane) -> None:
        """The slot's worker wrote: the end of its run, or its own end (EOF)."""
        worker = lane.worker
        assert worker is not None
        try:
            outcome = worker.read()
        except EOFError:
            self._retire(lane)
            code = worker.wait()
            if lane.proc is worker:
                lane.proc = None
                stopped = {"timed_out": lane.timed_out, "cancelled": lane.cancelled}
                self._close(
                    lane,
                    judge("task", code, **stopped, timeout=self.timeout)
                    or Outcome(RunStatus.FAILED, 1, "the worker process ended without an answer"),
                )
            return
        if outcome is None or lane.proc is not worker:
            return
        lane.proc = None
        if outcome.status is RunStatus.INTERRUPTED:
            self._retire(lane)  # a worker interrupted once exits: the slot gets a new one
        self._close(lane, outcome)

    def _retire(self, lane: _Lane) -> None:
        """Let go of the slot's worker: the loop no longer reads it; the end waits for it."""
        worker, lane.worker = lane.worker, None
        assert worker is not None
        self._waiter.remove_reader(worker.fd)
        self._retired.append(worker)

    # -- stopping -------------------------------------------------------------------
    def _stop_runs(self, lanes: list[_Lane]) -> None:
        """Act on ``cancel``: SIGTERM every process, SIGKILL after the grace period."""
        self._stopping = True
        kill_at = time.monotonic() + self.grace
        for lane in lanes:
            # A slot's worker is also the active process of its run: signal each once.
            procs = {p.pid: p for p in (lane.proc, lane.worker) if p is not None}
            if lane.proc is not None:
                lane.cancelled = True
            for proc in procs.values():
                signal_group(proc, signal.SIGTERM)
            if procs:
                lane.kill_at = kill_at

    def _stop_if_stopping(self, lane: _Lane) -> None:
        """A run that started while the launcher was being stopped stops at once."""
        if self._stopping and lane.proc is not None:
            lane.cancelled = True
            signal_group(lane.proc, signal.SIGTERM)
            lane.kill_at = time.monotonic() + self.grace

    def _enforce_deadlines(self, lanes: list[_Lane], now: float) -> None:
        for lane in lanes:
            if lane.proc is None:
                continue
            if lane.deadline is not None and now > lane.deadline and not lane.timed_out:
                lane.timed_out = True
                signal_group(lane.proc, signal.SIGTERM)
                lane.kill_at = now + self.grace
            elif lane.kill_at is not None and now >= lane.kill_at:
                lane.kill_at = None
                signal_group(lane.proc, signal.SIGKILL)

    def _kill_all(self, lanes: list[_Lane]) -> None:
        """The launcher is failing: end every tree at once, so that none outlives it."""
        for lane in lanes:
            for proc in (lane.proc, lane.worker):
                if proc is not None:
                    signal_group(proc, signal.SIGKILL)

    def _heartbeat(self, lanes: list[_Lane]) -> None:
        for lane in lanes:
            if lane.proc is not None and lane.run_dir is not None:
                try:
                    lane.run_dir.beat()
                except OSError:
                    pass

    def _stop_workers(self, lanes: list[_Lane]) -> None:
        """Close every worker's stdin (its signal to exit) and wait for it, then SIGKILL."""
        workers = [*self._retired, *(lane.worker for lane in lanes if lane.worker is not None)]
        self._retired.clear()
        for worker in workers:
            worker.close()
        end = time.monotonic() + self.grace
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(worker, signal.SIGKILL)
                worker.wait()
