"""Import user code named on the command line: ``file.py`` paths and dotted module names.

One way for designs (``designs.py:grid``), tasks (``tasks:fit``) and project listings,
so a reference that works in one place works in all, whether runlab was started as the
installed ``runlab`` script or as ``python -m runlab``. While the module is imported,
its folder (for a file) or the working directory (for a module) is first on
``sys.path``, as when running a script, so user files import their neighbours.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from runlab.errors import UsageError

# Modules imported from a file path get names with this prefix (see import_module).
FILE_MODULE_PREFIX = "_runlab_user_"


def from_file(module_name: str) -> bool:
    """True for a module :func:`import_module` loaded from a file path, not by its name."""
    return module_name.startswith(FILE_MODULE_PREFIX)


@contextlib.contextmanager
def first_on_path(folder: Path) -> Iterator[None]:
    """Put ``folder`` first on ``sys.path`` for the duration, as running a script would."""
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def is_file_ref(where: str) -> bool:
    """True when ``where`` names a file (``x.py``, ``dir/x``) rather than a dotted module."""
    return where.endswith(".py") or "/" in where or "\\" in where


def import_module(where: str, *, what: str) -> tuple[ModuleType, Path | None]:
    """Import ``where`` (a file path or a module name); return it with its file.

    ``what`` names the reference in errors (``design 'x.py:grid'``). A file is imported
    under a stable name derived from its path and registered in ``sys.modules``, so
    pickle and dataclasses can find what it defines.
    """
    if is_file_ref(where):
        path = Path(where)
        if not path.is_file():
            raise UsageError(f"{what}: no such file {where}")
        resolved = path.resolve()
        digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
        name = f"{FILE_MODULE_PREFIX}{resolved.stem}_{digest}"
        if name in sys.modules:
            return sys.modules[name], path
        spec = importlib.util.spec_from_file_location(name, resolved)
        if spec is None or spec.loader is None:
            raise UsageError(f"{what}: cannot load {where} as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            with first_on_path(resolved.parent):
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module, path
    try:
        with first_on_path(Path.cwd()):
            module = importlib.import_module(where)
    except ModuleNotFoundError as err:
        if err.name and where.startswith(err.name):
            raise UsageError(f"{what}: no module named {err.name!r}") from None
        raise
    file = getattr(module, "__file__", None)
    return module, Path(file) if file else None
