"""Start runs from a script: ``start``, argparse integration, and the launcher's ``current``.

This is the in-process front door of the run record. It decides *which* folder a run
gets (new id, given id, reuse for ``--run-id``/``--resume``) and hands the folder to
:class:`~runlab.record.run.Run`, which does the writing.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from runlab.canonical import config_hash, to_jsonable
from runlab.errors import RunConflict
from runlab.record import git as gitmod
from runlab.record import hooks
from runlab.record.attempt import begin_attempt
from runlab.record.files import read_json
from runlab.record.layout import RunDir
from runlab.record.reader import effective_status
from runlab.record.run import Run, base_record, load_artifact, save_artifact
from runlab.record.status import RunStatus
from runlab.store import STORE_ENV, Store

RUN_DIR_ENV = "RUNLAB_RUN_DIR"
RUN_ID_ENV = "RUNLAB_RUN_ID"


def start(
    params: Mapping[str, Any] | None = None,
    *,
    store: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    description: str = "",
    tags: Mapping[str, Any] | None = None,
    run_id: str | int | None = None,
    resume: bool = False,
    record: bool = True,
    require_clean: bool = False,
    capture: bool = True,
    catch: bool = False,
    defaults: Mapping[str, Any] | None = None,
    command: Sequence[str] | None = None,
    git: bool = True,
) -> Run | NullRun:
    """Start recording a run of ``params`` and return it; use it as a context manager.

    Usage::

        with runlab.start({"lr": 0.1}, store="runs", name="baseline") as run:
            run.log(loss=0.4)
            run.summary(acc=0.9)

    Without ``with``, the run finishes when the interpreter exits, with the status
    that exit means. ``run_id`` reuses (or creates) that run, refusing when its params
    or git sha differ; ``resume`` reuses the newest unfinished run with the same params
    and sha; ``record=False`` runs the code and writes nothing; ``catch=True`` records
    an exception and lets the code after the ``with`` block go on.
    """
    params = dict(params or {})
    if not record:
        return NullRun(params)
    the_store = _store_at(store)
    state = gitmod.git_state() if git else None
    if require_clean:
        gitmod.require_clean(state)
    params_json = to_jsonable(params)
    phash = config_hash(params_json)
    git_record = state.as_record() if state is not None else None
    sha = state.sha if state is not None else None
    layout = the_store.layout

    run_dir: RunDir | None = None
    previous: dict[str, Any] | None = None
    if run_id is not None:
        run_dir = layout.claim(str(run_id))
        if run_dir is None:
            run_dir = layout.run_dir(str(run_id))
            previous = read_json(run_dir.run_json, default=None)
            if previous is not None:
                _check_reusable(run_dir, previous, params_json, sha)
    elif resume:
        found = find_resumable(the_store, phash, sha)
        if found is not None:
            run_dir, previous = found
    if run_dir is None:
        run_dir = layout.claim_next()

    record_data = base_record(
        run_dir.id,
        name=name,
        description=description,
        tags=tags,
        params_hash=phash,
        git=git_record,
        command=list(command) if command is not None else None,
    )
    summary: dict[str, Any] = {}
    if previous is not None:
        summary = read_json(run_dir.summary_json, default={}) or {}
    record_data = begin_attempt(
        layout, run_dir, record_data, params_json, previous=previous, git=state, defaults=defaults
    )
    run = Run(
        layout, run_dir, record_data, params_json, summary=summary, capture=capture, catch=catch
    )
    hooks.watch(run)
    return run


def _store_at(store: str | os.PathLike[str] | Store | None) -> Store:
    """``Store.at(store)``, remembered per argument, ``$RUNLAB_STORE`` and working directory.

    A sweep in one process starts thousands of runs in one store, and resolving its
    path (pathlib, the environment, the working directory) showed in every run's cost.
    """
    if isinstance(store, Store):
        return store
    path = os.fspath(store) if store is not None else None
    env = os.environ.get(STORE_ENV) if store is None else None
    return _resolved_store(path, env, os.getcwd())


@functools.lru_cache(maxsize=32)
def _resolved_store(path: str | None, env: str | None, cwd: str) -> Store:
    # env and cwd are in the key because Store.at reads them.
    return Store.at(path)


def _check_reusable(
    run_dir: RunDir, previous: Mapping[str, Any], params: Mapping[str, Any], sha: str | None
) -> None:
    old = read_json(run_dir.params_json, default={}) or {}
    if config_hash(old) != config_hash(params):
        for key in sorted(set(old) | set(params)):
            a, b = old.get(key, "<unset>"), params.get(key, "<unset>")
            if config_hash({"v": a}) != config_hash({"v": b}):
                raise RunConflict(
                    f"run {run_dir.id} was recorded with {key}={a!r}, this run has {key}={b!r}: "
                    "use another --run-id, or none"
                )
    old_sha = (previous.get("git") or {}).get("sha")
    if old_sha != sha:
        raise RunConflict(
            f"run {run_dir.id} was recorded at git {old_sha}, the code is now at git {sha}: "
            "use another --run-id, or none"
        )


def find_resumable(
    store: Store, params_hash: str, sha: str | None
) -> tuple[RunDir, dict[str, Any]] | None:
    """The newest not-completed run with these params and git sha, with its record."""
    best: tuple[str, RunDir, dict[str, Any]] | None = None
    for run_dir in store.layout.iter_run_dirs():
        rec = read_json(run_dir.run_json, default=None, warn=False)
        if not rec or rec.get("params_hash") != params_hash:
            continue
        if (rec.get("git") or {}).get("sha") != sha or rec.get(
            "status"
        ) == RunStatus.COMPLETED.value:
            continue
        # A run that is really still running (its process alive) belongs to that
        # process: joining it would make two writers of one folder. A lost one resumes.
        if effective_status(rec, run_dir) is RunStatus.RUNNING:
            continue
        stamp = str(rec.get("start") or "")
        if best is None or stamp >= best[0]:
            best = (stamp, run_dir, rec)
    return (best[1], best[2]) if best else None


class NullRun:
    """What ``start(record=False)`` returns: the same methods, and nothing written to the store.

    Files opened with :meth:`open` go to a temporary folder removed at exit, so code that
    writes artifacts keeps working during debugging.
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.id = None
        self._tmp = tempfile.TemporaryDirectory(prefix="runlab-norecord-")
        self.dir = Path(self._tmp.name)
        self._summary: dict[str, Any] = {}

    def log(self, step: int | None = None, **values: Any) -> None:
        """Accept and drop a point."""

    def summary(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        self._summary.update(dict(values or {}, **more))
        return dict(self._summary)

    def set_tags(self, **tags: Any) -> None:
        """Accept and drop tags."""

    def open(self, name: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> IO[Any]:
        path = RunDir(self.dir).artifact(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(mode, **kwargs)

    def save(self, obj: Any, name: str, *, format: str = "json") -> Path:
        # Saved into the scratch folder for real, so that code which saves and then
        # loads (a checkpoint) keeps working with --no-record.
        return save_artifact(RunDir(self.dir), obj, name, format=format)

    def load(self, name: str) -> Any:
        return load_artifact(RunDir(self.dir), name)

    def finish(self, *args: Any, **kwargs: Any) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> NullRun:
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.finish()
        return False


_RUNLAB_DESTS = {
    "runlab_store": "store",
    "runlab_run_id": "run_id",
    "runlab_run_name": "name",
    "runlab_description": "description",
    "runlab_resume": "resume",
    "runlab_no_record": "record",
    "runlab_require_clean": "require_clean",
}


def add_argument_group(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add runlab's options (``--store``, ``--run-id``, ... ) to a script's parser.

    Usage::

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        runlab.add_argument_group(parser)
        run = runlab.from_parser(parser)
        args = parser.parse_args()        # still works, runlab's options included
    """
    group = parser.add_argument_group("runlab", "record this run (see `runlab --help`)")
    group.add_argument(
        "--store",
        dest="runlab_store",
        default=None,
        help="store folder (default: $RUNLAB_STORE or ./runs)",
    )
    group.add_argument(
        "--run-id", dest="runlab_run_id", default=None, help="reuse or create the run with this id"
    )
    group.add_argument(
        "--run-name", dest="runlab_run_name", default=None, help="a readable name for the run"
    )
    group.add_argument(
        "--description", dest="runlab_description", default="", help="what this run is for"
    )
    group.add_argument(
        "--resume",
        dest="runlab_resume",
        action="store_true",
        help="reuse the newest unfinished run with the same params and git sha",
    )
    group.add_argument(
        "--no-record",
        dest="runlab_no_record",
        action="store_true",
        help="run without recording anything",
    )
    group.add_argument(
        "--require-clean",
        dest="runlab_require_clean",
        action="store_true",
        help="refuse to run with uncommitted changes",
    )
    return group


def from_parser(
    parser: argparse.ArgumentParser, args: Sequence[str] | None = None, **options: Any
) -> Run | NullRun:
    """Parse the command line, record the script's arguments and defaults, and start the run."""
    if not any(a.dest == "runlab_store" for a in parser._actions):
        add_argument_group(parser)
    namespace = vars(parser.parse_args(args))
    params = {k: v for k, v in namespace.items() if k not in _RUNLAB_DESTS}
    defaults = {k: parser.get_default(k) for k in params}
    ours = {_RUNLAB_DESTS[k]: v for k, v in namespace.items() if k in _RUNLAB_DESTS}
    ours["record"] = not ours["record"]
    ours.update(options)
    return start(params, defaults=defaults, **ours)


_current: dict[str, Run] = {}


def current() -> Run | None:
    """The run a launcher made for this process (``$RUNLAB_RUN_DIR``), or None outside one.

    The launcher owns the run's status and output capture; through this handle the
    process adds metrics, summary values and artifacts.
    """
    path = os.environ.get(RUN_DIR_ENV)
    if not path:
        return None
    if path not in _current:
        attach(RunDir(Path(path)), watch=True)
    return _current[path]


def attach(run_dir: RunDir, *, watch: bool = False) -> Run:
    """Open an existing run folder for metrics, summary and artifacts, not for its status.

    The handle is what :func:`current` returns for that folder while it is attached;
    ``finish()`` flushes it and :func:`detach` forgets it. ``watch`` flushes it at
    interpreter exit too (a process that never calls ``finish``).
    """
    from runlab.record.layout import StoreLayout

    record = read_json(run_dir.run_json, default={}) or {}
    params = read_json(run_dir.params_json, default={}) or {}
    summary = read_json(run_dir.summary_json, default={}) or {}
    run = Run(
        StoreLayout(run_dir.path.parent),
        run_dir,
        record,
        params,
        summary=summary,
        capture=False,
        owns_status=False,
    )
    if watch:
        hooks.watch(run)
    _current[str(run_dir.path)] = run
    return run


def detach(run_dir: RunDir) -> None:
    """Forget the handle :func:`attach` made for ``run_dir``."""
    _current.pop(str(run_dir.path), None)


__all__ = [
    "add_argument_group",
    "attach",
    "current",
    "detach",
    "find_resumable",
    "from_parser",
    "start",
]
