"""Compatibility layers: the APIs, folder layouts and commands of the tools runlab replaces."""

from __future__ import annotations

import sys
from collections.abc import Callable


def command_exit_code(run: Callable[[], int | None]) -> int:
    """Run an old tool's command as runlab runs its own: a runlab error is one line and its code.

    ``... | head`` closing the pipe is not an error. The old tools' commands are argparse
    programs (their users' scripts call them so), hence not the click CLI's handling.
    """
    from runlab.errors import RunlabError

    try:
        return run() or 0
    except RunlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader left
        sys.stderr.close()
        return 0
