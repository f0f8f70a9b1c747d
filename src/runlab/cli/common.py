"""What every command module shares: the store handle and option bundles."""

from __future__ import annotations

import click

from runlab.store import Store

pass_store = click.make_pass_decorator(Store)
