"""Turn one run folder into one index row: the mapping from files to columns.

Values become SQL values as SQLite keeps them: bools as 0/1 (their type is remembered
as ``bool``), numbers as numbers (numpy scalars were already plain numbers on disk),
strings as text, lists and other non-scalars as JSON text (type ``json``). Nested dicts
flatten with dots (``{"optim": {"lr": 0.1}}`` → ``params.optim.lr``), the form Hydra
users write their configs in.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from runlab.record.files import read_json
from runlab.record.layout import RunDir


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys; other values stay as they are."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def sql_value(value: Any) -> tuple[Any, str | None]:
    """The value to store and its type name (None for a missing value)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return int(value), "bool"
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value, "int"
        return str(value), "str"
    if isinstance(value, float):
        if math.isnan(value):
            return None, "float"  # SQLite has no NaN: it is missing, but the column is numeric
        return value, "float"
    if isinstance(value, str):
        return value, "str"
    return json.dumps(value, sort_keys=True), "json"


def _mtime(run_dir: RunDir) -> float:
    newest = 0.0
    for path in (run_dir.run_json, run_dir.params_json, run_dir.summary_json):
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except FileNotFoundError:
            pass
    return newest


def run_row(run_dir: RunDir) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The row of a run folder and the type of each dynamic column; None if no run.json.

    A damaged params or summary file reads as empty (with a warning): the run still
    gets its row, so ``ls`` goes on.
    """
    mtime = _mtime(run_dir)
    record = read_json(run_dir.run_json, default=None)
    if not isinstance(record, dict):
        return None
    git = record.get("git") or {}
    run_id = run_dir.id
    row: dict[str, Any] = {
        "id": run_id,
        "name": record.get("name") or run_id,
        "status": record.get("status"),
        "start": record.get("start"),
        "end": record.get("end"),
        "duration": record.get("duration"),
        "exit_code": record.get("exit_code"),
        "git_sha": git.get("sha"),
        "git_dirty": None if not git else int(bool(git.get("dirty"))),
        "host": record.get("host"),
        "description": record.get("description") or "",
        "message": record.get("error"),
        "attempt": record.get("attempt"),
        "sweep": record.get("sweep"),
        "_seq": int(run_id) if run_id.isdigit() else None,
        "_mtime": mtime,
        "_pid": record.get("pid"),
        "_pid_start": record.get("pid_start"),
        "_params_hash": record.get("params_hash"),
        "_key": record.get("key"),
    }
    types: dict[str, str] = {}
    sources = (
        ("params", read_json(run_dir.params_json, default={})),
        ("metrics", read_json(run_dir.summary_json, default={})),
        ("tags", record.get("tags") or {}),
    )
    for kind, data in sources:
        if not isinstance(data, dict):
            continue
        for key, value in flatten(data).items():
            column = f"{kind}.{key}"
            row[column], type_name = sql_value(value)
            if type_name:
                types[column] = type_name
            else:
                types.setdefault(column, "")
    return row, types
