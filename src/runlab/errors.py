"""The one exception hierarchy of runlab.

The CLI catches :class:`RunlabError` once, prints its message as one line and exits
with the class's ``exit_code``; anything else is a bug and keeps its traceback::

    RunlabError                 exit 1   base; never raised bare
    ├── UsageError              exit 2   bad input: a value, an expression, an option
    │   ├── ExpressionError     exit 2   a --where expression that cannot be compiled
    │   └── ColumnNotFound      exit 2   a column named in a query that does not exist
    ├── RunNotFound             exit 2   no run with that id or name in the store
    ├── RunConflict             exit 2   reusing a run whose params or code differ
    ├── DirtyRepository         exit 2   require_clean and the git tree has changes
    ├── CommandNotFound         exit 127 `runlab exec`: the command does not exist
    ├── CommandNotExecutable    exit 126 `runlab exec`: the command cannot be executed
    └── StoreError              exit 1   the store on disk cannot be used (permissions, corruption)
"""

from __future__ import annotations


class RunlabError(Exception):
    """Base of every error runlab raises on purpose; ``str(err)`` is one user-facing line."""

    exit_code = 1


class UsageError(RunlabError):
    """Bad input from the user: the message names the file, line or value at fault."""

    exit_code = 2


class ExpressionError(UsageError):
    """A filter expression that cannot be parsed or names an unknown column or token."""


class ColumnNotFound(UsageError):
    """A query named a column the runs table does not have."""


class RunNotFound(UsageError):
    """No run of that id or name exists in the store."""


class RunConflict(UsageError):
    """An existing run cannot be reused: its params or git sha differ from this one's."""


class DirtyRepository(UsageError):
    """``require_clean`` was asked and the git working tree has uncommitted changes."""


class CommandNotFound(RunlabError):
    """The command given to ``runlab exec`` does not exist (exit 127, as a shell says)."""

    exit_code = 127


class CommandNotExecutable(RunlabError):
    """The command given to ``runlab exec`` exists but cannot be run (exit 126, as a shell says)."""

    exit_code = 126


class StoreError(RunlabError):
    """The store folder cannot be read or written as runlab needs."""


def warning_line(message: object, *args: object, **kwargs: object) -> str:
    """``warnings.formatwarning`` for commands: each warning is one ``warning: ...`` line."""
    return f"warning: {message}\n"
