"""Turn one run folder into one index row: the mapping from files to columns.

Values become SQL values as SQLite keeps them: bools as 0/1 (their type is remembered
as ``bool``), numbers as numbers (numpy scalars were already plain numbers on disk),
strings as text, lists and other non-scalars as JSON text (type ``json``). Nested dicts
flatten with dots (``{"optim": {"lr": 0.1}}`` → ``params.optim.lr``), the form Hydra
users write their configs in.

Each row also carries, under ``SEARCH_KEY``, the text the full-text search indexes
(see :mod:`runlab.index.search`): name, description, tags, the run's ``notes.md`` and
params, as words.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from runlab.record.files import read_json
from runlab.record.layout import RunDir

CONFIG_COLUMN = "_config"  # the hash of a run's params but the seed: see config_key
SEED_PARAM = "params.seed"
NOTES_FILE = "notes.md"  # appended to by `runlab note`; never written by the run itself
SEARCH_KEY = "_search"  # not a column: the ingest moves it to the search table


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


def config_key(params: Iterable[tuple[str, Any]]) -> str:
    """The hash of a run's stored param values (``params.<key>``, SQL value) but the seed.

    Runs with equal keys differ at most in ``params.seed``: they are one configuration
    of ``groupby(over="params.seed")``, which then groups by this one column instead of
    reading every varying param of every run. It must group exactly as comparing the
    stored values does (:class:`runlab.query.table.Groups`): a missing value and a
    missing param are the same (both left out), ``1`` and ``1.0`` are equal (an
    integral float hashes as the int), and so are a bool and its 0/1 (stored as ints).
    """
    items = []
    for column, value in sorted(params):
        if value is None or column == SEED_PARAM:
            continue
        if type(value) is float and value.is_integer():
            value = int(value)
        items.append((column, value))
    text = json.dumps(items, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def search_fields(
    name: str, description: str, params: Mapping[str, Any], tags: Mapping[str, Any], notes: str
) -> tuple[str, str, str, str, str]:
    """The searchable text of a run: name, description, tags, notes, params (flat dicts)."""
    return (name or "", description or "", _words(tags), notes or "", _words(params))


def _words(data: Mapping[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        parts.append(f"{key} {text}".strip())
    return "\n".join(parts)


def read_notes(run_dir: RunDir) -> str:
    """The run's ``notes.md`` ("" when it has none)."""
    try:
        return (run_dir.path / NOTES_FILE).read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return ""


def folder_mtime(run_dir: RunDir) -> float:
    """The mtime of the run folder itself, which :meth:`Index.rescan` compares.

    Taken before the files are read: a change made while they are read moves it
    again, so the next rescan reads the run once more.
    """
    try:
        return os.stat(run_dir.path).st_mtime
    except (FileNotFoundError, NotADirectoryError):
        return 0.0


def run_row(run_dir: RunDir) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The row of a run folder and the type of each dynamic column; None if no run.json.

    A damaged params or summary file reads as empty (with a warning): the run still
    gets its row, so ``ls`` goes on.
    """
    mtime = folder_mtime(run_dir)
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
    flat: dict[str, dict[str, Any]] = {}
    for kind, data in sources:
        if not isinstance(data, dict):
            continue
        flat[kind] = flatten(data)
        for key, value in flat[kind].items():
            column = f"{kind}.{key}"
            row[column], type_name = sql_value(value)
            if type_name:
                types[column] = type_name
            else:
                types.setdefault(column, "")
    row[CONFIG_COLUMN] = config_key(
        (column, value) for column, value in row.items() if column.startswith("params.")
    )
    row[SEARCH_KEY] = search_fields(
        row["name"],
        row["description"],
        flat.get("params", {}),
        flat.get("tags", {}),
        read_notes(run_dir),
    )
    return row, types
