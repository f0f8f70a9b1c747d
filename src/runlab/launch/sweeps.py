"""From a sweep reference on the command line to a plan, and the sweep's end: ``after``.

A reference is a YAML sweep file (``params.yaml``) or a Python design
(``designs.py:svm_grid`` / ``package.module:grid``). Everything here runs before any
run starts, so every error in the sweep, its overrides or its task is reported while
nothing has been written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runlab.bulk import paused_gc
from runlab.design import Config
from runlab.design.overrides import apply_overrides, select_only
from runlab.design.sweep import Sweep
from runlab.design.sweepfile import load_sweep
from runlab.errors import UsageError
from runlab.launch.plan import Plan, make_plan
from runlab.record.files import read_json
from runlab.store import Store
from runlab.tasks import TIME_FORMAT, CallableTask, CommandTask


def is_sweep_ref(ref: str) -> bool:
    """True when ``ref`` names a sweep file or a Python design rather than a run."""
    where = ref.rpartition(":")[0] if ":" in ref else ref
    path = Path(where)
    return (Path(ref).suffix.lower() in (".yaml", ".yml") and Path(ref).is_file()) or (
        ":" in ref and (path.suffix == ".py" and path.is_file())
    )


def load_configs(ref: str) -> Any:
    """The expanded configs of a sweep file or Python design (for ``runlab diff``)."""
    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_sweep(path).expand()
    from runlab.design.pyload import load_design

    return load_design(ref)


def load(ref: str, *, task: str | None = None, title: str | None = None) -> Sweep:
    """The sweep a command-line reference names, with ``-x module:function`` applied.

    In a pymake project (a ``pymake.cfg`` here or above), a bare name is a spec of its
    ``spec/`` and ``-x`` an action of its ``script/`` (see :mod:`runlab.compat.pymake`).
    """
    path = Path(ref)
    pymake = _pymake_sweep(ref, task=task) if title is None else None
    if pymake is not None:
        sweep = pymake
    elif path.suffix.lower() in (".yaml", ".yml") or (path.is_file() and ":" not in ref):
        if not path.is_file():
            raise UsageError(f"no sweep file {ref}")
        sweep = load_sweep(path, title=title)
    else:
        from runlab.design.pyload import sweep_from_python

        if title is not None:
            raise UsageError("--title picks documents of a YAML sweep file, not of a Python design")
        sweep = sweep_from_python(ref, task=task)
    if task is not None and not isinstance(sweep.task, CallableTask):
        import dataclasses

        if sweep.task is not None:
            raise UsageError(f"{ref} has a command template; -x {task} would replace it: drop one")
        sweep = dataclasses.replace(sweep, task=CallableTask(task))
    if sweep.task is None:
        raise UsageError(
            f"{ref} says nothing to run: give a template, task:, or -x module:function"
            + (" (or -x ACTION of the pymake scripts)" if pymake is not None else "")
        )
    return sweep


def _pymake_sweep(ref: str, *, task: str | None) -> Sweep | None:
    """The sweep of a pymake spec, when ``ref`` is a bare name inside a pymake project."""
    if ":" in ref or Path(ref).suffix or Path(ref).exists():
        return None
    from runlab.compat.pymake.project import find_project

    project = find_project()
    if project is None:
        return None
    from runlab.compat.pymake.design import spec_sweep

    return spec_sweep(ref, task, project=project)


def plan_sweep(
    sweep: Sweep,
    store: Store,
    *,
    overrides: Sequence[str] = (),
    only: str | None = None,
    force: bool = False,
    sample: int | None = None,
    sample_seed: int = 0,
) -> Plan:
    """Apply overrides, ``--sample`` and ``--only``, check the sweep, compare it with the store.

    Overrides come first, so a sample is drawn from the configs the overrides make.
    """
    sweep = with_overrides(sweep, overrides)
    if sample is not None:
        sweep = sweep.subsample(sample, seed=sample_seed)
    with paused_gc():  # expands the sweep, and checks every config
        sweep.check()
    expansion = sweep.expand()
    configs: Sequence[Config] = expansion.configs
    if only is not None:
        configs = select_only(expansion, only)
    launch_time = time.strftime(TIME_FORMAT)
    return make_plan(
        store,
        configs,
        sweep.task_for if sweep.picks_commands else sweep.task,
        sweep=sweep.name,
        force=force,
        dropped=expansion.dropped,
        launch_time=launch_time,
    )


def with_overrides(sweep: Sweep, overrides: Sequence[str]) -> Sweep:
    """The sweep with command-line overrides applied (``lr=0.1,0.01``, ``~dropout``).

    A design with its own override grammar (a pymake spec, which re-expands with
    them) applies them itself.
    """
    if not overrides:
        return sweep
    own = getattr(sweep.design, "overridden", None)
    if callable(own):
        import dataclasses

        return dataclasses.replace(sweep, design=own(overrides))
    return apply_overrides(sweep, overrides)


def runs_table(store: Store, plan: Plan) -> list[dict[str, Any]]:
    """The sweep's runs as JSON records, read from their folders (the files are the truth)."""
    out = []
    for entry in plan.entries:
        run_dir = store.root / entry.run_id
        record = read_json(run_dir / "run.json", default={}, warn=False) or {}
        out.append(
            {
                "id": entry.run_id,
                "name": entry.config.name,
                "sweep": plan.sweep,
                "state": entry.state.value,
                "status": record.get("status"),
                "exit_code": record.get("exit_code"),
                "attempt": record.get("attempt"),
                "dir": str(run_dir),
                "params": dict(entry.config.params),
                "summary": read_json(run_dir / "summary.json", default={}, warn=False) or {},
            }
        )
    return out


def sweep_hooks(task: Any) -> tuple[Any, Any]:
    """The ``first(runs)`` and ``last(runs)`` functions of a Python task's module, if any.

    pymake's ``is_first_expe``/``is_last_expe`` as two plain functions beside the task:
    ``first`` runs in the launcher before any run, ``last`` after every run has ended
    (also when some failed), each with the sweep's runs table.
    """
    if not isinstance(task, CallableTask):
        return None, None
    module = sys.modules.get(getattr(task.load(), "__module__", ""), None)
    hooks = tuple(getattr(module, name, None) for name in ("first", "last"))
    return tuple(h if callable(h) else None for h in hooks)  # type: ignore[return-value]


def run_after(command: str, store: Store, plan: Plan) -> int:
    """Run the sweep's ``after`` command once, its runs table as JSON on stdin."""
    line = CommandTask.from_templates({"after": command}).render(
        {},
        {
            "_output": str(store.root),
            "_id": "",
            "_name": plan.sweep,
            "_sweep": plan.sweep,
            "_time": time.strftime(TIME_FORMAT),
        },
    )[0][1]
    table = json.dumps(runs_table(store, plan), default=str)
    return subprocess.run(["/bin/sh", "-c", line], input=table, text=True, check=False).returncode
