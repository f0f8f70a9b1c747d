"""pymake results: every file stem with a ``.inf``, ``.json`` or ``.pk.gz`` is one run.

pymake names an experiment's files after its settings (``_format``, e.g.
``{model}_{K}``) in ``<results>/<refdir>/<repeat>/``, one stem per experiment.
``imported_from`` is that stem's absolute path, without extension. What is read and
how it is mapped:

- the stem: with ``--name-format '{model}_{K}'`` (the spec's ``_format``) the stem is
  read back into params (``mmsb_10`` → ``model: mmsb, K: 10``; a stem that does not
  match is skipped with a warning); without it the param ``name`` is the stem. The
  folder below the import root is the param ``refdir`` (absent at the root itself);
- ``<stem>.inf`` (``#measure measure@fmt ...`` then one whitespace-separated row per
  iteration): each row → one point of ``metrics.jsonl`` (step = row number, no time:
  pymake does not write one), the last row → the summary. Columns from a list
  measure (``{...}``) on are not read: their width varies from row to row;
- ``<stem>.json`` (a dict of results) → ``summary.json``, over the last row;
- ``<stem>.pk.gz`` (a gzipped pickle) only with ``--allow-pickle``: when it holds a
  dict, its entries join the summary under the JSON's (a model object adds nothing);
- status: ``completed`` when the ``.inf`` ends with ``# terminated`` or results exist;
  an unterminated ``.inf`` alone is ``running`` when it changed in the last minute,
  else ``failed`` (the run stopped before pymake closed the file).
"""

from __future__ import annotations

import functools
import gzip
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.errors import UsageError
from runlab.importers.source import (
    Found,
    SourceError,
    SourceRun,
    as_dict,
    live_status,
    load_json,
    newest,
    plain,
    typed,
)
from runlab.record.status import RunStatus

SUFFIXES = (".inf", ".json", ".pk.gz")
TERMINATED = "terminated"
_FIELD = re.compile(r"\{([^{}]*)\}")


def _stem(file_name: str) -> tuple[str, str] | None:
    for suffix in SUFFIXES:
        if file_name.endswith(suffix) and len(file_name) > len(suffix):
            return file_name[: -len(suffix)], suffix
    return None


@functools.lru_cache(maxsize=8)
def name_pattern(template: str) -> re.Pattern[str]:
    """A regex reading a pymake ``_format`` template's fields back out of a file name."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _FIELD.finditer(template):
        key = match.group(1).lstrip("$")
        if not key.isidentifier() or key in seen:
            why = "is repeated" if key in seen else "is not a plain name"
            raise UsageError(f"--name-format {template!r}: field {{{match.group(1)}}} {why}")
        seen.add(key)
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<{key}>.+?)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    if not seen:
        raise UsageError(f"--name-format {template!r}: no {{field}} in it")
    return re.compile("".join(parts))


@dataclass(frozen=True)
class PymakeFormat:
    """Stems of pymake result files; ``name_format`` reads params back from the stem."""

    root: Path
    name_format: str | None = None
    allow_pickle: bool = False
    name = "pymake"
    source_file = None

    def signature(self) -> str:
        return f"pymake:{self.name_format or ''}:{int(self.allow_pickle)}"

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]:
        stems: dict[str, list[Path]] = {}
        for file_name in sorted(names):
            split = _stem(file_name)
            if split is not None:
                stems.setdefault(split[0], []).append(folder / file_name)
        return [Found(folder / stem, tuple(files)) for stem, files in sorted(stems.items())]

    def read(self, found: Found, name: str) -> SourceRun:
        files = {_suffix(p): p for p in found.files}
        if set(files) == {".pk.gz"} and not self.allow_pickle:
            raise SourceError(files[".pk.gz"], "pickle only", "pass --allow-pickle to read it")
        params = self._params(found)
        points: list[dict[str, Any]] = []
        terminated = False
        if ".inf" in files:
            points, terminated = read_inf(files[".inf"])
        summary: dict[str, Any] = {}
        if points:
            summary.update({k: v for k, v in points[-1].items() if k not in ("step", "time")})
        if ".pk.gz" in files and self.allow_pickle:
            summary.update(_pickled_results(files[".pk.gz"]))
        if ".json" in files:
            summary.update(as_dict(files[".json"], load_json(files[".json"])))
        results = ".json" in files or (".pk.gz" in files and self.allow_pickle)
        last = newest(list(found.files))
        error = None
        if terminated or results:
            status = RunStatus.COMPLETED
        else:
            status = live_status(last)
            if status is RunStatus.LOST:
                status = RunStatus.FAILED
                error = f"pymake: {files['.inf'].name} has no '# {TERMINATED}' line"
        return SourceRun(
            name=name,
            params=params,
            status=status,
            summary=summary,
            metrics=tuple(points),
            error=error,
            end=last if status.finished else None,
            last_active=last,
        )

    def _params(self, found: Found) -> dict[str, Any]:
        stem = found.path.name
        params: dict[str, Any] = {}
        refdir = found.path.parent.relative_to(self.root).as_posix()
        if refdir != ".":
            params["refdir"] = refdir
        if self.name_format is None:
            params["name"] = stem
            return params
        match = name_pattern(self.name_format).fullmatch(stem)
        if match is None:
            raise SourceError(found.path, "name does not match --name-format", self.name_format)
        params.update({k: typed(v) for k, v in match.groupdict().items()})
        return params


def _suffix(path: Path) -> str:
    split = _stem(path.name)
    return split[1] if split else path.suffix


def read_inf(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The rows of a pymake ``.inf`` file as metric points, and whether it was terminated."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise SourceError(path, "unreadable file", exc.strerror or "") from None
    names: list[str] | None = None
    terminated = False
    points: list[dict[str, Any]] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith(("#", "%")):
            comment = text[1:].strip()
            if comment == TERMINATED:
                terminated = True
            elif names is None and comment:
                names = _columns(comment.split())
            continue
        if names is None:
            raise SourceError(path, "malformed .inf", "no '#measure ...' header before the rows")
        values = {n: typed(v) for n, v in zip(names, text.split(), strict=False)}
        point: dict[str, Any] = {"step": len(points), "time": None}
        point.update({k: v for k, v in values.items() if v is not None})
        points.append(point)
    return points, terminated


def _columns(names: list[str]) -> list[str]:
    columns = []
    for raw in names:
        if raw.startswith("{"):
            break  # a list measure: what follows it has no fixed position
        columns.append(raw.split("@", 1)[0])
    return columns


def _pickled_results(path: Path) -> Mapping[str, Any]:
    try:
        with gzip.open(path, "rb") as f:
            data = pickle.load(f)
    except Exception as exc:
        line = str(exc).splitlines()[0] if str(exc) else ""
        raise SourceError(path, "unreadable pickle", f"{type(exc).__name__}: {line}") from None
    if not isinstance(data, Mapping):
        return {}  # a pickled model: nothing a table can show
    return {k: v for k, v in plain(data).items() if not isinstance(v, (list, dict))}
