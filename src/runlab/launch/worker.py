"""A slot's worker process for Python tasks: ``python -m runlab.launch.worker``.

The launcher starts one per slot (with the slot's ``CUDA_VISIBLE_DEVICES`` already in its
environment, before anything can initialise CUDA) and sends it one JSON line per run on
stdin; the worker calls ``fn(config, run)`` and answers one JSON line on its original
stdout. While a run executes, fds 1 and 2 point at the run's ``stdout.log`` and
``stderr.log``, so prints, C extensions and child processes all land in the run.
A worker exits when its stdin closes or its launcher dies.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from runlab import tracking
from runlab.record.layout import RunDir
from runlab.record.run import RESUMABLE_EXIT_CODE, Terminated, outcome_of
from runlab.record.status import RunStatus
from runlab.tasks import CallableTask


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)  # the launcher died: this slot's run is lost, not ours to finish


def _on_sigterm(signum: int, frame: Any) -> None:
    # One SIGTERM is the whole message: a second one (a process group signalled twice,
    # an impatient launcher) must not cut short the answer about the run it interrupted.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def execute(request: dict[str, Any], functions: dict[str, Any]) -> dict[str, Any]:
    """Run one request's function on its run folder; return the outcome as JSON data."""
    run_dir = RunDir(Path(request["run_dir"]))
    target = request["target"]
    os.environ.update(request.get("env") or {})
    run = tracking.attach(run_dir)
    params = dict(run.params)
    exc: BaseException | None = None
    try:
        if target not in functions:
            functions[target] = CallableTask(target).load()
        result = functions[target](params, run)
        if isinstance(result, dict):
            run.summary(result)
    except BaseException as caught:  # the task's own failure, recorded, never the worker's
        exc = caught
    finally:
        run.finish()
        tracking.detach(run_dir)
    status, code, error = outcome_of(exc)
    if status is RunStatus.INTERRUPTED and run_dir.checkpoint.exists():
        code = RESUMABLE_EXIT_CODE
    text = None
    if exc is not None and not isinstance(exc, (SystemExit, KeyboardInterrupt)):
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"status": status.value, "exit_code": code, "error": error, "error_text": text}


def _redirect(run_dir: RunDir | None) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, path in ((1, run_dir and run_dir.stdout_log), (2, run_dir and run_dir.stderr_log)):
        target = os.open(
            path if path else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
        )
        os.dup2(target, fd)
        os.close(target)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    _redirect(None)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher decides what Ctrl-C means
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    functions: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        run_dir = RunDir(Path(request["run_dir"]))
        _redirect(run_dir)
        try:
            answer = execute(request, functions)
        finally:
            _redirect(None)
        answers.write(json.dumps(answer) + "\n")
        if answer["status"] == "interrupted":
            break


if __name__ == "__main__":
    main()
