"""Find a runlab project and read its settings (``runlab.toml`` or ``[tool.runlab]``)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.errors import UsageError

CONFIG_FILE = "runlab.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_STORE = "runs"
DEFAULT_DESIGNS = ("designs", "designs.py")
DEFAULT_TASKS = ("tasks.py", "tasks")
_KEYS = ("designs", "store", "tasks")
# A root-level YAML file is a sweep only if it says what to run: the root also holds
# CI, conda and pre-commit files, which must not show up as broken sweeps.
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True)
class Project:
    """A project folder and its settings; ``config`` is None when no config file was found.

    ``given`` names the settings the config file set, so a folder it names and that is
    missing can be reported, while a missing default folder is simply skipped.
    """

    root: Path
    config: Path | None = None
    store: str = DEFAULT_STORE
    designs: tuple[str, ...] = DEFAULT_DESIGNS
    tasks: tuple[str, ...] = DEFAULT_TASKS
    given: frozenset[str] = frozenset()

    @property
    def store_path(self) -> Path:
        """The store folder, absolute: ``store`` read relative to the project folder."""
        return (self.root / Path(self.store).expanduser()).absolute()


# -- the config -----------------------------------------------------------------------


def shown(path: Path, cwd: Path | None = None) -> str:
    """``path`` as a user types it: relative to the working directory when that is shorter."""
    try:
        rel = os.path.relpath(path, cwd or Path.cwd())
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if len(rel) <= len(str(path)) else str(path)


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli
    except ImportError:
        raise UsageError(
            "reading runlab.toml on Python 3.10 needs tomli: pip install tomli"
        ) from None
    return tomli


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    toml = _toml()
    try:
        return dict(toml.loads(text))
    except toml.TOMLDecodeError as err:
        message = str(err)
        at = _TOML_AT.search(message)
        where = f"{shown(path)}:{at[1]}" if at else shown(path)
        raise UsageError(f"{where}: {_TOML_AT.sub('', message)}") from None


def _table_of(path: Path, text: str) -> dict[str, Any] | None:
    """The runlab settings in ``path``, or None when a pyproject.toml has none."""
    if path.name == PYPROJECT:
        if "runlab" not in text:  # most pyproject.toml files: no need to parse them
            return None
        table = parse_toml(path, text).get("tool", {})
        table = table.get("runlab") if isinstance(table, dict) else None
        if table is None:
            return None
        if not isinstance(table, dict):
            raise UsageError(f"{shown(path)}: tool.runlab must be a table")
        return table
    return parse_toml(path, text)


def _line_of(text: str, key: str) -> str:
    """``:N``, the line that sets ``key`` (in pyproject.toml, below ``[tool.runlab]``)."""
    start = max(text.find("[tool.runlab]"), 0)
    match = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE).search(text, start)
    return f":{text.count(chr(10), 0, match.start()) + 1}" if match else ""


def _paths(value: Any, *, key: str, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise UsageError(f"{where}: {key} must be a path or a list of paths, got {value!r}")
    return tuple(items)


def read_config(path: str | os.PathLike[str]) -> Project | None:
    """The project a ``runlab.toml`` or ``pyproject.toml`` describes (None: no runlab table).

    Raises UsageError naming the file and line of a syntax error, an unknown key or a
    value of the wrong type.
    """
    path = Path(path).absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        if path.name == PYPROJECT:  # someone else's file, maybe in a parent folder: not ours
            return None
        raise UsageError(f"{shown(path)}: cannot read: {err}") from None
    table = _table_of(path, text)
    if table is None:
        return None
    settings: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{shown(path)}{_line_of(text, key)}"
        if key not in _KEYS:
            from runlab.design.sweeptext import suggest

            raise UsageError(
                f"{where}: unknown key {key!r}{suggest(key, _KEYS)}; known: {', '.join(_KEYS)}"
            )
        if key == "store":
            if not isinstance(value, str) or not value:
                raise UsageError(f"{where}: store must be a folder path, got {value!r}")
            settings[key] = value
        else:
            settings[key] = _paths(value, key=key, where=where)
    return Project(path.parent, path, **settings, given=frozenset(settings))


def config_in(folder: Path) -> Project | None:
    for name in (CONFIG_FILE, PYPROJECT):
        path = folder / name
        if path.is_file():
            project = read_config(path)
            if project is not None:
                return project
    return None


def find_project(start: str | os.PathLike[str] | None = None) -> Project | None:
    """The project holding ``start`` (default: the working directory), or None.

    Walks up from ``start`` to the first folder with a ``runlab.toml`` or a
    ``pyproject.toml`` that has a ``[tool.runlab]`` table.
    """
    here = Path(start if start is not None else Path.cwd()).absolute()
    for folder in (here, *here.parents):
        project = config_in(folder)
        if project is not None:
            return project
    return None


def project_store(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The store the enclosing project names, or None outside a project.

    The CLI uses it when neither ``--store`` nor ``$RUNLAB_STORE`` is given.
    """
    project = find_project(start)
    return project.store_path if project is not None else None


def current_project() -> Project:
    """The project around the working directory, else the working directory with defaults."""
    return find_project() or Project(Path.cwd().absolute())
