"""``run-one``: one attempt at training one config folder, continued from its checkpoint.

An attempt loads the data, restores the trainer from ``checkpoint.pkl`` (or makes a
new one), trains until the trainer is done or a signal asks to stop, then makes the
report, checkpoints the trainer and writes the report twice: runlab's
``reports/<attempt>.json`` and alchemie's ``report-<attempt>.json`` (interrupted) or
``report-last.json`` (done). ``summary.json`` holds the report's scalar values.

How a trainer is driven (alchemie ran breze trainers; any object of either shape works):

- ``trainer.iter_fit()``: an iterable yielding once per finished iteration, ending when
  training is done. SIGINT and SIGTERM are held until the current iteration ends, so
  the checkpoint never holds a half-made step; a second signal stops at once.
- ``trainer.fit()``: returns when done, or when interrupted with ``trainer.stopped``
  false (breze's trainers handle SIGINT so); a KeyboardInterrupt or SIGTERM that cuts
  ``fit()`` short stops the attempt where the code was.

Either way an interrupted attempt checkpoints the trainer as it is, writes the interim
report and ends ``interrupted`` with exit code 9, as ``alc.py run`` did. The trainer is
pickled with its ``iterations`` count (``run.checkpoint``); a trainer that holds an
unpicklable or large object leaves it out with ``__getstate__``/``__setstate__``.
After a restore ``trainer.data`` is set to the freshly loaded data, as alchemie did.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from runlab.canonical import config_hash, to_jsonable
from runlab.compat.alchemie.configs import read_config
from runlab.compat.alchemie.experiment import Experiment
from runlab.errors import RunConflict, RunlabError
from runlab.launch.runfolder import claim, release
from runlab.record import git as gitmod
from runlab.record.attempt import begin_attempt
from runlab.record.files import atomic_write_json, read_json
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.run import Run, base_record, utc_iso
from runlab.record.status import RunStatus

INTERRUPTED_EXIT_CODE = 9  # what `alc.py run` returned for a trainer that did not stop
LAST_REPORT = "report-last.json"


@dataclass(frozen=True)
class Outcome:
    """How ``run_one`` ended: the status, the exit code for the shell, what was written.

    ``report`` is the alchemie report file written (None when none was); ``done`` is
    True when the run was already complete and nothing was done at all.
    """

    run_id: str
    status: RunStatus
    exit_code: int
    iterations: int | None = None
    report: Path | None = None
    error: str | None = None
    done: bool = False


def is_complete(folder: Path) -> bool:
    """True when ``folder``'s run has completed (its final report is written)."""
    record = read_json(folder / "run.json", default=None, warn=False)
    return isinstance(record, dict) and record.get("status") == RunStatus.COMPLETED.value


def run_one(
    folder: Path, experiment: Experiment, *, chdir: bool = True, capture: bool = True
) -> Outcome:
    """Run one attempt of config folder ``folder``; a completed one is left untouched.

    With ``chdir`` the module's functions run with ``folder`` as working directory (as
    in ``alc.py run``), restored afterwards; ``capture`` tees stdout and stderr into
    the run's logs.

    Usage::

        outcome = run_one(Path("experiments/1"), Experiment.load("exp.py"))
        sys.exit(outcome.exit_code)     # 0 done, 9 interrupted (run again), 1 failed
    """
    folder = folder.resolve()
    run_dir = RunDir(folder)
    if is_complete(folder):
        return Outcome(run_dir.id, RunStatus.COMPLETED, 0, done=True)
    pars = read_config(folder)
    experiment.require("load_data", "new_trainer", "make_report")
    stop = _StopRequest()
    # Signals are held from before the claim, so none can leave a claimed folder behind.
    with stop.held():
        if not claim(run_dir):
            raise RunConflict(f"run {folder} is being run by another process right now")
        try:
            # Read again under the claim: another process may have just completed it.
            if is_complete(folder):
                return Outcome(run_dir.id, RunStatus.COMPLETED, 0, done=True)
            run = _begin(run_dir, pars, capture=capture)
            with _working_dir(folder if chdir else None):
                return _attempt(run, run_dir, experiment=experiment, pars=pars, stop=stop)
        finally:
            release(run_dir)


