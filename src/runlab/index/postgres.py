"""A PostgreSQL mirror of store indexes, so a team queries every host's runs in one place.

``runlab index --url postgresql+psycopg://…`` brings a store's SQLite index up to date
and then copies its rows into the database: :func:`mirror`. The SQLite index stays the
truth of each store (and the default for every query); the mirror is a second cache,
rebuilt from it at any time.

Many stores share one database without colliding: a store gets a stable identity the
first time it is mirrored, a uuid written once into ``<store>/.store-id``, and every
row is keyed by (store identity, run id). The store's host and path are kept beside the
identity for display and for finding the run folders (a store moved keeps its rows; a
copy of a store carries its identity, so mirror one copy only). Two hosts mirroring at
once touch disjoint rows; one store mirrored twice at once is serialised by an
advisory lock.

Each mirror is incremental: the rows whose ``_mtime`` or ``status`` differ from what the
database holds for that store are upserted, rows whose run left the store are deleted,
in one transaction per batch of :data:`BATCH` rows.

Values of mixed types. The fixed columns are typed SQL columns; the dynamic ones
(``params.*``, ``metrics.*``, ``tags.*``) are the keys of one ``data`` JSONB object per
run, holding each value as the SQLite index holds it (bools 0/1, lists as JSON text; a
missing value, NaN and ±inf are absent keys). ``runlab_columns`` records, per store and
column, the value types it has held, as the SQLite ``columns`` table does. Readers
(:mod:`runlab.query.postgres`) cast each key by those types: a column that only held
numbers is read as ``bigint`` or ``double precision``, so ``--where`` compares numbers
numerically; a column of several kinds is read as JSONB and compared only where it holds
the kind of the value compared with, as on SQLite.

Full-text search: ``search`` holds the lower-cased searchable text of a run (name,
description, tags, notes, params); readers match each word as a case-insensitive regular
expression anchored at the start of a word (``~* '\\mword'``), which is what SQLite's FTS5
prefix terms mean. There is no text index: a search scans the rows.

All tables live in the connection's current schema (``?options=-csearch_path%3Dteam``
picks another), under names starting with ``runlab_``.
"""

from __future__ import annotations

import json
import math
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError
from runlab.index.schema import FIXED_COLUMNS

if TYPE_CHECKING:
    import sqlalchemy as sa

    from runlab.store import Store

