"""Find the designs and tasks of a project, without any index: import designs, parse tasks."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from runlab.errors import UsageError
from runlab.imports import from_file
from runlab.project.config import Project, shown

_SWEEP_HINT = re.compile(r"^(template|task)\s*:", re.MULTILINE)

T = TypeVar("T")


@dataclass(frozen=True)
class DesignInfo:
    """A design found in a project: its command-line reference, kind, size and task.

    ``kind`` is Point, Grid, Sample or Group (the class name) or ``yaml`` for a sweep
    file; ``configs`` is None when not counted or when counting failed; ``task`` is the
    task the design carries, as text, or ``""`` when ``-x module:function`` must give one.
    """

    ref: str
    kind: str
    configs: int | None
    task: str
    path: Path


@dataclass(frozen=True)
class TaskInfo:
    """A task function found in a project: ``module:function`` and its docstring's first line."""

    ref: str
    doc: str
    path: Path
    line: int


@dataclass(frozen=True)
class ModelInfo:
    """A pymake model (a class of ``model/`` with a ``fit``): the name a spec's ``model``
    setting gives, its docstring's first line, its file and line.
    """

    ref: str
    doc: str
    path: Path
    line: int


@dataclass(frozen=True)
class Found(Generic[T]):
    """What a search found, in order, and one line per file that could not be read."""

    items: tuple[T, ...] = ()
    problems: tuple[str, ...] = ()


# -- designs --------------------------------------------------------------------------


def _skip_folder(folder: Path, store: Path) -> bool:
    return (
        folder.name.startswith((".", "_"))
        or folder == store
        or (folder / "pyvenv.cfg").exists()
        or folder.name in ("node_modules", "site-packages")
    )


def _files(
    project: Project, entries: tuple[str, ...], key: str, suffixes: tuple[str, ...]
) -> Iterator[tuple[Path | None, str | None]]:
    """Yield (path, None) for each file of ``entries``, or (None, problem) for a missing one.

    Folders are walked, skipping hidden and ``_`` names (``__pycache__``, private
    modules), the store and virtual environments; a package's ``__init__.py`` is kept
    for tasks (parsed), not for designs (importing it by path breaks relative imports).
    """
    init = "__init__.py" if key == "tasks" else None
    store = project.store_path
    for entry in entries:
        path = project.root / entry
        if path.is_file():
            yield path, None
        elif path.is_dir():
            for folder, subfolders, names in os.walk(path):
                here = Path(folder)
                subfolders[:] = sorted(d for d in subfolders if not _skip_folder(here / d, store))
                for name in sorted(names):
                    if name.endswith(suffixes) and (name == init or name[0] not in "._"):
                        yield here / name, None
        elif key in project.given:
            where = shown(project.config) if project.config else "settings"
            yield None, f"{where}: {key} names {entry}, which does not exist"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _failure(path: Path, err: BaseException, *, doing: str = "import") -> str:
    """One line for a file that failed to load: file:line where it failed, and the error."""
    if isinstance(err, SyntaxError) and err.lineno:
        return f"{shown(path)}:{err.lineno}: {err.msg}"
    if isinstance(err, UsageError):
        return str(err)
    line = ""
    tb = err.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path.resolve():
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{shown(path)}{line}: cannot {doing}: {_first_line(err)}"


def _task_text(task: Any, path: Path) -> str:
    from runlab.tasks import CallableTask, CommandTask

    if task is None:
        return ""
    if isinstance(task, str):
        return task
    if isinstance(task, CallableTask):
        return task.target
    if isinstance(task, CommandTask):
        return "template"
    module = str(getattr(task, "__module__", ""))
    name = getattr(task, "__qualname__", type(task).__name__)
    return f"{shown(path)}:{name}" if from_file(module) else f"{module}:{name}"


def _designs_in(module: Any) -> Iterator[tuple[str, Any]]:
    """(attribute, design) for each public design of a module, and of its classes."""
    from runlab.design import Design

    for name, value in list(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, Design):
            yield name, value
        elif isinstance(value, type) and value.__module__ == module.__name__:
            # pymake keeps designs as attributes of a class: ref them as Class.attr.
            for attr, inner in vars(value).items():
                if not attr.startswith("_") and isinstance(inner, Design):
                    yield f"{name}.{attr}", inner