def _begin(run_dir: RunDir, pars: dict[str, Any], *, capture: bool) -> Run:
    """Record a new attempt in the folder (status running) and open it for writing."""
    layout = StoreLayout(run_dir.path.parent)
    previous = read_json(run_dir.run_json, default=None, warn=False)
    state = gitmod.git_state()
    params = to_jsonable(pars)
    record = base_record(
        run_dir.id,
        name=None,
        description="",
        tags=None,
        params_hash=config_hash(params),
        git=state.as_record() if state is not None else None,
    )
    if not isinstance(previous, dict):
        previous = None
    elif previous.get("status") == RunStatus.QUEUED.value:
        # Created, never attempted: this is attempt 1, keeping what was set on the run.
        record.update({k: previous[k] for k in ("name", "description", "tags") if k in previous})
        previous = None
    record = begin_attempt(layout, run_dir, record, params, previous=previous, git=state)
    return Run(layout, run_dir, record, params, capture=capture)


def _attempt(
    run: Run, run_dir: RunDir, *, experiment: Experiment, pars: dict[str, Any], stop: _StopRequest
) -> Outcome:
    """Train, report, checkpoint and record; every way out finishes the run."""
    try:
        if stop.requested:  # asked to stop while the attempt was being recorded
            raise KeyboardInterrupt
        data = experiment.load_data(pars)
        trainer, iterations = _trainer(run, experiment, pars, data)
        done, iterations = _train(trainer, iterations, stop)
        report = experiment.make_report(pars, trainer, data)
        _checkpoint(run, trainer, iterations)
        path = _write_reports(run, run_dir, report, done=done, iterations=iterations)
    except KeyboardInterrupt:  # before training, or a second signal outside it
        stop.note(signal.SIGINT)
        error = f"interrupted by {stop.signal_name} outside training; nothing checkpointed"
        run.finish(RunStatus.INTERRUPTED, exit_code=INTERRUPTED_EXIT_CODE, error=error)
        return Outcome(run.id, RunStatus.INTERRUPTED, INTERRUPTED_EXIT_CODE, error=error)
    except BaseException as exc:
        return _failed(run, exc)
    if done:
        run.finish(RunStatus.COMPLETED, exit_code=0)
        return Outcome(run.id, RunStatus.COMPLETED, 0, iterations, path)
    error = f"interrupted by {stop.signal_name or 'the trainer'}{after(iterations)}"
    run.finish(RunStatus.INTERRUPTED, exit_code=INTERRUPTED_EXIT_CODE, error=error)
    return Outcome(run.id, RunStatus.INTERRUPTED, INTERRUPTED_EXIT_CODE, iterations, path, error)


def _trainer(run: Run, experiment: Experiment, pars: dict[str, Any], data: Any) -> tuple[Any, int]:
    """The trainer to continue from the checkpoint, else a new one; with its iterations."""
    try:
        state = run.restore(None)
    except Exception as err:  # unpickling runs the trainer's module code: anything goes
        raise RunlabError(
            f"cannot restore {run.dir / 'checkpoint.pkl'} ({type(err).__name__}: {err}); "
            "remove it to start this config again"
        ) from None
    if isinstance(state, dict) and "trainer" in state:
        trainer = state["trainer"]
        with contextlib.suppress(AttributeError):
            trainer.data = data  # as alchemie did: the data is loaded anew, not unpickled
        return trainer, int(state.get("iterations") or 0)
    return experiment.new_trainer(pars, data), 0


