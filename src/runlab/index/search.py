"""The index's full-text search table (SQLite FTS5) and how ingest keeps it current.

``runs_search`` holds one document per run with the columns ``name``, ``description``,
``tags``, ``notes`` and ``params`` (see :func:`runlab.index.rows.search_fields`) and the
run ``id`` (not searched). Its rowids come from ``search_ids``, whose ``INTEGER PRIMARY
KEY`` keeps one number per run id for good (``VACUUM`` renumbers the ``runs`` table's
own rowids, so they cannot be used): replacing a run's document is two rowid lookups,
never a scan. The ingest writes documents in the same transaction as the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runlab.index.rows import search_fields

SEARCH_TABLE = "runs_search"
_IDS_TABLE = "search_ids"
_FIELDS = ("name", "description", "tags", "notes", "params")
_CHUNK = 500  # ids per IN (...): well under SQLite's limit on bound parameters

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {_IDS_TABLE} (docid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5(
    id UNINDEXED, {", ".join(_FIELDS)}, tokenize = 'unicode61'
);
"""


# The same columns in a plain table, for an SQLite built without FTS5: ingest works the
# same, and searching says it cannot (see has_fts).
_PLAIN = f"""
CREATE TABLE IF NOT EXISTS {SEARCH_TABLE} (id TEXT, {", ".join(f"{f} TEXT" for f in _FIELDS)})
"""


def create(conn: Any) -> None:
    """Create the search tables and fill them from the runs already indexed."""
    ids, fts = SCHEMA.split(";")[:2]
    conn.exec_driver_sql(ids)
    try:
        conn.exec_driver_sql(fts)
    except Exception as exc:
        if "fts5" not in str(exc).lower():
            raise
        conn.exec_driver_sql(_PLAIN)
    kinds = conn.exec_driver_sql("SELECT name, kind, types FROM columns").all()
    params = [(n, types) for n, kind, types in kinds if kind == "params"]
    tags = [(n, types) for n, kind, types in kinds if kind == "tags"]
    names = ["id", "name", "description", *(n for n, _ in params), *(n for n, _ in tags)]
    quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
    docs: dict[str, tuple[str, ...] | None] = {}
    for row in conn.exec_driver_sql(f"SELECT {quoted} FROM runs"):
        values = list(row)
        run_id, name, description = values[:3]
        rest = values[3:]
        docs[run_id] = search_fields(
            name,
            description,
            _flat(params, rest[: len(params)], "params."),
            _flat(tags, rest[len(params) :], "tags."),
            "",  # notes came with the search: an index older than it has none to read
        )
    write(conn, docs)


def _flat(columns: Sequence[tuple[str, str]], values: Sequence[Any], prefix: str) -> dict[str, Any]:
    out = {}
    for (name, types), value in zip(columns, values, strict=True):
        if value is not None:
            bool_only = set(types.split(",")) == {"bool"}
            out[name[len(prefix) :]] = bool(value) if bool_only else value
    return out


def write(conn: Any, docs: Mapping[str, tuple[str, ...] | None]) -> None:
    """Replace the documents of ``docs`` (run id → fields); None deletes a run's document."""
    if not docs:
        return
    ids = list(docs)
    present = [(i,) for i in ids if docs[i] is not None]
    if present:
        conn.exec_driver_sql(f"INSERT OR IGNORE INTO {_IDS_TABLE} (id) VALUES (?)", present)
    docids: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        found = conn.exec_driver_sql(
            f"SELECT id, docid FROM {_IDS_TABLE} WHERE id IN ({marks})", tuple(chunk)
        )
        docids.update(dict(found.all()))
    if docids:
        conn.exec_driver_sql(
            f"DELETE FROM {SEARCH_TABLE} WHERE rowid = ?", [(d,) for d in docids.values()]
        )
    gone = [(i,) for i in ids if docs[i] is None and i in docids]
    if gone:
        conn.exec_driver_sql(f"DELETE FROM {_IDS_TABLE} WHERE id = ?", gone)
    rows = [(docids[i], i, *fields) for i, fields in docs.items() if fields is not None]
    if rows:
        marks = ", ".join("?" for _ in range(len(_FIELDS) + 2))
        conn.exec_driver_sql(
            f"INSERT INTO {SEARCH_TABLE} (rowid, id, {', '.join(_FIELDS)}) VALUES ({marks})",
            rows,
        )


def has_fts(conn: Any) -> bool:
    """Whether the search table is an FTS5 table (not the plain fallback)."""
    found = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE name = ?", (SEARCH_TABLE,)
    ).scalar()
    return bool(found) and "fts5" in str(found).lower()