def _count(design: Any, ref: str) -> tuple[int | None, str | None]:
    try:
        return len(design), None
    except Exception as err:  # the design's own rule or template error: report, go on
        why = str(err) if isinstance(err, UsageError) else _first_line(err)
        return None, f"{ref}: cannot expand: {why}"


def _python_designs(path: Path, *, count: bool) -> tuple[list[DesignInfo], list[str]]:
    from runlab.design.pyload import _import  # how `runlab run` imports a design file

    file = shown(path)
    try:
        # A design file that prints must not garble `--json` or shell completion output.
        with contextlib.redirect_stdout(sys.stderr):
            module, _ = _import(f"{file}:", file)
    except (Exception, SystemExit) as err:
        return [], [_failure(path, err)]
    items, problems = [], []
    for attr, design in _designs_in(module):
        ref = f"{file}:{attr}"
        configs, problem = _count(design, ref) if count else (None, None)
        if problem:
            problems.append(problem)
        task = _task_text(getattr(design, "task", None), path)
        items.append(DesignInfo(ref, type(design).__name__, configs, task, path))
    return items, problems


def _yaml_design(path: Path, *, count: bool) -> tuple[list[DesignInfo], list[str]]:
    from runlab.design.sweepfile import load_sweep
    from runlab.tasks import CallableTask

    file = shown(path)
    try:
        sweep = load_sweep(file)
        configs = len(sweep.expand().configs) if count else None
    except Exception as err:
        return [], [str(err) if isinstance(err, UsageError) else _failure(path, err)]
    task = sweep.task.target if isinstance(sweep.task, CallableTask) else "template"
    return [DesignInfo(file, "yaml", configs, task if sweep.task else "", path)], []


