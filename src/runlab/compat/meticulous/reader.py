"""Read meticulous experiment folders back: one ``ExperimentReader`` each, or one DataFrame.

Folders written by runlab's :class:`~runlab.compat.meticulous.Experiment`, by meticulous
itself, and plain runlab runs (``runlab.start``: no ``STATUS``, ``args.json`` or
``metadata.json``, which are then derived from ``run.json`` and ``params.json``) all read
the same way. Readers never write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from runlab.compat.meticulous import folder
from runlab.compat.meticulous.folder import Status
from runlab.record.files import read_json
from runlab.record.layout import RunDir, id_sort_key
from runlab.record.reader import effective_status
from runlab.record.status import RunStatus

if TYPE_CHECKING:
    import pandas as pd

INDEX = ("sha", "expid")
"""The index levels of :func:`experiments_dataframe`: git sha, then experiment id."""
BASE_COLUMNS = ("curexpdir", "begin_time", "status", "status_message")
"""The columns before the ``args_*`` and ``summary_*`` ones."""
LOST_MESSAGE = "the process ended without recording an outcome (runlab status: lost)"


class ExperimentReader:
    """One experiment folder, read at construction. Subclass it to read more.

    Usage::

        exp = ExperimentReader("experiments/3/")
        exp.status, exp.status_message        # "ERROR", "ValueError: bad k"
        exp.args["k"], exp.summary["loss"], exp.metadata["githead-sha"]
        with exp.open("model.pkl", "rb") as f:
            model = pickle.load(f)

    Attributes: ``curexpdir`` (the path as given), ``expid`` (the folder's name),
    ``metadata``, ``sha``, ``begin_time`` (the metadata's ``timestamp``, or
    ``start-time``), ``args``, ``default_args``, ``summary``, ``status`` (the first line
    of ``STATUS``, without its newline), ``status_message`` (its last line: the exception
    of an ``ERROR``), ``traceback`` (everything after the first line); ``stdout`` and
    ``stderr`` read the captured output.
    """

    def __init__(self, curexpdir: str | os.PathLike[str]) -> None:
        self.curexpdir = os.fspath(curexpdir)
        self.path = Path(curexpdir)
        self.expid = self.path.name
        self._run_dir = RunDir(self.path)
        self._record: dict[str, Any] | None = _json(self.path / "run.json")
        self.metadata: dict[str, Any] = _json(self.path / folder.METADATA) or self._metadata()
        self.sha: str | None = self.metadata.get("githead-sha")
        # "timestamp" is what the README documents; later meticulous versions wrote "start-time".
        self.begin_time: str | None = self.metadata.get("timestamp") or self.metadata.get(
            "start-time"
        )
        self.args: dict[str, Any] = (
            _json(self.path / folder.ARGS) or _json(self._run_dir.params_json) or {}
        )
        self.default_args: dict[str, Any] = (
            _json(self.path / folder.DEFAULT_ARGS) or _json(self._run_dir.defaults_json) or {}
        )
        self.status = Status.UNKNOWN.value
        self.status_message = ""
        self.traceback = ""
        self.summary: dict[str, Any] = {}
        self.refresh_status()
        self.refresh_summary()

    def __repr__(self) -> str:
        return f"<ExperimentReader {self.expid} {self.status} {self.curexpdir}>"

    def refresh_status(self) -> None:
        """Read ``STATUS`` again (for a plain runlab run: its ``run.json``)."""
        text = _text(self.path / folder.STATUS)
        if text is not None:
            self.status, self.traceback = folder.parse_status(text)
        elif self._record is not None:
            self.status = Status.of(effective_status(self._record, self._run_dir)).value
            self.traceback = _text(self._run_dir.error_txt) or ""
            if self.status == Status.ERROR and not self.traceback:
                self.traceback = str(self._record.get("error") or "")
        if self.status == Status.RUNNING and self._is_lost():
            self.status, self.traceback = Status.ERROR.value, LOST_MESSAGE
        self.status_message = folder.last_line(self.traceback)

    def refresh_summary(self) -> None:
        """Read ``summary.json`` again."""
        self.summary = _json(self.path / folder.SUMMARY) or {}

    @property
    def stdout(self) -> str:
        """What the experiment printed on stdout."""
        return _log(self.path, folder.STDOUT)

    @property
    def stderr(self) -> str:
        """What the experiment printed on stderr."""
        return _log(self.path, folder.STDERR)

    def open(self, name: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open ``name`` inside the experiment folder."""
        return (self.path / name).open(mode, **kwargs)

    def _metadata(self) -> dict[str, Any]:
        """metadata.json as meticulous would have written it, from runlab's ``run.json``."""
        if self._record is None:
            return {}
        git = self._record.get("git") or {}
        return {
            "githead-sha": git.get("sha"),
            "githead-message": git.get("message"),
            "description": self._record.get("description") or "",
            "timestamp": self._record.get("start"),
            "command": list(self._record.get("argv") or []),
        }

    def _is_lost(self) -> bool:
        """True when runlab knows the process of this RUNNING experiment is gone."""
        if self._record is None:
            return False
        return effective_status(self._record, self._run_dir) is RunStatus.LOST


def read_experiments(
    directory: str | os.PathLike[str] = "experiments",
    *,
    reader: type[ExperimentReader] = ExperimentReader,
) -> list[ExperimentReader]:
    """Every experiment of ``directory`` (a folder holding ``STATUS``, ``args.json``,
    ``metadata.json`` or ``run.json``), read by ``reader``, numeric ids in number order."""
    return [reader(path) for path in _experiment_dirs(os.fspath(directory))]


def experiments_dataframe(
    directory: str | os.PathLike[str] = "experiments",
    *,
    reader: type[ExperimentReader] = ExperimentReader,
) -> pd.DataFrame:
    """All experiments of ``directory`` as a DataFrame, one row each, in id order.

    Index: ``(sha, expid)``. Columns: ``curexpdir``, ``begin_time``, ``status``,
    ``status_message``, then ``args_<name>`` for each argument and ``summary_<name>``
    for each summary value (nested dicts flattened with ``_``: ``args_opt_lr``).
    Each column has one dtype chosen from all its values: ``Int64`` for ints (missing
    is ``<NA>``), ``float64``, ``boolean``, pandas' string dtype, else ``object``.
    """
    from runlab.compat.meticulous.table import table_of

    rows = [experiment_row(exp) for exp in read_experiments(directory, reader=reader)]
    names: dict[str, None] = dict.fromkeys((*INDEX, *BASE_COLUMNS))
    for prefix in ("args_", "summary_"):
        for row in rows:
            names.update((k, None) for k in row if k.startswith(prefix))
    # Through runlab's typed table so that each column gets one dtype from all its values:
    # an int argument missing in some experiments stays Int64, not float with NaN.
    frame = table_of(list(names), rows).df()
    return frame.set_index(list(INDEX))


def experiment_row(exp: ExperimentReader) -> dict[str, Any]:
    """One experiment as a row of :func:`experiments_dataframe`."""
    row: dict[str, Any] = {
        "sha": exp.sha,
        "expid": exp.expid,
        "curexpdir": exp.curexpdir,
        "begin_time": exp.begin_time,
        "status": exp.status,
        "status_message": exp.status_message,
    }
    _flatten("args", exp.args, row)
    _flatten("summary", exp.summary, row)
    return row


def _flatten(prefix: str, values: Mapping[str, Any], out: dict[str, Any]) -> None:
    for key, value in values.items():
        name = f"{prefix}_{key}"
        if isinstance(value, Mapping) and value:
            _flatten(name, value, out)
        else:
            out[name] = value


def _experiment_dirs(directory: str) -> Iterator[str]:
    try:
        entries = [e for e in os.scandir(directory) if e.is_dir() and not e.name.startswith(".")]
    except FileNotFoundError:
        return
    for entry in sorted(entries, key=lambda e: id_sort_key(e.name)):
        if any(os.path.exists(os.path.join(entry.path, m)) for m in folder.MARKERS):
            # The trailing separator is how meticulous spelled curexpdir ("experiments/1/").
            yield os.path.join(directory, entry.name, "")


def _json(path: Path) -> Any:
    value = read_json(path, default=None)
    return value if isinstance(value, dict) else None


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return None


def _log(path: Path, name: str) -> str:
    text = _text(path / name)
    return text if text is not None else _text(path / f"{name}.log") or ""
