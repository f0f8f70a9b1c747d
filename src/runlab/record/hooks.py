"""Finish runs that were started without ``with`` when the interpreter ends.

``atexit`` does not tell how the interpreter is ending, so while any run is live this
module watches the three ways out and remembers which one was taken:

- an uncaught exception reaches ``sys.excepthook`` (KeyboardInterrupt included);
- ``sys.exit(n)`` is called (``sys.exit`` is wrapped while a run is live; a bare
  ``raise SystemExit(n)`` outside ``with`` is not seen and counts as completed);
- SIGTERM arrives (a handler raises :class:`Terminated` in the main thread, but only
  when the process had the default SIGTERM action: a user's own handler is left alone).

Everything is installed when the first live run appears and restored when the last
one finishes, so an idle ``import runlab`` changes nothing in the process.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runlab.record.run import Run

_live: list[Run] = []
_exit: dict[str, Any] = {}
_saved: dict[str, Any] = {}
_atexit_registered = False


def watch(run: Run) -> None:
    """Finish ``run`` at interpreter exit with the status the exit means, unless finished before."""
    global _atexit_registered
    if not _live:
        _install()
    _live.append(run)
    if not _atexit_registered:
        atexit.register(_at_exit)
        _atexit_registered = True


def forget(run: Run) -> None:
    """Stop watching a run that finished by itself."""
    if run in _live:
        _live.remove(run)
        if not _live:
            _uninstall()


def _install() -> None:
    _exit.clear()
    _saved["excepthook"] = sys.excepthook
    _saved["exit"] = sys.exit
    sys.excepthook = _excepthook
    sys.exit = _sys_exit
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                _saved["sigterm"] = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not in the main interpreter
            pass


def _uninstall() -> None:
    if sys.excepthook is _excepthook:
        sys.excepthook = _saved.get("excepthook", sys.__excepthook__)
    if sys.exit is _sys_exit:
        sys.exit = _saved["exit"]
    if "sigterm" in _saved and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, _saved["sigterm"])
        del _saved["sigterm"]


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    _exit["exc"] = exc
    _exit["tb"] = tb
    _saved.get("excepthook", sys.__excepthook__)(exc_type, exc, tb)


def _sys_exit(code: Any = None) -> Any:
    _exit["exc"] = SystemExit(code)
    return _saved["exit"](code)


def _on_sigterm(signum: int, frame: Any) -> None:
    from runlab.record.run import Terminated

    _exit["exc"] = Terminated()
    raise Terminated()


def _at_exit() -> None:
    for run in list(reversed(_live)):
        run.finish_from(_exit.get("exc"), _exit.get("tb"))
