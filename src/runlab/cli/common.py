"""What every command module shares: the store handle and option bundles."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import click

from runlab.store import Store

pass_store = click.make_pass_decorator(Store)


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