def _train(trainer: Any, iterations: int, stop: _StopRequest) -> tuple[bool, int | None]:
    """Train until done or asked to stop; return (done, iterations counted so far).

    Iterations are counted for ``iter_fit`` trainers only (None for ``fit``).
    """
    iter_fit = getattr(trainer, "iter_fit", None)
    fit = getattr(trainer, "fit", None)
    if callable(iter_fit):
        steps = iter(iter_fit())
        try:
            while not stop.requested:
                try:
                    next(steps)
                except StopIteration:
                    return True, iterations
                iterations += 1
        except KeyboardInterrupt:  # a second signal: stop where the code was
            stop.note(signal.SIGINT)
        return False, iterations
    if callable(fit):
        try:
            with stop.immediate():
                if stop.requested:  # asked before training began: do not start
                    return False, None
                fit()
        except KeyboardInterrupt:
            stop.note(signal.SIGINT)
            return False, None
        return bool(getattr(trainer, "stopped", True)), None
    raise RunlabError(
        f"the trainer ({type(trainer).__name__}) has neither iter_fit() nor fit(): "
        "new_trainer must return an object with one of them"
    )


def _checkpoint(run: Run, trainer: Any, iterations: int | None) -> None:
    try:
        run.checkpoint({"trainer": trainer, "iterations": iterations})
    except (TypeError, AttributeError, RecursionError) as err:  # what pickle raises
        raise RunlabError(
            f"cannot checkpoint the trainer ({type(trainer).__name__}): {err}; "
            "leave unpicklable attributes out with __getstate__/__setstate__"
        ) from None


def _write_reports(
    run: Run, run_dir: RunDir, report: Mapping[str, Any], *, done: bool, iterations: int | None
) -> Path:
    """Write the attempt's report in both forms, the summary and a metrics point."""
    content = to_jsonable(dict(report))
    name = LAST_REPORT if done else f"report-{run.attempt}.json"
    path = run_dir.path / name
    atomic_write_json(path, content)
    reports = run_dir.path / "reports"
    reports.mkdir(exist_ok=True)
    status = RunStatus.COMPLETED if done else RunStatus.INTERRUPTED
    atomic_write_json(
        reports / f"{run.attempt}.json",
        {
            "attempt": run.attempt,
            "status": status.value,
            "final": done,
            "end": utc_iso(time.time()),
            "iterations": iterations,
            "source": name,
            "summary": content,
        },
    )
    scalars = {k: v for k, v in content.items() if v is None or isinstance(v, (str, int, float))}
    # The summary is this report's values only, not merged with an earlier attempt's.
    run_dir.summary_json.unlink(missing_ok=True)
    run.summary(scalars)
    numbers = {
        k: v for k, v in scalars.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    if numbers:
        run.log(step=run.attempt, **numbers)
    return path


def after(iterations: int | None) -> str:
    """`` after N iterations``, or nothing when the count is not known."""
    if iterations is None:
        return ""
    return f" after {iterations} iteration{'' if iterations == 1 else 's'}"


def _failed(run: Run, exc: BaseException) -> Outcome:
    """Record a failed attempt; user code's traceback goes to stderr and error.txt."""
    if isinstance(exc, RunlabError):
        error, text = str(exc), None
    else:
        lines = traceback.format_exception_only(type(exc), exc)
        error = lines[-1].strip() if lines else type(exc).__name__
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(text)
    run.finish(RunStatus.FAILED, exit_code=1, error=error, error_text=text)
    return Outcome(run.id, RunStatus.FAILED, 1, error=error)


class _StopRequest:
    """SIGINT and SIGTERM turned into a request to stop at the end of an iteration."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self._immediate = False

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def note(self, signum: int) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again = self.requested
        self.note(signum)
        if again or self._immediate:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold SIGINT/SIGTERM for the duration (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        saved = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)

    @contextlib.contextmanager
    def immediate(self) -> Iterator[None]:
        """Let a signal interrupt at once (a KeyboardInterrupt) for the duration."""
        self._immediate = True
        try:
            yield
        finally:
            self._immediate = False


@contextlib.contextmanager
def _working_dir(folder: Path | None) -> Iterator[None]:
    """Work in ``folder`` for the duration (nothing when None); the old one is restored."""
    if folder is None:
        yield
        return
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)