def _looks_like_a_sweep(path: Path) -> bool:
    try:
        return bool(_SWEEP_HINT.search(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


def list_designs(project: Project, *, count: bool = True) -> Found[DesignInfo]:
    """Every design in the project's design files, and every sweep file, with its size.

    Designs are the public Point, Grid, Sample and Group objects of each ``.py`` file of
    ``designs`` (and of the classes those files define, as ``Class.attr``), found by
    importing the file as ``runlab run`` does; sweep files are the ``*.yaml``/``*.yml``
    of ``designs`` and those at the project root that have a ``template:`` or
    ``task:``. ``count=False`` skips expanding the designs (for shell completion).
    Functions returning a design are runnable by reference but not listed: building
    them is what their author chose to defer.
    """
    items: list[DesignInfo] = []
    problems: list[str] = []
    seen: set[Path] = set()
    files = list(_files(project, project.designs, "designs", (".py", ".yaml", ".yml")))
    roots = sorted(
        p for p in project.root.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.name[0] != "."
    )
    files += [(p, None) for p in roots if _looks_like_a_sweep(p)]
    for path, problem in files:
        if path is None:
            problems.append(problem or "")
            continue
        if path in seen:
            continue
        seen.add(path)
        loader = _python_designs if path.suffix == ".py" else _yaml_design
        found, failed = loader(path, count=count)
        items += found
        problems += failed
    found, failed = _pymake_designs(project, count=count)
    return Found(tuple(items + found), tuple(problems + failed))


def designs_in_file(path: str | os.PathLike[str]) -> Found[DesignInfo]:
    """The designs of one Python file, uncounted (shell completion after ``file.py:``)."""
    found, problems = _python_designs(Path(path).absolute(), count=False)
    return Found(tuple(found), tuple(problems))


# -- tasks ----------------------------------------------------------------------------


def _module_ref(project: Project, path: Path) -> str:
    """``tasks`` for ``tasks.py``, ``tasks.fit`` for ``tasks/fit.py``; a path if not importable."""
    try:
        parts = list(path.relative_to(project.root).with_suffix("").parts)
    except ValueError:
        return str(path)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if parts and all(p.isidentifier() for p in parts):
        return ".".join(parts)
    return shown(path)


def _is_task(node: ast.AST) -> bool:
    """A public function taking (config, run), every further parameter optional."""
    if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
        return False
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if len(positional) < 2 or positional[1].arg != "run":
        return False
    required = len(positional) - len(args.defaults)
    kw_required = any(d is None for d in args.kw_defaults)
    return required <= 2 and not kw_required


def list_tasks(project: Project) -> Found[TaskInfo]:
    """Every task function of the project's task files: ``module:function`` and its doc.

    A task is a public module-level ``def f(config, run)`` (the second parameter named
    ``run``; any further ones optional). Files are parsed, not imported, so a task
    module's heavy imports cost nothing here; a function made at import time (by a
    factory or an assignment) is runnable but not listed.
    """
    items: list[TaskInfo] = []
    problems: list[str] = []
    for path, problem in _files(project, project.tasks, "tasks", (".py",)):
        if path is None:
            problems.append(problem or "")
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, ValueError, OSError) as err:
            problems.append(_failure(path, err, doing="read"))
            continue
        module = _module_ref(project, path)
        for node in tree.body:
            if _is_task(node):
                assert isinstance(node, ast.FunctionDef)
                doc = (ast.get_docstring(node) or "").strip().splitlines()
                items.append(
                    TaskInfo(f"{module}:{node.name}", doc[0] if doc else "", path, node.lineno)
                )
    found, failed = _pymake_actions(project)
    return Found(tuple(items + found), tuple(problems + failed))


# -- a pymake project (pymake.cfg): its specs are designs, its script actions tasks ---


def _pymake(project: Project) -> Any:
    """The pymake project at the project's folder or above it, or None (the usual case)."""
    from runlab.compat.pymake.project import find_project

    return find_project(project.root)


def _pymake_designs(project: Project, *, count: bool) -> tuple[list[DesignInfo], list[str]]:
    """The specs of a pymake project, as ``runlab run SPEC -x ACTION`` names them."""
    pmk = _pymake(project)
    if pmk is None:
        return [], []
    from runlab.compat.pymake.design import Request, SpecDesign
    from runlab.compat.pymake.types import kind

    try:
        with contextlib.redirect_stdout(sys.stderr):
            specs = pmk.specs()
    except (Exception, SystemExit) as err:
        return [], [_failure(pmk.spec_dir, err)]
    names = [s.name for s in specs]
    items, problems = [], []
    for spec in specs:
        ref = spec.name if names.count(spec.name) == 1 else f"{spec.cls}.{spec.name}"
        configs = None
        if count:
            try:
                configs = len(SpecDesign(Request(pmk.root, ref)))
            except UsageError as err:
                problems.append(f"{ref}: cannot expand: {err}")
        items.append(DesignInfo(ref, kind(spec.design), configs, "", spec.path))
    return items, problems


def _pymake_actions(project: Project) -> tuple[list[TaskInfo], list[str]]:
    """The actions of a pymake project's scripts, as ``-x`` takes them."""
    pmk = _pymake(project)
    if pmk is None:
        return [], []
    try:
        with contextlib.redirect_stdout(sys.stderr):
            actions = pmk.actions()
    except (Exception, SystemExit) as err:
        return [], [_failure(pmk.script_dir, err)]
    return [TaskInfo(a.ref, a.doc, a.path, a.line) for a in actions], []


def list_models(project: Project) -> Found[ModelInfo]:
    """The models of the pymake project (pymake.cfg) at or above the project: none elsewhere.

    Model files are imported (a model is a class with a callable ``fit``, which only
    importing tells), with their prints sent to stderr as for designs.
    """
    pmk = _pymake(project)
    if pmk is None:
        return Found()
    from runlab.compat.pymake.project import model_refs

    try:
        with contextlib.redirect_stdout(sys.stderr):
            models = pmk.models()
    except (Exception, SystemExit) as err:
        return Found((), (_failure(pmk.model_dir, err),))
    refs = model_refs(models)
    return Found(
        tuple(ModelInfo(r, m.doc, m.path, m.line) for r, m in zip(refs, models, strict=True))
    )
