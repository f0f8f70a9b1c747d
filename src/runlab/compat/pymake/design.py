"""A pymake spec and action as a runlab Sweep: ``runlab run SPEC -x ACTION`` in a pymake project.

:class:`SpecDesign` is a runlab Group of one Point per experiment, built by
:mod:`.expand` (so ``{_id}`` and the files are pymake's) and remembering how it was
asked for, so command-line settings re-expand the spec as pymake would rather than
being applied after it: ``runlab run expe1 -x fit K=10,20`` is ``pmk expe1 -x fit
--K 10 20``, ``~K`` is ``--K _null``, and pymake's own options come after ``--``
(``runlab run expe1 -x fit -- --my_key 10 20 --pmk seed=3``).

The task of every run is ``runlab.compat.pymake.actions:<Script>.<action>``, run by
runlab's worker processes (see :mod:`.actions`).

Usage::

    sweep = spec_sweep("expe1", "fit", project=PmkProject.at(root))
    sweep.expand().names        # the experiments' file names, which are their run names
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlab.compat.pymake.expand import (
    DEFAULT_EXPE,
    NULL,
    as_design,
    default_design,
    experiments,
    name_runs,
)
from runlab.compat.pymake.project import PmkProject
from runlab.compat.pymake.types import ExpVector
from runlab.design import Group
from runlab.design.sweep import Sweep
from runlab.errors import UsageError
from runlab.tasks import CallableTask

ACTIONS_MODULE = "runlab.compat.pymake.actions"


@dataclass(frozen=True)
class Request:
    """What was asked: a spec (or ``_default_expe``), an action, settings and rules."""

    root: Path
    spec: str
    action: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    rules: tuple[str, ...] = ()


class SpecDesign(Group):
    """The experiments of a pymake spec as a runlab design (a Group of named Points)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        project = PmkProject.at(request.root)
        defaults: dict[str, Any] = {}
        if request.action is not None:
            defaults = dict(getattr(project.action(request.action).cls, DEFAULT_EXPE, {}) or {})
        spec = request.spec
        if spec == DEFAULT_EXPE and isinstance(defaults.get("_spec"), str):
            spec = defaults["_spec"]  # _default_expe names the spec to run without one
        if spec == DEFAULT_EXPE:
            design: Any = default_design(defaults)
        else:
            design = project.spec(spec).design
        expes = experiments(
            design, spec, settings=request.settings, defaults=defaults, rules=request.rules
        )
        super().__init__(*as_design(name_runs(expes), spec).members)

    def overridden(self, tokens: Sequence[str]) -> SpecDesign:
        """This spec again with command-line settings: ``k=v``, ``k=a,b``, ``~k``, ``-- --opt``."""
        from runlab.compat.pymake.gram import make_parser, settings_of
        from runlab.design.overrides import Override

        tokens = list(tokens)
        split = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        settings = dict(self.request.settings)
        for text in tokens[:split]:
            override = Override.parse(text)
            values = override.values
            settings[override.key] = NULL if values is None else ExpVector(values)
        rules = self.request.rules
        if tokens[split:]:
            project = PmkProject.at(self.request.root)
            args = make_parser(project.gramarg).parse_args(tokens[split:])
            if args._do or args.script or args.do_list:
                raise UsageError(
                    f"after --, give pymake settings only, not {tokens[split:]!r}: "
                    "the spec and -x come before"
                )
            settings.update(settings_of(args))
            rules += tuple(args._bind or ())
        return SpecDesign(dataclasses.replace(self.request, settings=settings, rules=rules))


def action_task(project: PmkProject, action: str) -> CallableTask:
    """The runlab task running ``action`` of the project's scripts on each experiment."""
    return CallableTask(f"{ACTIONS_MODULE}:{project.action(action).ref}")


def spec_sweep(
    spec: str,
    action: str | None,
    *,
    project: PmkProject,
    settings: Mapping[str, Any] | None = None,
    rules: Sequence[str] = (),
    workers: int | None = None,
) -> Sweep:
    """The sweep of ``spec`` (or ``_default_expe``) run by ``action`` (``method`` or
    ``Class.method``; ``module:function`` for a runlab task function).
    """
    task: CallableTask | None = None
    script_action: str | None = None
    if action is not None and ":" in action:
        task = CallableTask(action)
    elif action is not None:
        task = action_task(project, action)
        script_action = task.target.rpartition(":")[2]
    elif spec == DEFAULT_EXPE:
        raise UsageError("give a spec, or -x ACTION to run the script's _default_expe")
    request = Request(project.root, spec, script_action, dict(settings or {}), tuple(rules))
    design = SpecDesign(request)
    name = spec if spec != DEFAULT_EXPE else (script_action or spec).replace(".", "-")
    return Sweep(name=name, design=design, task=task, workers=workers, source=project.root)