STORE_ID_FILE = ".store-id"
BATCH = 1000
# Internal columns kept in the mirror (the others judge lost runs, which is local work).
MIRROR_INTERNAL = ("_seq", "_mtime", "_key")
_SCHEMA_LOCK = 0x72756E6C  # "runl": one advisory lock id for creating the tables
_SEARCH_FIELDS = ("name", "description", "tags", "notes", "params")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runlab_stores (
    store_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    mirrored TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS runlab_runs (
    store_id TEXT NOT NULL REFERENCES runlab_stores ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT,
    status TEXT,
    start TEXT,
    "end" TEXT,
    duration DOUBLE PRECISION,
    exit_code BIGINT,
    git_sha TEXT,
    git_dirty INTEGER,
    host TEXT,
    description TEXT,
    message TEXT,
    attempt BIGINT,
    sweep TEXT,
    _seq BIGINT,
    _mtime DOUBLE PRECISION,
    _key TEXT,
    data JSONB NOT NULL DEFAULT '{}',
    search TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (store_id, id)
);
CREATE INDEX IF NOT EXISTS runlab_runs_order ON runlab_runs (_seq, id);
CREATE INDEX IF NOT EXISTS runlab_runs_status ON runlab_runs (status);
CREATE TABLE IF NOT EXISTS runlab_columns (
    store_id TEXT NOT NULL REFERENCES runlab_stores ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    types TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (store_id, name)
)
"""
MIGRATIONS: tuple[tuple[str, str], ...] = (("0001_mirror", SCHEMA),)


@dataclass(frozen=True)
class MirrorResult:
    """What one :func:`mirror` did: rows written, rows deleted, rows the store has."""

    store_id: str
    written: int
    removed: int
    total: int


def is_postgres_url(text: object) -> bool:
    """Whether ``text`` is a PostgreSQL SQLAlchemy URL (``postgresql+psycopg://…``)."""
    return isinstance(text, str) and text.split("://", 1)[0].split("+", 1)[0] in (
        "postgresql",
        "postgres",
    )


def shown_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def connect(url: str) -> sa.Engine:
    """An engine on the database of ``url`` whose runlab tables exist (made on first use).

    A missing driver, a bad URL or a server that cannot be reached is a one-line
    :class:`UsageError` naming the URL.
    """
    import sqlalchemy as sa

    if not is_postgres_url(url):
        raise UsageError(f"{url}: not a PostgreSQL URL (postgresql+psycopg://user@host/db)")
    try:
        # No pool: every load makes an engine, and pooled connections would outlive it.
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"{shown_url(url)}: the driver {exc.name!r} is missing: pip install 'runlab[postgres]'"
        ) from None
    except sa.exc.ArgumentError as exc:
        raise UsageError(f"{shown_url(url)}: {exc}") from None
    try:
        with engine.begin() as conn:
            _migrate(conn)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = _reason(exc)
        raise UsageError(f"cannot reach {shown_url(url)}: {reason}") from None
    return engine


def _reason(exc: BaseException) -> str:
    """The driver's first line on why it failed ("... port 1 failed: Connection refused")."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


def _migrate(conn: sa.Connection) -> None:
    """Apply the migrations not yet applied; the advisory lock makes concurrent first uses safe.

    When every migration is applied it only reads, so a reader needs no right to create.
    """
    if conn.exec_driver_sql("SELECT to_regclass('runlab_migrations')").scalar() is not None:
        done = {r[0] for r in conn.exec_driver_sql("SELECT name FROM runlab_migrations")}
        if all(name in done for name, _ in MIGRATIONS):
            return
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS runlab_migrations (name TEXT PRIMARY KEY)")
    done = {r[0] for r in conn.exec_driver_sql("SELECT name FROM runlab_migrations")}
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        for statement in sql.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO runlab_migrations (name) VALUES (%s)", (name,))


def store_identity(root: Path) -> str:
    """The store's stable identity, written once into ``.store-id`` (racing writers agree).

    The file is linked into place, never renamed over, so the first writer wins and
    every later caller reads its uuid.
    """
    path = root / STORE_ID_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    tmp = root / f"{STORE_ID_FILE}.{os.getpid()}.tmp"
    tmp.write_text(uuid.uuid4().hex + "\n", encoding="utf-8")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


def mirror(store: Store, url: str) -> MirrorResult:
    """Copy the rows of ``store``'s index changed since its last mirror into ``url``'s database.

    The caller brings the local index up to date first (``runlab index`` rescans).
    """
    import sqlalchemy as sa

    local = store.index(refresh=False).engine  # first: "no store at ..." for a wrong path
    store_id = store_identity(store.root)
    remote = connect(url)
    try:
        with remote.connect() as lock:
            # One mirror of a store at a time; other stores go on in parallel.
            lock.exec_driver_sql("SELECT pg_advisory_lock(hashtext(%s))", (store_id,))
            try:
                return _mirror(store, store_id, local, remote)
            finally:
                lock.exec_driver_sql("SELECT pg_advisory_unlock(hashtext(%s))", (store_id,))
                lock.commit()
    except sa.exc.OperationalError as exc:
        reason = _reason(exc)
        raise UsageError(f"mirroring {store.root} to {shown_url(url)} failed: {reason}") from None
    finally:
        remote.dispose()


def _mirror(store: Store, store_id: str, local: sa.Engine, remote: sa.Engine) -> MirrorResult:
    with local.connect() as conn:
        mine = {
            r[0]: (r[1], r[2])
            for r in conn.exec_driver_sql("SELECT id, _mtime, status FROM runs").all()
        }
        columns = conn.exec_driver_sql("SELECT name, kind, types FROM columns").all()
    with remote.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO runlab_stores (store_id, host, path) VALUES (%s, %s, %s) "
            "ON CONFLICT (store_id) DO UPDATE SET host = excluded.host, path = excluded.path, "
            "mirrored = now()",
            (store_id, socket.gethostname(), str(store.root)),
        )
        theirs = {
            r[0]: (r[1], r[2])
            for r in conn.exec_driver_sql(
                "SELECT id, _mtime, status FROM runlab_runs WHERE store_id = %s", (store_id,)
            )
        }
        conn.exec_driver_sql("DELETE FROM runlab_columns WHERE store_id = %s", (store_id,))
        if columns:
            conn.exec_driver_sql(
                "INSERT INTO runlab_columns (store_id, name, kind, types) VALUES (%s, %s, %s, %s)",
                [(store_id, *c) for c in columns],
            )
    changed = [i for i, state in mine.items() if theirs.get(i) != state]
    gone = [i for i in theirs if i not in mine]
    for start in range(0, len(gone), BATCH):
        with remote.begin() as conn:
            conn.exec_driver_sql(
                "DELETE FROM runlab_runs WHERE store_id = %s AND id = ANY(%s)",
                (store_id, gone[start : start + BATCH]),
            )
    for start in range(0, len(changed), BATCH):
        rows = _local_rows(local, changed[start : start + BATCH])
        with remote.begin() as conn:
            _upsert(conn, store_id, rows)
    return MirrorResult(store_id, len(changed), len(gone), len(mine))


def _local_rows(local: sa.Engine, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The mirror rows of ``ids``: fixed columns, ``data`` and ``search`` text."""
    from runlab.index.search import SEARCH_TABLE

    marks = ", ".join("?" for _ in ids)
    with local.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM runs WHERE id IN ({marks})", tuple(ids))
        names = list(result.keys())
        records = [dict(zip(names, r, strict=True)) for r in result.all()]
        fields = ", ".join(_SEARCH_FIELDS)
        docs = {
            r[0]: r[1:]
            for r in conn.exec_driver_sql(
                f"SELECT id, {fields} FROM {SEARCH_TABLE} WHERE id IN ({marks})", tuple(ids)
            )
        }
    keep = (*FIXED_COLUMNS, *MIRROR_INTERNAL)
    rows = []
    for record in records:
        row = {k: record.get(k) for k in keep}
        row["data"] = json.dumps(
            {k: v for k, v in record.items() if "." in k and _present(v)}, allow_nan=False
        )
        doc = docs.get(record["id"]) or ()
        row["search"] = "\n".join(str(f) for f in doc if f).lower()
        rows.append(row)
    return rows


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def _upsert(conn: sa.Connection, store_id: str, rows: list[dict[str, Any]]) -> None:
    names = [*FIXED_COLUMNS, *MIRROR_INTERNAL, "data", "search"]
    quoted = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("%s::jsonb" if n == "data" else "%s" for n in names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != "id")
    conn.exec_driver_sql(
        f"INSERT INTO runlab_runs (store_id, {quoted}) VALUES (%s, {marks}) "
        f"ON CONFLICT (store_id, id) DO UPDATE SET {updates}",
        [(store_id, *(row[n] for n in names)) for row in rows],
    )


__all__ = [
    "MirrorResult",
    "connect",
    "is_postgres_url",
    "mirror",
    "shown_url",
    "store_identity",
]
