"""The index's SQL schema and its migrations, in one place.

The ``runs`` table has fixed columns (below) and one column per params/summary/tag key
ever seen, named ``params.<key>``, ``metrics.<key>`` and ``tags.<key>`` and added with
``ALTER TABLE`` when first met. Those dynamic columns are declared without a type, so
SQLite keeps each value as given (an int in one run and a string in another is fine);
the ``columns`` table remembers which types each column has held, so readers can
decide a column's dtype from every value seen, never from the first one.

Migrations are named and applied in order inside one transaction; the applied names
are kept in ``migrations``. Never change a migration once released: add one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

# (name, SQL label, how a run.json value maps to it). The public columns, in table order.
FIXED_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "status",
    "start",
    "end",
    "duration",
    "exit_code",
    "git_sha",
    "git_dirty",
    "host",
    "description",
    "message",
    "attempt",
    "sweep",
)

KINDS = ("params", "metrics", "tags")

_INITIAL = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT,
    status TEXT,
    start TEXT,
    "end" TEXT,
    duration REAL,
    exit_code INTEGER,
    git_sha TEXT,
    git_dirty INTEGER,
    host TEXT,
    description TEXT,
    message TEXT,
    attempt INTEGER,
    sweep TEXT,
    _seq INTEGER,
    _mtime REAL,
    _pid INTEGER,
    _pid_start REAL,
    _params_hash TEXT
);
CREATE INDEX IF NOT EXISTS runs_order ON runs (_seq, id);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
CREATE INDEX IF NOT EXISTS runs_params_hash ON runs (_params_hash);
CREATE TABLE IF NOT EXISTS columns (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    types TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0
);
"""


def _initial(conn: Connection) -> None:
    for statement in _INITIAL.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


def _sweep_key(conn: Connection) -> None:
    # A sweep finds its done runs by key (config + task hash): 100,000 configs are
    # planned against the store with one indexed lookup instead of reading folders.
    conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN _key TEXT")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS runs_key ON runs (_key)")


def _search(conn: Connection) -> None:
    # `runlab ls --search`: an FTS5 table of names, descriptions, tags, notes and params.
    from runlab.index.search import create

    create(conn)


def _config(conn: Connection) -> None:
    # groupby(over="params.seed") groups 100,000 runs by one column of hashes (see
    # index.rows.config_key) instead of every varying param: computed here from the
    # param values the index already holds, so an existing index needs no rescan.
    from runlab.index.rows import CONFIG_COLUMN, config_key

    conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {CONFIG_COLUMN} TEXT")
    names = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(runs)")]
    params = [n for n in names if n.startswith("params.")]
    selected = ", ".join(['"id"', *(f'"{n}"' for n in params)])
    keys = [
        (config_key(zip(params, values, strict=True)), run_id)
        for run_id, *values in conn.exec_driver_sql(f"SELECT {selected} FROM runs").fetchall()
    ]
    if keys:
        conn.exec_driver_sql(f"UPDATE runs SET {CONFIG_COLUMN} = ? WHERE id = ?", keys)


MIGRATIONS: tuple[tuple[str, Callable[[Connection], None]], ...] = (
    ("0001_initial", _initial),
    ("0002_sweep_key", _sweep_key),
    ("0003_search", _search),
    ("0004_config", _config),
)


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet applied, in order; return their names."""
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)")
    done = {row[0] for row in conn.exec_driver_sql("SELECT name FROM migrations")}
    applied = []
    for name, apply in MIGRATIONS:
        if name not in done:
            apply(conn)
            conn.exec_driver_sql("INSERT INTO migrations (name) VALUES (?)", (name,))
            applied.append(name)
    return applied
