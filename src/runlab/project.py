"""A runlab project: the folder holding ``runlab.toml``, and the designs and tasks in it.

The project is the nearest folder, from the working directory up, that holds a
``runlab.toml`` or a ``pyproject.toml`` with a ``[tool.runlab]`` table (``runlab.toml``
wins when one folder has both). Every setting is optional; paths are relative to that
folder::

    store = "runs"                 # the default store (--store, $RUNLAB_STORE, store: win)
    designs = "designs"            # design folders or .py files (default: designs, designs.py)
    tasks = ["tasks.py", "tasks"]  # task files or folders (this is the default)

Nothing is indexed. Designs are found by importing the design files each time they are
asked for (so a listing is what ``runlab run`` would load, counted), and tasks by parsing
the task files with :mod:`ast` (so listing them runs none of their imports). A file that
cannot be read is one problem line, and the search goes on.

Usage::

    project = find_project()                 # None outside a project
    project.store_path                       # /home/me/study/runs
    found = list_designs(project)            # DesignInfo(ref="designs/demo.py:grid3", ...)
    found = list_tasks(project)              # TaskInfo(ref="tasks:train", doc="...")
    init_project("study")                    # runlab.toml, designs/demo.py, tasks.py, sweep.yaml
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from runlab.errors import UsageError
from runlab.imports import from_file

CONFIG_FILE = "runlab.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_STORE = "runs"
DEFAULT_DESIGNS = ("designs", "designs.py")
DEFAULT_TASKS = ("tasks.py", "tasks")
_KEYS = ("designs", "store", "tasks")
# A root-level YAML file is a sweep only if it says what to run: the root also holds
# CI, conda and pre-commit files, which must not show up as broken sweeps.
_SWEEP_HINT = re.compile(r"^(template|task)\s*:", re.MULTILINE)
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")

T = TypeVar("T")


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
class Found(Generic[T]):
    """What a search found, in order, and one line per file that could not be read."""

    items: tuple[T, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_project` did: the config file, and every file it wrote or extended.

    ``existed`` is True when the folder was already a project and nothing was written.
    """

    root: Path
    config: Path
    written: tuple[Path, ...] = field(default=())
    existed: bool = False


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


def _parse(path: Path, text: str) -> dict[str, Any]:
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
        table = _parse(path, text).get("tool", {})
        table = table.get("runlab") if isinstance(table, dict) else None
        if table is None:
            return None
        if not isinstance(table, dict):
            raise UsageError(f"{shown(path)}: tool.runlab must be a table")
        return table
    return _parse(path, text)


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


def _config_in(folder: Path) -> Project | None:
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
        project = _config_in(folder)
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


# -- init -----------------------------------------------------------------------------

_CONFIG = """\
# runlab's settings; paths are relative to this folder.
store = "runs"        # where runs are recorded, unless --store or $RUNLAB_STORE says otherwise
designs = "designs"   # .py files of Point/Grid/Sample/Group designs, and *.yaml sweep files
# tasks = ["tasks.py", "tasks"]   # files or folders of task functions fn(config, run)
"""

_DEMO_DESIGNS = '''\
"""Demo designs from `runlab init`: sets of configs for the task `train` of tasks.py.

    runlab list designs
    runlab run designs/demo.py:grid3
    runlab run designs/demo.py:grid2 --workers 2

A design's `task` attribute names what to run on each config; without one, give it on
the command line (`runlab run designs/demo.py:point -x tasks.py:train`). The task's path
is relative to the folder `runlab run` starts in: run these from the project root.
"""

from runlab.design import Grid, Point

TASK = "tasks.py:train"

point = Point(model="linear", lr=0.1, steps=5)  # 1 config
point.task = TASK

grid2 = Grid(model="mlp", lr=[0.1, 0.01], steps=5, name="mlp-{lr}")  # 2 configs, named
grid2.task = TASK

grid3 = Grid(model=["linear", "mlp", "cnn"], lr=0.05, steps=5)  # 3 configs
grid3.task = TASK
'''

