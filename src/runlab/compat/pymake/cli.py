"""The pmk command on runlab: ``python -m runlab.compat.pymake`` with pymake's grammar.

An argparse program, as pymake's was, because a project's ``gramarg.py`` declares its
options in argparse's terms; runlab's own CLI is the click one in :mod:`runlab.cli`::

    python -m runlab.compat.pymake -l spec                 # pmk -l spec
    python -m runlab.compat.pymake -l script               # pmk -l script
    python -m runlab.compat.pymake -l model                # pmk -l model
    python -m runlab.compat.pymake exp2                    # pmk show exp2
    python -m runlab.compat.pymake path exp2 inf           # pmk path exp2 inf
    python -m runlab.compat.pymake diff exp1 exp2          # pmk diff exp1 exp2
    python -m runlab.compat.pymake exp2 -x fit --my_key 10 20 --pmk key2=ada --cores 2
    python -m runlab.compat.pymake exp2 0 2 -x fit         # only experiments 0 and 2
    python -m runlab.compat.pymake exp2 -x fit -w          # save the models (_write=True)

Runs go to runlab's store (``$RUNLAB_STORE``, else ``runs``). Errors are one line on
stderr and exit code 2; a run that fails makes the exit code 1.
"""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from runlab.compat import command_exit_code
from runlab.compat.pymake.expand import DEFAULT_EXPE
from runlab.compat.pymake.project import PmkProject, find_project
from runlab.errors import UsageError, warning_line

COMMANDS = ("run", "show", "path", "diff")
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXTENSIONS = ("inf", "json", "pk.gz")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code."""
    warnings.formatwarning = warning_line
    return command_exit_code(lambda: _main(list(sys.argv[1:] if argv is None else argv)))


def _main(argv: list[str]) -> int:
    from runlab.compat.pymake.gram import make_parser, settings_of

    project = find_project()
    if project is None:
        raise UsageError("not a pymake project: no pymake.cfg here or in a parent folder")
    args = make_parser(project.gramarg, prog="python -m runlab.compat.pymake").parse_args(argv)
    if args.do_list:
        return _list(project, args.do_list)
    words = list(args._do)
    command = words.pop(0) if words and words[0] in COMMANDS else None
    ext = words.pop() if command == "path" and words and words[-1] in EXTENSIONS else None
    indexes = [w for w in words if w.isdigit()]
    specs = [w for w in words if not w.isdigit()]
    if command == "diff":
        if len(specs) != 2:
            raise UsageError(f"diff takes two specs, got {specs}")
        return _diff(project, *specs)
    if len(specs) > 1:
        raise UsageError(f"give one spec, not {specs}")
    spec = specs[0] if specs else DEFAULT_EXPE
    if args.script and len(args.script) > 1:
        raise UsageError(f"-x takes one action, got {args.script}: give settings as options")
    action = args.script[0] if args.script else None
    if command is None:
        command = "run" if action else "show"
    from runlab.compat.pymake.design import spec_sweep

    sweep = spec_sweep(
        spec,
        action,
        project=project,
        settings=settings_of(args),
        rules=args._bind or (),
        workers=args._cores,
    )
    only = ",".join(indexes) or None
    if command == "run" and not args.simulate:
        if sweep.task is None:
            raise UsageError(f"give the action to run: {spec} -x ACTION")
        return _run(sweep, only)
    _show(project, sweep, only, paths=command == "path", ext=ext)
    return 0


def _list(project: PmkProject, what: str) -> int:
    if what == "spec":
        for spec in project.specs():
            print(f"{spec.cls}.{spec.name}")
    elif what == "script":
        for action in project.actions():
            print(action.ref + (f"  {action.doc}" if action.doc else ""))
    else:
        from runlab.compat.pymake.project import model_refs

        found = project.models()
        for ref, model in zip(model_refs(found), found, strict=True):
            print(ref + (f"  {model.doc}" if model.doc else ""))
    return 0


def _show(
    project: PmkProject, sweep: Any, only: str | None, *, paths: bool, ext: str | None
) -> None:
    from runlab.compat.pymake.paths import output_path
    from runlab.design.overrides import select_only

    expansion = sweep.expand()
    configs = select_only(expansion, only) if only else expansion.configs
    for config in configs:
        path = project.data / output_path(config.params)
        if paths:
            print(f"{path}.{ext}" if ext else path)
        else:
            shown = {k: v for k, v in config.params.items() if not k.startswith("_")}
            print(f"{config.index}  {config.name}  {shown}")


def _diff(project: PmkProject, spec_a: str, spec_b: str) -> int:
    """Print the settings two specs give different values, as ``runlab diff`` does."""
    from runlab.compat.pymake.expand import experiments
    from runlab.compat.pymake.paths import EXPE_ID, SPEC_NAME
    from runlab.design import Group, Point, diff

    def design(spec: str) -> Group:
        expes = experiments(project.spec(spec).design, spec)
        return Group(
            *(Point(params={k: v for k, v in e.items() if k not in (SPEC_NAME, EXPE_ID)})
              for e in expes)
        )  # fmt: skip

    result = diff(design(spec_a), design(spec_b))
    for key in result.keys:
        a = ", ".join(map(str, key.a)) + (" (unset in some)" if key.a_missing else "")
        b = ", ".join(map(str, key.b)) + (" (unset in some)" if key.b_missing else "")
        print(f"{key.key}: {a or '<unset>'}  ->  {b or '<unset>'}")
    print(
        f"{result.common} experiments in both, {len(result.only_a)} only in {spec_a}, "
        f"{len(result.only_b)} only in {spec_b}"
    )
    return 0


def _run(sweep: Any, only: str | None) -> int:
    from runlab.compat.pymake import actions
    from runlab.launch.local import LocalLauncher
    from runlab.launch.slots import make_slots
    from runlab.launch.sweeps import plan_sweep, runs_table
    from runlab.project import project_store
    from runlab.store import Store

    store = Store.at(None if project_store() is None else project_store())
    plan = plan_sweep(sweep, store, only=only)
    skipped = len(plan.entries) - len(plan.to_run)
    if skipped:
        print(f"{skipped} experiments already done: skipped", file=sys.stderr)
    launcher = LocalLauncher(store, make_slots(None, sweep.workers or 1))
    actions.first(runs_table(store, plan))
    # Ctrl-C or SIGTERM: the runs get SIGTERM (SIGKILL after the grace), as `runlab run`.
    previous = {s: signal.signal(s, lambda *_: launcher.cancel()) for s in _SIGNALS}
    try:
        result = launcher.launch(plan, sweep=plan.sweep)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        actions.last(runs_table(store, plan))
    for run_id, outcome in result.outcomes.items():
        print(f"{outcome.status.value} {run_id}", file=sys.stderr)
    if result.interrupted:
        return 130
    return 1 if result.failed else 0
