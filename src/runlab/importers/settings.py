"""naklar trees: every folder holding a settings file (``conf.json``) is one run.

naklar assumes one folder per experimental condition with a dict of its settings
in it, written as JSON, YAML, a pickle or a joblib dump, or read by a function of
the user's (naklar's ``load_func``). What is read and how it is mapped:

- the settings file (chosen by its name, ``--settings conf.json``): its dict is the
  run's ``params.json``; keys named with ``--metric`` go to ``summary.json`` instead
  (naklar keeps results such as ``f1`` in the same dict as the settings);
- the loader follows the file's extension: ``.json``; ``.yaml``/``.yml`` (safe
  loader); ``.pkl``/``.pickle``/``.pk`` (pickle) and ``.jbl``/``.joblib`` (joblib,
  arrays memory-mapped) only with ``--allow-pickle``, because unpickling runs code
  stored in the file; or ``--load-func module:function`` (``fn(path) -> dict``);
- status ``completed`` (a settings dict is written when the condition has run), end
  time the file's modification time; the run is named after its folder;
- ``run.json`` keeps the file's name as ``source_file``: a re-import matches runs by
  folder and file name, so the runs of ``conf.json`` and of ``conf.pkl`` are apart,
  and a mistyped ``--settings`` name removes nothing.

A file that cannot be parsed, a pickle that cannot be loaded and a file that holds
something other than a dict are each one warning: the folder is skipped and counted.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.errors import UsageError
from runlab.importers.source import Found, SourceError, SourceRun, as_dict, load_json, mtime
from runlab.record.status import RunStatus

Loader = Callable[[Path], Any]

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pk")
JOBLIB_SUFFIXES = (".jbl", ".joblib")


def load_yaml(path: Path) -> Any:
    """The YAML in ``path`` (safe loader: tags that build objects are refused)."""
    import yaml

    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(path, "malformed YAML", f"{where}{problem}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(path, "malformed YAML", f"not UTF-8 text: {exc.reason}") from None


def load_pickle(path: Path) -> Any:
    """The object pickled in ``path``. Runs code stored in the file: only on request."""
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except Exception as exc:  # any damage or missing class shows as some exception
        raise SourceError(path, "unreadable pickle", _exception_line(exc)) from None


def load_joblib(path: Path) -> Any:
    """The object joblib dumped in ``path``, large arrays memory-mapped instead of read."""
    try:
        import joblib  # type: ignore[import-untyped]
    except ImportError:
        raise UsageError(
            f"{path.name} is a joblib dump and joblib is not installed: pip install joblib"
        ) from None
    try:
        return joblib.load(path, mmap_mode="r")
    except Exception as exc:  # joblib wraps unpickling: the same damage, other names
        raise SourceError(path, "unreadable pickle", _exception_line(exc)) from None


def _exception_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def user_loader(ref: str | Loader) -> tuple[Loader, str]:
    """The load function a user named (``module:function``, ``file.py:function``) and its name."""
    if callable(ref):
        return ref, getattr(ref, "__qualname__", repr(ref))
    from runlab.imports import import_module

    where, _, attr = str(ref).rpartition(":")
    if not where.strip() or not attr.strip():
        raise UsageError(f"--load-func {ref!r}: write module:function or file.py:function")
    try:
        module, _ = import_module(where.strip(), what=f"--load-func {ref!r}")
    except ImportError as exc:
        raise UsageError(f"--load-func {ref!r}: cannot import {where} ({exc})") from None
    fn = getattr(module, attr.strip(), None)
    if not callable(fn):
        raise UsageError(f"--load-func {ref!r}: {where} has no function {attr.strip()!r}")
    return fn, str(ref)


def _guarded(fn: Loader) -> Loader:
    """A user's load function whose failures are one warning each, like a damaged file."""

    def load(path: Path) -> Any:
        try:
            return fn(path)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(path, "load function failed", _exception_line(exc)) from None

    return load


@dataclass(frozen=True)
class SettingsFormat:
    """Folders holding a settings file named ``file_name``, read by ``loader``."""

    file_name: str
    loader: Loader
    loader_name: str
    name = "settings"

    @property
    def source_file(self) -> str:
        """Runs imported from files of this name are matched apart from others."""
        return self.file_name

    @classmethod
    def create(
        cls,
        file_name: str,
        *,
        load_func: str | Loader | None = None,
        allow_pickle: bool = False,
        root: Path,
    ) -> SettingsFormat:
        """The format for ``--settings file_name``; UsageError for what cannot be read safely."""
        if not file_name or os.sep in file_name or "/" in file_name or file_name in (".", ".."):
            raise UsageError(f"--settings {file_name!r}: give a file name (conf.json), not a path")
        if load_func is not None:
            fn, fn_name = user_loader(load_func)
            return cls(file_name, _guarded(fn), f"func:{fn_name}")
        suffix = Path(file_name).suffix.lower()
        if suffix in JSON_SUFFIXES:
            return cls(file_name, load_json, "json")
        if suffix in YAML_SUFFIXES:
            return cls(file_name, load_yaml, "yaml")
        if suffix in PICKLE_SUFFIXES + JOBLIB_SUFFIXES:
            if not allow_pickle:
                raise UsageError(
                    f"refusing to load {file_name}: unpickling runs code stored in the file; "
                    f"pass --allow-pickle if you trust every file under {root}"
                )
            if suffix in JOBLIB_SUFFIXES:
                return cls(file_name, load_joblib, "joblib")
            return cls(file_name, load_pickle, "pickle")
        known = ", ".join(JSON_SUFFIXES + YAML_SUFFIXES + PICKLE_SUFFIXES + JOBLIB_SUFFIXES)
        raise UsageError(
            f"--settings {file_name!r}: unknown kind of file (use {known}, "
            "or read it with --load-func module:function)"
        )

    def signature(self) -> str:
        """Changes when the same files would be read differently (a re-import re-reads)."""
        return f"settings:{self.file_name}:{self.loader_name}"

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]:
        if self.file_name not in names:
            return []
        return [Found(folder, (folder / self.file_name,))]

    def read(self, found: Found, name: str) -> SourceRun:
        path = found.files[0]
        params = as_dict(path, self.loader(path))
        return SourceRun(name=name, params=params, status=RunStatus.COMPLETED, end=mtime(path))
