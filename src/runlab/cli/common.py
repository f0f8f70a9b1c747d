"""What every command module shares: the store handle, the store argument, small text helpers."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import click

from runlab.store import Store

pass_store = click.make_pass_decorator(Store)

_leaving: list[bool] = []


def leave_at_once() -> None:
    """Ask :func:`runlab.cli.main` to end the process as soon as the command returns.

    For a command that wrote nothing and holds a large structure (a plan of 100,000
    runs): the interpreter's teardown would free it object by object, a tenth of a
    second for nothing. Only the ``runlab`` entry point obeys; click's test runner and
    other in-process callers return as usual.
    """
    _leaving.append(True)


def leaving() -> bool:
    return bool(_leaving)


STORE_ARG = click.argument(
    "store_path",
    metavar="[STORE]",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
)
"""The optional store folder a reading command takes first (``runlab ls runs``)."""


def names(text: str | None) -> tuple[str, ...]:
    """The names of a comma-separated option value (``--groupby params.lr,params.model``)."""
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Print each distinct warning raised inside once, as one ``warning: ...`` line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen: set[str] = set()
            for w in caught:
                line = str(w.message).splitlines()[0] if str(w.message) else w.category.__name__
                if line not in seen:
                    seen.add(line)
                    click.echo(f"warning: {line}", err=True)
