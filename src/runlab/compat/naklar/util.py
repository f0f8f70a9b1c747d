"""naklar's ``util.load_joblib``: read a joblib dump of settings without keeping arrays open.

Usage::

    from runlab.compat.naklar import experiment, util
    experiment.initialise('./results/', dict_file='conf.jbl', load_func=util.load_joblib)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def load_joblib(path: str | os.PathLike[str]) -> Any:
    """The dict joblib dumped in ``path``, each memory-mapped array replaced by its file's path.

    Arrays are memory-mapped rather than read (a results array can be large); the
    settings table keeps where the array lives and the map is closed at once, so no
    file stays open (on Windows an open map keeps the file from being moved or deleted).
    Arrays joblib could not map (object arrays, compressed dumps) are kept as they are.
    """
    from runlab.importers.settings import load_joblib as load_mapped

    data = load_mapped(Path(path))
    if not isinstance(data, dict):
        return data
    return {key: _path_of(value) for key, value in data.items()}


def _path_of(value: Any) -> Any:
    filename = getattr(value, "filename", None)
    mapped = getattr(value, "_mmap", None)  # numpy.memmap keeps its mmap there, unexposed
    if filename is None or mapped is None:
        return value
    mapped.close()
    return str(filename)


__all__ = ["load_joblib"]
