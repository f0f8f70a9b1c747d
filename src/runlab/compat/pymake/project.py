"""A pymake project: the folder holding ``pymake.cfg``, its ``spec/``, ``script/`` and data.

``pymake.cfg`` is read as pymake wrote it (``key = value`` lines, ``#`` comments); the
settings used are ``project_data`` (the data folder, default ``data``),
``default_spec``, ``default_script`` and ``default_model`` (the folders, default
``spec``, ``script`` and ``model``) and ``gramarg`` (the file of extra command-line
options: ``gramarg.py``, a path, or pymake's ``project.gramarg`` module name, read as
``gramarg.py`` beside pymake.cfg).

Specs are the design attributes of the ExpDesign classes of ``spec/*.py`` (a spec is
named by its attribute, or ``Class.attribute`` when two classes use one name); actions
are the public methods of the ExpeFormat classes of ``script/*.py`` (``method``, or
``Class.method`` when two scripts have one); models are the classes of ``model/*.py``
with a ``fit`` (``Class``, or ``module.Class`` when two files define one). Files are
imported with the project folder first on ``sys.path``, as pymake ran from there, and
each time they are asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.compat.pymake.model import Model, is_model, model_of
from runlab.compat.pymake.types import ExpDesign, is_design
from runlab.errors import UsageError
from runlab.imports import first_on_path, import_module

CFG_FILE = "pymake.cfg"
_DEFAULTS = {
    "project_data": "data",
    "default_spec": "spec",
    "default_script": "script",
    "default_model": "model",
    "gramarg": "",
}


@dataclass(frozen=True)
class Spec:
    """One design of a spec class: its name, the class it is in, the design, its file."""

    name: str
    cls: str
    design: Any
    path: Path


@dataclass(frozen=True)
class Action:
    """One action: the script class, the method name, its first doc line, its file and line."""

    cls: type
    name: str
    doc: str
    path: Path
    line: int = 0

    @property
    def ref(self) -> str:
        return f"{self.cls.__name__}.{self.name}"


def read_cfg(path: Path) -> dict[str, str]:
    """The settings of a ``pymake.cfg``; UsageError naming the line of a malformed one."""
    settings = dict(_DEFAULTS)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read: {err}") from None
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text or (text.startswith("[") and text.endswith("]")):
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{path}:{number}: expected key = value, got {line.strip()!r}")
        settings[key.strip()] = value.strip()
    return settings


@dataclass(frozen=True)
class PmkProject:
    """A pymake project folder and its settings from ``pymake.cfg``."""

    root: Path
    settings: dict[str, str]

    @classmethod
    def at(cls, root: Path) -> PmkProject:
        root = Path(root).absolute()
        return cls(root, read_cfg(root / CFG_FILE))

    def _folder(self, key: str) -> Path:
        return self.root / (self.settings.get(key) or _DEFAULTS[key])

    @property
    def data(self) -> Path:
        """The data folder, where experiments' files go."""
        return self._folder("project_data")

    @property
    def spec_dir(self) -> Path:
        return self._folder("default_spec")

    @property
    def script_dir(self) -> Path:
        return self._folder("default_script")

    @property
    def model_dir(self) -> Path:
        return self._folder("default_model")

    @property
    def gramarg(self) -> Path | None:
        """The gramarg file, when there is one."""
        value = self.settings.get("gramarg", "")
        if value.endswith(".py") or "/" in value:
            path = self.root / value
        else:  # pymake's `project.gramarg` module: its file beside pymake.cfg
            path = self.root / f"{value.rpartition('.')[2] or 'gramarg'}.py"
        return path if path.is_file() else None

    def _modules(self, folder: Path) -> Iterator[tuple[Path, Any]]:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith(("_", ".")):
                continue
            with first_on_path(self.root):
                module, _ = import_module(str(path), what=f"{path.relative_to(self.root)}")
            yield path, module

    def specs(self) -> list[Spec]:
        """Every spec of the project, in file and definition order."""
        found = []
        for path, module in self._modules(self.spec_dir):
            for cls in _classes(module, ExpDesign):
                for attr, value in vars(cls).items():
                    if not attr.startswith("_") and is_design(value):
                        found.append(Spec(attr, cls.__name__, value, path))
        return found

    def spec(self, ref: str) -> Spec:
        """The spec named ``ref`` (``name`` or ``Class.name``); UsageError listing the known."""
        specs = self.specs()
        chosen = [s for s in specs if ref in (s.name, f"{s.cls}.{s.name}")]
        if len(chosen) == 1:
            return chosen[0]
        if chosen:
            both = ", ".join(f"{s.cls}.{s.name}" for s in chosen)
            raise UsageError(f"spec {ref!r} is defined more than once ({both}): name one of them")
        known = ", ".join(s.name for s in specs) or f"none in {self.spec_dir}"
        raise UsageError(f"no spec {ref!r} in this pymake project; specs: {known}")

    def actions(self) -> list[Action]:
        """Every action of the project's scripts, in file and definition order."""
        from runlab.compat.pymake.script import ExpeFormat, actions_of

        found = []
        for path, module in self._modules(self.script_dir):
            for cls in _classes(module, ExpeFormat):
                for name in actions_of(cls):
                    method = getattr(cls, name)
                    doc = (method.__doc__ or "").strip().splitlines()
                    line = getattr(getattr(method, "__code__", None), "co_firstlineno", 0)
                    found.append(Action(cls, name, doc[0] if doc else "", path, line))
        return found

    def action(self, ref: str) -> Action:
        """The action ``ref`` (``method`` or ``Class.method``); UsageError listing the known."""
        actions = self.actions()
        chosen = [a for a in actions if ref in (a.name, a.ref)]
        if len(chosen) == 1:
            return chosen[0]
        if chosen:
            both = ", ".join(a.ref for a in chosen)
            raise UsageError(f"action {ref!r} is in several scripts ({both}): name one of them")
        known = ", ".join(a.ref for a in actions) or f"none in {self.script_dir}"
        raise UsageError(f"no action {ref!r} in this pymake project; actions: {known}")

    def models(self) -> list[Model]:
        """Every model of the project (a class of ``model/`` with a ``fit``), in file order."""
        found = []
        for path, module in self._modules(self.model_dir):
            for value in list(vars(module).values()):
                if is_model(value, module.__name__):
                    found.append(model_of(value, path))
        return found

    def model_modules(self) -> dict[str, Any]:
        """The imported files of ``model/``, by file stem (what a saved model's pickle names)."""
        return {path.stem: module for path, module in self._modules(self.model_dir)}

    def model(self, ref: str) -> Model:
        """The model ``ref`` (``Class`` or ``module.Class``); UsageError listing the known."""
        models = self.models()
        chosen = [m for m in models if ref in (m.name, m.qualified)]
        if len(chosen) == 1:
            return chosen[0]
        if chosen:
            both = ", ".join(m.qualified for m in chosen)
            raise UsageError(f"model {ref!r} is defined more than once ({both}): name one of them")
        known = ", ".join(model_refs(models)) or f"none in {self.model_dir}"
        raise UsageError(f"no model {ref!r} in this pymake project; models: {known}")


def model_refs(models: list[Model]) -> list[str]:
    """How each model is named: its class, or ``module.Class`` when the class name repeats."""
    names = [m.name for m in models]
    return [m.name if names.count(m.name) == 1 else m.qualified for m in models]


def _classes(module: Any, base: type) -> Iterator[type]:
    for value in list(vars(module).values()):
        if (
            isinstance(value, type)
            and issubclass(value, base)
            and value is not base
            and value.__module__ == module.__name__
        ):
            yield value


def find_project(start: str | os.PathLike[str] | None = None) -> PmkProject | None:
    """The pymake project holding ``start`` (default: the working directory), or None."""
    here = Path(start if start is not None else Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / CFG_FILE).is_file():
            return PmkProject.at(folder)
    return None