_DEMO_TASKS = '''\
"""Tasks: functions `fn(config, run)` that runlab calls once per config (`runlab list tasks`)."""

SPEED = {"linear": 1.0, "mlp": 1.5, "cnn": 2.0}


def train(config, run):
    """Fit a toy model: log the loss at every step and return the final scores."""
    loss = 1.0
    for step in range(config["steps"]):
        loss *= 1 - config["lr"] * SPEED.get(config["model"], 1.0)
        run.log(step=step, loss=round(loss, 6))
    print(f"{config['model']} lr={config['lr']}: final loss {loss:.4f}")
    return {"loss": round(loss, 4), "accuracy": round(1 - loss, 4)}
'''

_DEMO_SWEEP = """\
# A demo sweep file in mlrunner's grammar, from `runlab init`:
#
#   runlab plan sweep.yaml      # what would run, and in which folders
#   runlab run sweep.yaml       # run every config not done yet
#
# The first document holds the settings: in the template, {p} is param p's value
# (shell-quoted) and [p] would be `--p value`. Each later document is a grid of its lists.
template: >-
  python3 -c "import sys; width, lr = int(sys.argv[1]), float(sys.argv[2]);
  print('width', width, 'loss', round(1 / (width * lr), 4))" {width} {lr}
default:
  lr: 0.1
---
width: [16, 32]
"""

DEMO_FILES = {
    "designs/demo.py": _DEMO_DESIGNS,
    "tasks.py": _DEMO_TASKS,
    "sweep.yaml": _DEMO_SWEEP,
}


def config_text(table: str | None = None) -> str:
    """The settings ``init`` writes: a whole ``runlab.toml``, or a ``[table]`` to append."""
    return f"[{table}]\n{_CONFIG}" if table else _CONFIG


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` as it is (no newline translation) to a temp file, then rename it."""
    temp = path.with_name(f".{path.name}.runlab-tmp")
    try:
        with open(temp, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def init_project(folder: str | os.PathLike[str] = ".", *, bare: bool = False) -> InitResult:
    """Make ``folder`` a project: a config, and (unless ``bare``) demo designs, task and sweep.

    The settings go into ``runlab.toml``, or into a ``[tool.runlab]`` table appended to
    ``pyproject.toml`` when the folder has one (the rest of that file is kept byte for
    byte). A folder that is already a project is left as it is (``existed=True``). A
    demo file that exists with other content is an error, raised before anything is
    written.

    Usage::

        init_project("study")               # study/runlab.toml, designs/demo.py, ...
        init_project(".", bare=True)        # only the settings
    """
    root = Path(folder).absolute()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{shown(root)} is a file, not a folder")
    existing = _config_in(root) if root.is_dir() else None
    if existing is not None:
        assert existing.config is not None
        return InitResult(root, existing.config, existed=True)
    demo = {} if bare else {root / name: text for name, text in DEMO_FILES.items()}
    for path, text in demo.items():
        if path.exists() and path.read_text(encoding="utf-8") != text:
            raise UsageError(
                f"{shown(path)} already exists; `runlab init --bare` writes only the settings"
            )
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        with open(pyproject, encoding="utf-8", newline="") as file:  # keep \r\n as it is
            config, before = pyproject, file.read()
        _parse(pyproject, before)
        gap = "" if not before else ("\n" if before.endswith("\n") else "\n\n")
        after = before + gap + config_text(table="tool.runlab")
        if "\r\n" in before:
            after = before + (gap + config_text(table="tool.runlab")).replace("\n", "\r\n")
        try:
            _parse(pyproject, after)
        except UsageError as err:
            raise UsageError(f"cannot add [tool.runlab] to {shown(pyproject)}: {err}") from None
    else:
        config, after = root / CONFIG_FILE, config_text()
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in demo.items():
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, text)
            written.append(path)
    # The settings last: a folder is a project only once everything else is in place.
    _atomic_write(config, after)
    return InitResult(root, config, (config, *written))


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
    return Found(tuple(items), tuple(problems))


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
    return Found(tuple(items), tuple(problems))
