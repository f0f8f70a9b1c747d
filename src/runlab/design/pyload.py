"""Designs written in Python: load one by reference and make it a Sweep.

A reference is ``path/to/file.py:name`` or ``package.module:name`` (pymake keeps its
designs in a ``spec/`` folder: ``spec/designs.py:svm_grid`` or ``spec.designs:svm_grid``);
``name`` may be dotted (``designs.py:groups.small``). It names a Point, Grid, Sample or
Group, or a function taking no arguments that returns one, so building an expensive
design can wait until it is asked for.

The task is the design's own ``task`` attribute when it has one (set it in the file:
``svm_grid.task = "tasks:fit"``, or a function, or a ``CommandTask``), else the one
given (``runlab run -x module:function``); a design with neither is an error.

While a file or module is imported, its folder (for a file) or the working directory
(for a module) is first on ``sys.path``, so design files can import their neighbours
as they would when run as scripts; ``sys.path`` is restored afterwards.

Usage::

    design = load_design("spec/designs.py:svm_grid")
    sweep = sweep_from_python("spec/designs.py:svm_grid", task="tasks:fit", workers=4)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from runlab.design.base import Design
from runlab.design.sweep import Sweep
from runlab.errors import UsageError
from runlab.imports import from_file, import_module
from runlab.tasks import CallableTask, CommandTask, Task

_NOT_OPTIONS = {"name", "design", "task", "source", "documents"}
OPTIONS = tuple(f.name for f in dataclasses.fields(Sweep) if f.name not in _NOT_OPTIONS)


@dataclass(frozen=True)
class _Loaded:
    """A design found by reference, with where it came from and the task it carries."""

    design: Design
    task: Any
    attr: str
    source: Path | None  # the file it was read from, or the module's file
    from_file: bool  # read from a path, so its functions are imported by file path


def _split(ref: str) -> tuple[str, str]:
    if not isinstance(ref, str):
        raise UsageError(f"design reference {ref!r}: write file.py:name or module:name")
    where, _, attr = ref.rpartition(":")
    if not where.strip() or not attr.strip():
        raise UsageError(f"design {ref!r}: write file.py:name or module:name")
    return where.strip(), attr.strip()


def _import(ref: str, where: str) -> tuple[ModuleType, Path | None]:
    """Import the module a reference names, from a file path or a dotted module name."""
    return import_module(where, what=f"design {ref!r}")


def _find(ref: str) -> _Loaded:
    where, attr = _split(ref)
    try:
        return _build(ref, where, attr)
    except SyntaxError as err:
        raise UsageError(f"design {ref!r}: {err.filename}:{err.lineno}: {err.msg}") from None
    except UsageError as err:
        if str(err).startswith(f"design {ref!r}"):
            raise
        raise UsageError(f"design {ref!r}: {err}") from None


def _build(ref: str, where: str, attr: str) -> _Loaded:
    module, file = _import(ref, where)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"design {ref!r}: {where} has no attribute {attr!r}")
        obj = getattr(obj, part)
    task = getattr(obj, "task", None)
    if not isinstance(obj, Design) and callable(obj) and not isinstance(obj, type):
        try:
            obj = obj()
        except TypeError as err:
            if "argument" not in str(err):
                raise
            raise UsageError(
                f"design {ref!r}: {attr} must take no arguments to build the design ({err})"
            ) from None
        task = getattr(obj, "task", None) if task is None else task
    if not isinstance(obj, Design):
        raise UsageError(
            f"design {ref!r}: {attr} is a {type(obj).__name__}, not a design "
            "(Point, Grid, Sample or Group, or a function returning one)"
        )
    return _Loaded(obj, task, attr, file, from_file=from_file(module.__name__))


def load_design(ref: str) -> Design:
    """Return the design ``ref`` names (``file.py:name`` or ``module:name``), built if a function.

    Raises UsageError naming the file, module or attribute that is missing, or the
    object that is not a design; errors raised by the design code itself propagate.
    """
    return _find(ref).design


def _as_task(value: Any, *, what: str, file: Path | None) -> Task:
    """Return a Task from a Task, a ``module:function`` string, a function or named commands."""
    if isinstance(value, (CommandTask, CallableTask)):
        return value
    if isinstance(value, str):
        module, _, function = value.rpartition(":")
        if not module or not function:
            raise UsageError(f"{what} {value!r}: write module:function or file.py:function")
        return CallableTask(value)
    if isinstance(value, Mapping):
        return CommandTask.from_templates(dict(value), where=f"{what}: ")
    if callable(value) and hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        if "." in value.__qualname__ or value.__qualname__ == "<lambda>":
            raise UsageError(
                f"{what}: {value.__qualname__} must be a module-level function, "
                "so a worker process can import it"
            )
        module_name = str(value.__module__)
        if file is not None and from_file(module_name):
            return CallableTask(f"{file}:{value.__qualname__}")
        return CallableTask(f"{module_name}:{value.__qualname__}")
    raise UsageError(
        f"{what}: expected module:function, a function, a CommandTask or a CallableTask, "
        f"got {type(value).__name__}"
    )


def sweep_from_python(
    ref: str, task: Task | str | Callable[..., Any] | None = None, **options: Any
) -> Sweep:
    """Return a Sweep of the design ``ref`` names, with its own task or ``task``.

    ``task`` (``"module:function"``, a function or a Task) is used when the design has
    no ``task`` attribute; the design's own wins, because it was written for it.
    ``options`` are the Sweep's: ``name`` (default: the attribute's name), ``store``,
    ``workers``, ``resources``, ``repeat``, ``timeout``, ``retries``, ``after``,
    ``metrics``.

    Usage::

        sweep_from_python("designs.py:svm_grid", "tasks:fit", workers=4, timeout="10m")
    """
    unknown = sorted(set(options) - set(OPTIONS) - {"name"})
    if unknown:
        raise UsageError(
            f"sweep_from_python: unknown option {unknown[0]!r}; options: {', '.join(OPTIONS)}"
        )
    loaded = _find(ref)
    if loaded.task is not None:
        file = loaded.source if loaded.from_file else None
        chosen = _as_task(loaded.task, what=f"design {ref!r}: task", file=file)
    elif task is not None:
        chosen = _as_task(task, what="task", file=None)
    else:
        raise UsageError(
            f"design {ref!r} has no task attribute; give one (runlab run -x module:function)"
        )
    name = options.pop("name", None) or loaded.attr.rpartition(".")[2]
    try:
        sweep = Sweep(name=name, design=loaded.design, task=chosen, source=loaded.source, **options)
        sweep.check()
    except UsageError as err:
        raise UsageError(f"design {ref!r}: {err}") from None
    return sweep
