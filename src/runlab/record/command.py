"""Record any command as a run: typed params from ``key=value`` text, the child's exit, signals.

The command runs as a child of this process, from an argv list and never through a
shell, so a param value or an argument cannot be interpreted as shell code. The run
(started by the caller with output capture on) has pointed this process's fds 1 and 2
at its log tee; the child inherits them, so its output reaches both the terminal and
``stdout.log``/``stderr.log`` without passing through Python.

While the child runs, this process must live long enough to record how it ended:

- SIGINT and SIGHUP go to the whole foreground process group (Ctrl-C, a closed
  terminal), so the child gets its own copy: this process ignores them and lets the
  child decide whether to stop.
- SIGTERM is usually sent to this process alone (``kill``, a cluster's preemption), so
  it is forwarded to the child, and the run is recorded ``interrupted``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from runlab.errors import CommandNotExecutable, CommandNotFound, UsageError
from runlab.record.run import Run
from runlab.record.status import RunStatus

# YAML 1.2 core schema, the one YAML without 1.1's surprises (``on`` → True, ``010`` → 8,
# ``1:30`` → 90, and ``1e-3`` a string): the forms a value on a command line may take.
_NULL = frozenset({"null", "Null", "NULL", "~"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"([-+]?)\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")


def parse_value(text: str) -> Any:
    """Return ``text`` as the YAML 1.2 scalar it spells, else as the literal string.

    ``0.1`` → float, ``3`` → int, ``1e-3`` → float, ``true`` → bool, ``null`` → None;
    anything else, quotes included, is kept exactly as typed (an empty value is ``""``).
    """
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if inf := _INF.fullmatch(text):
        return float(f"{inf.group(1)}inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def parse_pairs(items: Sequence[str], *, option: str = "-p") -> dict[str, str]:
    """Return ``key=value`` texts as a dict of text values, in the order given.

    A text without ``=``, an empty key, or a key given twice is a UsageError naming it.
    """
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE, e.g. {option} lr=0.1")
        if key in pairs:
            raise UsageError(f"{option} {key}: given twice; give each key once")
        pairs[key] = value
    return pairs


def parse_params(items: Sequence[str], *, option: str = "-p") -> dict[str, Any]:
    """Return ``key=value`` texts as a params dict of typed values (see :func:`parse_value`)."""
    return {key: parse_value(value) for key, value in parse_pairs(items, option=option).items()}


@dataclass(frozen=True)
class CommandOutcome:
    """How a command ended: the run's status, its exit code (128+n for signal n), the reason."""

    status: RunStatus
    exit_code: int
    error: str | None


def signal_name(number: int) -> str:
    """The name of signal ``number`` (``SIGTERM``), or ``signal N`` for one Python does not know."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def outcome_of_returncode(returncode: int, *, terminated: bool = False) -> CommandOutcome:
    """Map a child's return code (``-n`` for signal n) to its outcome.

    ``terminated`` says that this process forwarded a SIGTERM to the child: the run was
    stopped from outside, whatever the child did on its way out.
    """
    if returncode < 0:
        number = -returncode
        stopped = terminated or number in (signal.SIGINT, signal.SIGTERM)
        return CommandOutcome(
            RunStatus.INTERRUPTED if stopped else RunStatus.FAILED,
            128 + number,
            f"killed by {signal_name(number)}",
        )
    if terminated:
        return CommandOutcome(
            RunStatus.INTERRUPTED,
            returncode,
            f"terminated by SIGTERM (the command exited with code {returncode})",
        )
    if returncode == 0:
        return CommandOutcome(RunStatus.COMPLETED, 0, None)
    return CommandOutcome(RunStatus.FAILED, returncode, f"command exited with code {returncode}")


_Handler = Callable[[int, FrameType | None], Any]


@contextlib.contextmanager
def _signal_handlers(handlers: Mapping[int, _Handler]) -> Iterator[None]:
    """Install ``handlers`` for the block, then restore the previous ones.

    Handlers, unlike ``SIG_IGN``, are reset to the default action in a child at exec, so
    the child starts with the signal dispositions a shell would give it. Signals can only
    be handled in the main thread; elsewhere the block runs without handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    try:
        yield
    finally:
        for number, previous in saved.items():
            signal.signal(number, previous)


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: this process's, plus ``extra``, with Python output unbuffered.

    The child's stdout is the capture pipe, not the terminal, so a Python child would
    buffer it in 8 KiB blocks: ``runlab logs --follow`` would show nothing for minutes
    and stdout and stderr lines would interleave out of order. A value the user set wins.
    """
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra)
    return env


def run_command(run: Run, argv: Sequence[str], *, env: Mapping[str, str]) -> CommandOutcome:
    """Run ``argv`` as a child process with ``env``, record its end in ``run``, return it.

    The run is finished here: completed, failed (exit code n, or killed by a signal) or
    interrupted (SIGINT/SIGTERM). A command that does not exist (or cannot be executed)
    is recorded failed with exit code 127 (126) and raised as CommandNotFound
    (CommandNotExecutable).
    """
    argv = list(argv)
    child: list[subprocess.Popen[bytes]] = []
    terminated: list[int] = []

    def forward(number: int, frame: FrameType | None) -> None:
        terminated.append(number)
        if child:
            child[0].send_signal(number)

    def wait_through(number: int, frame: FrameType | None) -> None:
        """Let the child, which got the same signal, decide."""

    handlers: dict[int, _Handler] = {signal.SIGTERM: forward, signal.SIGINT: wait_through}
    if hasattr(signal, "SIGHUP"):
        handlers[signal.SIGHUP] = wait_through
    with _signal_handlers(handlers):
        try:
            child.append(subprocess.Popen(argv, env=dict(env)))
        except FileNotFoundError:
            message = f"command not found: {argv[0]}"
            run.finish(RunStatus.FAILED, exit_code=CommandNotFound.exit_code, error=message)
            raise CommandNotFound(message) from None
        except OSError as exc:  # permission denied, not an executable format, ...
            message = f"cannot execute {argv[0]}: {exc.strerror or exc}"
            run.finish(RunStatus.FAILED, exit_code=CommandNotExecutable.exit_code, error=message)
            raise CommandNotExecutable(message) from None
        if terminated:  # SIGTERM arrived while the child was being started
            child[0].send_signal(signal.SIGTERM)
        returncode = child[0].wait()
        outcome = outcome_of_returncode(returncode, terminated=bool(terminated))
        run.finish(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    return outcome
