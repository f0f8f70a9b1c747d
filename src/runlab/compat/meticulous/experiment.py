"""``Experiment``: meticulous's recording API, as a runlab run that also writes meticulous's files.

An experiment is started with :func:`runlab.start` in the store ``experiments/`` (so
``runlab ls --store experiments`` lists it) and writes the files of
:mod:`runlab.compat.meticulous.folder` beside runlab's own, so old analysis code reading
``STATUS``, ``args.json`` or ``metadata.json`` keeps working.

Where meticulous was wrong, this is not: a clean ``sys.exit(0)`` is a ``SUCCESS``, the
status word has no newline after it, and nothing is ever committed to git (meticulous
added the experiments folder to ``.gitignore`` and committed that).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from runlab.canonical import config_hash, to_jsonable
from runlab.compat.meticulous import folder
from runlab.compat.meticulous.folder import Status
from runlab.errors import DirtyRepository, UsageError
from runlab.record import git as gitmod
from runlab.record import hooks
from runlab.record.files import atomic_write_json, atomic_write_text, read_json
from runlab.record.reader import RunReader, effective_status
from runlab.record.run import Run
from runlab.record.status import RunStatus
from runlab.store import Store
from runlab.tracking import NullRun, start

GROUP_TITLE = "meticulous"
OPTIONS = (
    "project_directory",
    "experiments_directory",
    "experiment_id",
    "description",
    "resume",
    "norecord",
)
"""The argparse dests of the "meticulous" group; they are not recorded as args."""

# Files of the folder that Experiment.open must not overwrite: runlab's and meticulous's.
_RESERVED = frozenset(
    {
        *(folder.STATUS, folder.ARGS, folder.DEFAULT_ARGS, folder.METADATA, folder.SUMMARY),
        *(folder.STDOUT, folder.STDERR, "run.json", "params.json", "defaults.json"),
        *("metrics.jsonl", "stdout.log", "stderr.log", "error.txt", "git.diff"),
        *("checkpoint.pkl", ".heartbeat", "artifacts", "reports"),
    }
)


class Experiment:
    """One recorded experiment: a numbered folder under ``experiments/``. Use it with ``with``.

    Usage::

        parser = argparse.ArgumentParser()
        parser.add_argument("--batch-size", type=int, default=64)
        Experiment.add_argument_group(parser)
        experiment = Experiment.from_parser(parser)
        args = parser.parse_args()
        experiment.summary({"loss": 0.1})
        with experiment.open("model.pkl", "wb") as f:
            pickle.dump(weights, f)

        for k in range(1, 10):                  # one experiment per k; a failure is
            with Experiment({"k": k}) as exp:   # recorded and the loop goes on
                exp.summary({"loss": fit(k)})

    Starting one requires a clean git tree (uncommitted changes to tracked files raise
    :class:`~runlab.errors.DirtyRepository`) unless ``norecord``, which records nothing.
    ``experiment_id`` reuses or creates that folder (refused if it holds other args or
    another commit); ``resume`` reuses the newest experiment with the same args and git
    sha, else starts a new one. ``experiments_directory`` is relative to
    ``project_directory`` (default: the working directory).
    """

    def __init__(
        self,
        args: Mapping[str, Any] | argparse.Namespace,
        default_args: Mapping[str, Any] | None = None,
        *,
        project_directory: str | os.PathLike[str] = "",
        experiments_directory: str | os.PathLike[str] = "experiments",
        experiment_id: str | int | None = None,
        description: str = "",
        resume: bool = False,
        norecord: bool = False,
    ) -> None:
        raw = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
        self.args: dict[str, Any] = to_jsonable(raw)
        self.default_args: dict[str, Any] = to_jsonable(dict(default_args or {}))
        self.project_directory = Path(project_directory or ".").absolute()
        self.experiments_directory = self.project_directory / Path(experiments_directory)
        self.description = description or ""
        self.norecord = norecord
        self._done = False
        self.run: Run | NullRun
        if norecord:
            self.run = start(self.args, record=False)
            self.experiment_id: str | None = None
            self.curexpdir: str | None = None
            return
        state = _project_git(self.project_directory)
        _require_clean(state)
        store = Store(self.experiments_directory)
        sha = state.sha if state is not None else None
        if experiment_id is None and resume:
            experiment_id = _same_experiment(store, self.args, sha)
        self.run = start(
            self.args,
            store=store,
            description=self.description,
            run_id=experiment_id,
            defaults=self.default_args if default_args is not None else None,
            catch=True,
        )
        self.experiment_id = self.run.id
        self.curexpdir = str(self.run.dir)
        self._write_files(state)
        # Watched like a run, and after it: at interpreter exit (no `with`) hooks call our
        # finish_from first, which finishes the run and then writes STATUS from its outcome.
        hooks.watch(self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<Experiment {self.experiment_id} {self.status} {self.curexpdir}>"

    @property
    def status(self) -> Status:
        """RUNNING until the experiment ends, then SUCCESS or ERROR."""
        return Status.of(self.run.status) if isinstance(self.run, Run) else Status.UNKNOWN

    # -- argparse -------------------------------------------------------------------------
    @staticmethod
    def add_argument_group(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
        """Add the "meticulous" options (``--experiment-id``, ``--resume``, ...) to ``parser``."""
        group = parser.add_argument_group(
            GROUP_TITLE, "arguments for initializing Experiment object"
        )
        group.add_argument(
            "--project-directory",
            default="",
            help="project directory, inside the git repository of the code "
            "(default: the working directory)",
        )
        group.add_argument(
            "--experiments-directory",
            default="experiments",
            help="where experiments are stored, relative to the project directory "
            "(default: experiments)",
        )
        group.add_argument("--experiment-id", default=None, help="explicitly specified id")
        group.add_argument("--description", default="", help="a description of this experiment")
        group.add_argument(
            "--resume",
            action="store_true",
            help="reuse the newest experiment with the same arguments and git sha; "
            "start a new one if there is none",
        )
        group.add_argument(
            "--norecord",
            action="store_true",
            help="record nothing (and allow uncommitted changes): for development",
        )
        return group

    @classmethod
    def from_parser(
        cls, parser: argparse.ArgumentParser, args: Sequence[str] | None = None, **options: Any
    ) -> Experiment:
        """Parse the command line and start the experiment of its arguments and defaults.

        The "meticulous" options configure the experiment (``options`` override them);
        every other argument is recorded in ``args.json``, its default in
        ``default_args.json``. The group is added when the parser lacks it.
        """
        if not any(g.title == GROUP_TITLE for g in parser._action_groups):
            cls.add_argument_group(parser)
        namespace = vars(parser.parse_args(args))
        ours = {key: namespace.pop(key) for key in OPTIONS if key in namespace}
        defaults = {key: parser.get_default(key) for key in namespace}
        ours.update(options)
        return cls(namespace, defaults, **ours)

    # -- writing ------------------------------------------------------------------------
    def summary(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        """Merge results into ``summary.json`` (written at once); return the whole summary.

        Unlike meticulous, which replaced the file, keys from earlier calls are kept.
        """
        return self.run.summary(values, **more)

    def open(self, name: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open ``name`` inside the experiment folder, as meticulous did (not ``artifacts/``).

        Writing over the record's own files (``STATUS``, ``run.json``, ...) is refused.
        With ``norecord`` the file goes to a temporary folder removed at the end.
        """
        if isinstance(self.run, NullRun):
            return self.run.open(name, mode, **kwargs)
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise UsageError(f"{str(name)!r} must be a relative path inside the experiment")
        writing = any(c in mode for c in "wax+")
        if writing and rel.parts[0] in _RESERVED:
            raise UsageError(
                f"{rel.parts[0]!r} is a file of the experiment record: use another name"
            )
        path = self.run.dir / rel
        if writing:
            path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(mode, **kwargs)

    # -- life ---------------------------------------------------------------------------
    def __enter__(self) -> Experiment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if isinstance(exc, Exception):
            # The loop goes on, so say here what went wrong: on the terminal and, while
            # the capture still runs, in this experiment's stderr.
            traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
        try:
            caught = self.run.__exit__(exc_type, exc, tb)
        finally:
            self._finished()
        return bool(caught) or (self.norecord and isinstance(exc, Exception))

    def finish_from(self, exc: BaseException | None, tb: TracebackType | None = None) -> None:
        """Finish with the outcome that ending by ``exc`` (None: normally) means."""
        self.run.finish_from(exc, tb)
        self._finished()

    def _finished(self) -> None:
        if self._done:
            return
        self._done = True
        if isinstance(self.run, NullRun):
            self.run.finish()
            return
        hooks.forget(self)  # type: ignore[arg-type]
        status = self.status
        message = ""
        if status is Status.ERROR:
            message = RunReader(self.run.dir).error or str(self.run.record.get("error") or "")
        atomic_write_text(self.run.dir / folder.STATUS, folder.format_status(status, message))

    def _write_files(self, state: gitmod.GitState | None) -> None:
        path = self.run.dir
        atomic_write_text(path / folder.STATUS, folder.format_status(Status.RUNNING))
        atomic_write_json(path / folder.ARGS, self.args)
        atomic_write_json(path / folder.DEFAULT_ARGS, self.default_args)
        metadata = {
            "githead-sha": state.sha if state is not None else None,
            "githead-message": state.message if state is not None else None,
            "description": self.description,
            "timestamp": datetime.now().isoformat(),
            "command": list(sys.argv),
        }
        atomic_write_json(path / folder.METADATA, metadata)
        for name, log in ((folder.STDOUT, "stdout.log"), (folder.STDERR, "stderr.log")):
            _link(path / name, log)


