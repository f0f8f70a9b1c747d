"""The experiment folders an Examiner reads: mlrunner's, and runlab's run folders.

An output folder holds one folder per experiment. Two kinds are read the same way:

- **mlrunner's** (``run -o output``): a ``param`` file (YAML of the spec with
  ``_name``, ``_time``, ``_output`` and ``_scripts``), a ``stat`` file and
  ``log.<command>.<YYYYmmdd.HHMMSS>`` logs;
- **runlab's** (a store: ``runlab run params.yaml --store output``): ``run.json``,
  ``params.json`` and ``logs/<command>.log``, earlier attempts' logs in
  ``logs/attempt-<n>/``.

Readers never write, so an Examiner can run over a store a sweep is still filling.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any

from runlab.errors import UsageError
from runlab.record.files import read_json
from runlab.record.layout import id_sort_key

PARAM = "param"
RUN_JSON = "run.json"
_ATTEMPT = re.compile(r"^attempt-\d+$")


def match_output(output: str | os.PathLike[str] = "output", regex: str = ".*") -> list[Path]:
    """Return the experiment folders of ``output`` whose name ``regex`` matches (``re.search``).

    Sorted by name, numbers numerically (mlrunner listed them in file-system order, so
    tables came out in a different order on each machine). Hidden folders (a store's
    ``.changed``) are never experiments. A missing ``output`` or a bad regex is a
    UsageError (mlrunner silently found nothing).
    """
    root = Path(output)
    if not root.is_dir():
        raise UsageError(f"exam: no output folder {root}")
    try:
        pattern = re.compile(regex)
    except re.error as err:
        raise UsageError(f"exam: regex {regex!r} is not a regular expression ({err})") from None
    folders = [
        path
        for path in root.iterdir()
        if path.is_dir() and not path.name.startswith(".") and pattern.search(path.name)
    ]
    return sorted(folders, key=lambda path: id_sort_key(path.name))


def load_params(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return an experiment folder's params, or None when it is no experiment.

    mlrunner's folder: its ``param`` file as it is (``_``-prefixed keys included).
    runlab's: ``params.json``, plus ``_name`` (the run's name), ``_id`` and ``_output``
    (the folder), the keys mlrunner's ``param`` had for them.
    """
    folder = Path(path)
    if (folder / PARAM).is_file():
        return _param_file(folder / PARAM)
    record = read_json(folder / RUN_JSON, default=None)
    if not isinstance(record, dict):
        return None
    params = read_json(folder / "params.json", default={}) or {}
    return {
        **params,
        "_name": str(record.get("name") or folder.name),
        "_id": str(record.get("id") or folder.name),
        "_output": str(folder),
    }


def _param_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UsageError(f"{path}: not a YAML param file ({first})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of params, got a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def latest_log(command: str, path: str | os.PathLike[str], index: int = -1) -> Path | None:
    """Return the newest log of ``command`` in an experiment folder, or None if it has none.

    The logs of a command, oldest first, are mlrunner's ``log.<command>.<time>`` files
    (their names sort by time), then runlab's ``logs/attempt-<n>/<command>.log`` by
    attempt, then runlab's ``logs/<command>.log``. ``index`` picks one as in a list:
    ``-1`` the newest, ``-2`` the one before, ``0`` the oldest; out of range is None.

    Usage::

        latest_log("test", output_dir)            # output/Norm_new/log.test.20220316.030151
        latest_log("test", "runs/norm=new")       # runs/norm=new/logs/test.log
    """
    if not isinstance(index, int) or isinstance(index, bool):
        raise UsageError(f"latest_log: index must be an int, got {index!r}")
    folder = Path(path)
    name = glob.escape(command)
    logs = sorted(folder.glob(f"log.{name}.*"))
    attempts = [p for p in folder.glob(f"logs/*/{name}.log") if _ATTEMPT.match(p.parent.name)]
    logs += sorted(attempts, key=lambda p: int(p.parent.name.rpartition("-")[2]))
    logs += [p for p in [folder / "logs" / f"{command}.log"] if p.is_file()]
    logs = [p for p in logs if p.is_file()]
    if not -len(logs) <= index < len(logs):
        return None
    return logs[index]
