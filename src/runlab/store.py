"""The store: one folder of run folders plus its index, behind one handle.

Library functions and CLI commands take a :class:`Store` explicitly (the CLI builds
one from ``--store`` or ``RUNLAB_STORE``); nothing keeps a current store globally.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import RunNotFound, UsageError
from runlab.record.files import read_json
from runlab.record.layout import RunDir, StoreLayout

if TYPE_CHECKING:
    from runlab.index import Index

DEFAULT_STORE = "runs"
STORE_ENV = "RUNLAB_STORE"


def resolve_root(store: str | os.PathLike[str] | None = None) -> Path:
    """The store folder: the argument, else ``$RUNLAB_STORE``, else ``./runs``."""
    if store is None:
        store = os.environ.get(STORE_ENV) or DEFAULT_STORE
    return Path(store).expanduser().absolute()


@dataclass
class Store:
    """A store folder. Cheap to make; the index opens on first use."""

    root: Path
    layout: StoreLayout = field(init=False)
    _index: Index | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).expanduser().absolute()
        self.layout = StoreLayout(self.root)

    @classmethod
    def at(cls, store: str | os.PathLike[str] | Store | None = None) -> Store:
        """The store for an argument that may be a path, a Store, or None (the default)."""
        return store if isinstance(store, Store) else cls(resolve_root(store))

    def run_dir(self, run_id: str | int) -> RunDir:
        """The folder of an existing run; RunNotFound names the id when there is none."""
        run_dir = self.layout.run_dir(str(run_id))
        if not run_dir.run_json.exists():
            raise RunNotFound(f"no run {run_id!s} in store {self.root}")
        return run_dir

    def resolve(self, ref: str | int) -> RunDir:
        """The folder of the run with id ``ref``, else of the one run named ``ref``.

        A name shared by several runs resolves to the newest of them (highest id).
        """
        text = str(ref)
        try:
            return self.run_dir(text)
        except (RunNotFound, UsageError):
            pass
        named = [
            d
            for d in self.layout.iter_run_dirs()
            if (read_json(d.run_json, default={}, warn=False) or {}).get("name") == text
        ]
        if not named:
            raise RunNotFound(f"no run with id or name {text!r} in store {self.root}")
        return named[-1]

    def read_record(self, run_id: str | int) -> dict[str, Any]:
        """The ``run.json`` of a run."""
        return read_json(self.run_dir(run_id).run_json, default={}) or {}

    def index(self, *, refresh: bool = True) -> Index:
        """The store's index, with runs marked changed since the last reader ingested."""
        from runlab.index import Index

        if self._index is None:
            self._index = Index(self.layout)
        if refresh:
            self._index.refresh()
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