def _link(path: Path, target: str) -> None:
    """Make ``path`` name the log ``target`` beside it: a symlink, else a hard link."""
    if os.path.lexists(path):
        return
    try:
        os.symlink(target, path)
    except OSError:  # no symlinks here (Windows without the privilege)
        try:
            os.link(path.parent / target, path)
        except OSError:
            pass


def _project_git(project: Path) -> gitmod.GitState | None:
    """The git state of the project, which must be the repository runlab.start records."""
    if project.resolve() == Path.cwd().resolve():
        return gitmod.git_state()
    state = gitmod.git_state(project)
    here = gitmod.git_state()
    root = state.root if state is not None else None
    if root != (here.root if here is not None else None):
        raise UsageError(
            f"project directory {project} is not in the git repository of the working "
            f"directory {Path.cwd()}: run the script from inside the project"
        )
    return state


def _require_clean(state: gitmod.GitState | None) -> None:
    if state is not None and state.dirty:
        shown = ", ".join(state.modified[:10])
        more = f" and {len(state.modified) - 10} more" if len(state.modified) > 10 else ""
        raise DirtyRepository(
            f"git tree {state.root} has uncommitted changes: {shown}{more} "
            "(commit them to record an experiment, or pass --norecord)"
        )


def _same_experiment(store: Store, args: Mapping[str, Any], sha: str | None) -> str | None:
    """The id of the newest experiment with these args and git sha that is not running now."""
    wanted = config_hash(args)
    best: tuple[str, str] | None = None
    for run_dir in store.layout.iter_run_dirs():
        record = read_json(run_dir.run_json, default=None, warn=False)
        if not record or record.get("params_hash") != wanted:
            continue
        if (record.get("git") or {}).get("sha") != sha:
            continue
        # A live process owns its folder: two writers of one experiment would mix them.
        if effective_status(record, run_dir) is RunStatus.RUNNING:
            continue
        stamp = str(record.get("start") or "")
        if best is None or stamp >= best[0]:
            best = (stamp, run_dir.id)
    return best[1] if best is not None else None
