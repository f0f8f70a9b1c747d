"""alchemie configurations: every folder holding a ``cfg.py`` is one run.

``alc.py create`` writes one folder per drawn configuration with a ``cfg.py`` (a
preamble of comments, then ``pars = {...}``); ``alc.py run`` trains it, and after
each job writes a report: ``report-<n>.json`` when the job was interrupted (to be
continued), ``report-last.json`` when training stopped. What is read and mapped:

- ``cfg.py``: the value of ``pars``, read as a Python literal and never executed
  (parameters are data) → ``params.json``; a ``pars`` that is not a literal (a call,
  a name) is a warning and the folder is skipped;
- each report, in order (``report-0``, ``report-1``, …, ``report-last``) →
  ``reports/<attempt>.json`` in runlab's form (``attempt``, ``status``, ``final``,
  ``end``, ``summary``), and its numbers → one point of ``metrics.jsonl`` (step =
  attempt, time = the report's mtime); the last report → ``summary.json``;
- status: ``report-last.json`` → ``completed`` (exit 0); numbered reports only →
  ``interrupted`` (exit 9, as ``alc.py run`` exits), attempts = reports written;
  no report → ``queued`` (created, never reported).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from runlab.importers.source import (
    Found,
    SourceError,
    SourceRun,
    ToolFormat,
    as_dict,
    load_json,
    mtime,
    numbers_only,
)
from runlab.record.run import utc_iso
from runlab.record.status import RunStatus

MARKER = "cfg.py"
LAST = "report-last.json"
INTERRUPTED_EXIT_CODE = 9  # what `alc.py run` returns when the trainer did not stop


def _report_order(name: str) -> tuple[int, int] | None:
    """Where a report file sorts: numbered ones by number, ``report-last`` after them."""
    if name == LAST:
        return (1, 0)
    if name.startswith("report-") and name.endswith(".json"):
        number = name[len("report-") : -len(".json")]
        if number.isdigit():
            return (0, int(number))
    return None


def read_pars(path: Path) -> dict[str, Any]:
    """The ``pars`` dict of an alchemie ``cfg.py``, read as a literal (nothing is run)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        raise SourceError(path, "malformed cfg.py", f"line {exc.lineno}: {exc.msg}") from None
    except OSError as exc:
        raise SourceError(path, "unreadable file", exc.strerror or "") from None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "pars"
        ):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise SourceError(
                    path, "malformed cfg.py", f"line {node.lineno}: pars is not a literal"
                ) from None
            return as_dict(path, value)
    raise SourceError(path, "malformed cfg.py", "no 'pars = {...}' in it")


class AlchemieFormat(ToolFormat):
    """Folders written by alchemie's ``alc.py create`` and ``alc.py run``."""

    name = "alchemie"

    def find(self, folder: Path, names: frozenset[str]) -> list[Found]:
        if MARKER not in names:
            return []
        reports = sorted(
            (n for n in names if _report_order(n) is not None),
            key=lambda n: _report_order(n) or (0, 0),
        )
        return [Found(folder, (folder / MARKER, *(folder / n for n in reports)))]

    def read(self, found: Found, name: str) -> SourceRun:
        params = read_pars(found.path / MARKER)
        paths = [p for p in found.files if p.name != MARKER]
        contents = [as_dict(p, load_json(p)) for p in paths]
        final = bool(paths) and paths[-1].name == LAST
        reports = []
        points = []
        for attempt, (path, content) in enumerate(zip(paths, contents, strict=True), 1):
            when = mtime(path)
            is_final = final and attempt == len(paths)
            status = RunStatus.COMPLETED if is_final else RunStatus.INTERRUPTED
            reports.append(
                {
                    "attempt": attempt,
                    "status": status.value,
                    "final": is_final,
                    "end": utc_iso(when) if when is not None else None,
                    "summary": content,
                    "source": path.name,
                }
            )
            points.append({"step": attempt, "time": when, **numbers_only(content)})
        if not paths:
            status, code = RunStatus.QUEUED, None
        elif final:
            status, code = RunStatus.COMPLETED, 0
        else:
            status, code = RunStatus.INTERRUPTED, INTERRUPTED_EXIT_CODE
        end = mtime(paths[-1]) if paths else None
        return SourceRun(
            name=name,
            params=params,
            status=status,
            summary=contents[-1] if contents else {},
            metrics=tuple(points),
            reports=tuple(reports),
            error=f"alchemie: no {LAST} after {len(paths)} job(s)"
            if status is RunStatus.INTERRUPTED
            else None,
            exit_code=code,
            end=end,
            attempt=max(1, len(paths)),
            last_active=end,
        )
