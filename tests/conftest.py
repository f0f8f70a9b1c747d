"""Fixtures every test folder may use: a real PostgreSQL server for the mirror tests.

``postgres_url`` starts PostgreSQL 15 with ``../shared/scripts/postgres-start`` (beside
the clone, as on CI) unless one already answers, and stops it at the end only if this
session started it. Without the script or root the PostgreSQL tests skip, saying why.
``pg_schema`` hands out a fresh schema per call, as a URL, so tests never see each
other's rows; the schemas are dropped at the end.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT.parent / "shared" / "scripts"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/runlab"


def _answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a running PostgreSQL server (started here when none answers)."""
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install 'runlab[postgres]'")
    if _answers(PG_URL):
        yield PG_URL
        return
    start = SCRIPTS / "postgres-start"
    if not start.exists():
        pytest.skip(f"no {start}: cannot start PostgreSQL")
    if os.geteuid() != 0:
        pytest.skip(f"{start} needs root to start PostgreSQL")
    done = subprocess.run([str(start)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"{start} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    url = done.stdout.split()[-1]
    try:
        yield url
    finally:
        subprocess.run([str(SCRIPTS / "postgres-stop")], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def pg_schema(postgres_url: str) -> Iterator[Callable[[], str]]:
    """``pg_schema()``: the URL of a new, empty schema of the test server."""
    import psycopg

    made: list[str] = []
    plain = postgres_url.replace("+psycopg", "")

    def new() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        made.append(name)
        return f"{postgres_url}?options=-csearch_path%3D{name}"

    yield new
    with psycopg.connect(plain, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
