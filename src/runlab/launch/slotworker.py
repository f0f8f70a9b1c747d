"""The launcher's end of a slot's worker process (``launch/worker.py``), for Python tasks.

The launcher sends one JSON line per run on the worker's stdin and the worker answers
one JSON line on its stdout when the run ends. The launcher's loop never blocks on a
worker: it reads whatever the pipe holds when the loop says it is readable, and an
answer counts once its whole line has come (a traceback in it may take several reads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from runlab.launch.runfolder import LAUNCHER_VAR, Outcome
from runlab.launch.slots import Slot
from runlab.record.status import RunStatus


class SlotWorker:
    """One slot's worker process: started with the slot's devices, alive across runs.

    It is also the process of the run it executes (``pid``, ``wait``, ``poll``), so
    stopping that run signals the worker's process group.
    """

    def __init__(self, slot: Slot) -> None:
        # CUDA_VISIBLE_DEVICES is in its environment before anything can initialise CUDA.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runlab.launch.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **slot.env(), LAUNCHER_VAR: str(os.getpid())},
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.fd = self.process.stdout.fileno()
        self._pending = bytearray()

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self) -> int:
        return self.process.wait()

    def poll(self) -> int | None:
        return self.process.poll()

    def send(self, request: dict[str, Any]) -> None:
        """Ask for a run; a worker that died meanwhile is found by its end (EOF), not here."""
        self._pending.clear()
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write((json.dumps(request) + "\n").encode())
            stdin.flush()
        except OSError:
            pass

    def read(self) -> Outcome | None:
        """Read what the pipe holds: the run's outcome once its line is whole, else None.

        Raises EOFError when the worker has closed its stdout (it ended).
        """
        data = os.read(self.fd, 65536)
        if not data:
            raise EOFError
        self._pending += data
        if b"\n" not in self._pending:
            return None
        line, _, rest = bytes(self._pending).partition(b"\n")
        self._pending[:] = rest
        answer = json.loads(line)
        return Outcome(
            RunStatus(answer["status"]),
            int(answer["exit_code"]),
            answer.get("error"),
            answer.get("error_text"),
        )

    def close(self) -> None:
        """Close both pipes: end of stdin is the worker's signal to exit."""
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
