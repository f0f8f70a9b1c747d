"""The PostgreSQL mirror against a real server: rows, increments, removals, many stores.

Every test mirrors into its own schema (``pg_schema``), so tests never see each other's
rows. ``runlab index --url`` and ``runlab ls --url`` run through the real CLI; the
concurrency test runs two real ``python -m runlab index`` processes at once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.errors import UsageError
from runlab.index.postgres import STORE_ID_FILE, connect, mirror, store_identity
from runlab.query.annotate import add_note
from runlab.store import Store


def record(store: Path, params: dict, summary: dict | None = None, **kw) -> None:
    with runlab.start(params, store=store, capture=False, git=False, **kw) as run:
        if summary:
            run.summary(summary)


def index(store: Path, url: str, *args: str) -> str:
    """``runlab index STORE --url URL``: its output (it must succeed)."""
    result = CliRunner().invoke(cli, ["index", str(store), "--url", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def ls(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["ls", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def count(url: str, sql: str) -> int:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(sql).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def url(pg_schema) -> str:
    return pg_schema()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    record(root, {"model": "cnn", "lr": 0.1, "seed": 1, "v": 1}, {"acc": 0.5}, name="a")
    record(root, {"model": "cnn", "lr": 0.01, "seed": 2, "v": "x"}, {"acc": 0.7})
    record(root, {"model": "mlp", "lr": 1, "seed": 1, "v": 2.5}, {"acc": 0.9}, tags={"t": 1})
    return root


def test_index_url_mirrors_every_row_as_sqlite_shows_it(store, url):
    out = index(store, url)
    store_id = (store / STORE_ID_FILE).read_text().strip()
    assert out.splitlines()[-1] == (
        f"mirrored to {url}: 3 runs written, 0 removed (store {store_id})"
    )
    mirrored = runlab.load(url).df()
    local = runlab.load(store).df()
    assert mirrored["store"].tolist() == [f"{socket.gethostname()}:{store}"] * 3
    pd.testing.assert_frame_equal(mirrored.drop(columns="store"), local)
    assert mirrored["params.v"].tolist() == [1, "x", 2.5]  # each value its own type


def test_store_identity_is_written_once(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    first = store_identity(root)
    assert len(first) == 32 and store_identity(root) == first
    assert sorted(p.name for p in root.iterdir()) == [STORE_ID_FILE]  # no temp file left


def test_mirror_is_incremental_and_follows_removals(store, url):
    index(store, url)
    assert "0 runs written, 0 removed" in index(store, url)
    add_note(Store.at(store), 2, "diverged at epoch 3")
    record(store, {"model": "rnn"}, {"acc": 0.1})
    shutil.rmtree(store / "1")
    assert "2 runs written, 1 removed" in index(store, url)
    runs = runlab.load(url)
    assert runs.ids() == ["2", "3", "4"]
    assert runs.search("diverged").ids() == ["2"]
    assert count(url, "SELECT count(*) FROM runlab_runs") == 3


def test_mixed_types_keep_numeric_comparisons_numeric(store, url):
    record(store, {"model": "big", "lr": 10, "seed": 3, "v": [1, 2]}, {"acc": 1})
    index(store, url)
    runs = runlab.load(url)
    # lr held 0.1, 0.01, 1 and 10: numbers, compared as numbers (not as text: "10" < "2")
    assert runs.where("lr > 0.5").ids() == ["3", "4"]
    assert runs.where("lr >= 2").ids() == ["4"]
    # v held an int, a str, a float and a list: compared where it holds the value's kind
    assert runs.where("v > 1").ids() == ["3"]
    assert runs.where("v == 'x'").ids() == ["2"]
    assert runs.where("v != 1").ids() == ["2", "3", "4"]
    assert runs.where("model > 3").ids() == []  # a str column never equals a number
    assert runs.df()["params.v"].tolist() == [1, "x", 2.5, [1, 2]]
    assert runs.dtypes["params.lr"] == runlab.load(store).dtypes["params.lr"]


def test_stores_indexed_at_once_all_land_completely(tmp_path, url):
    stores = [tmp_path / "a" / "runs", tmp_path / "b" / "runs"]
    for n, root in enumerate(stores):
        for i in range(60):
            record(root, {"i": i, "who": n}, {"acc": i / 100})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # the first store twice: the second mirror of it waits for the first, then has nothing to do
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "runlab", "index", str(root), "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for root in (*stores, stores[0])
    ]
    written = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        written.append(int(out.splitlines()[-1].split(": ")[1].split()[0]))
    assert written[1] == 60 and sorted([written[0], written[2]]) == [0, 60]
    runs = runlab.load(url)
    assert len(runs) == 120
    for n, root in enumerate(stores):
        label = f"{socket.gethostname()}:{root}"
        one = runs.where(f"store == '{label}'")
        assert one.ids() == [str(i) for i in range(1, 61)]
        assert {r.who for r in one.select("who")} == {n}
    assert count(url, "SELECT count(*) FROM runlab_stores") == 2


def test_a_run_id_in_two_stores_needs_the_store_named(tmp_path, url):
    first, second = tmp_path / "a", tmp_path / "b"
    record(first, {"lr": 0.1}, {"acc": 1.0})
    record(second, {"lr": 0.2}, {"acc": 2.0})
    index(first, url)
    index(second, url)
    runs = runlab.load(url)
    with pytest.raises(UsageError, match=r"run '1' is in several stores"):
        runs[1]
    label = f"{socket.gethostname()}:{second}"
    assert runs.where(f"store == '{label}'")[1].summary == {"acc": 2.0}
    assert runs.select("acc", store=label) == [(2.0,)]
    code, out = ls("--url", url, "--columns", "store,lr,acc", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"store": f"{socket.gethostname()}:{first}", "params.lr": 0.1, "metrics.acc": 1.0},
        {"store": f"{socket.gethostname()}:{second}", "params.lr": 0.2, "metrics.acc": 2.0},
    ]
    code, out = ls("--url", url)  # runs of several stores: the listing says which
    assert out.splitlines()[1].split()[:2] == ["id", "store"]  # under the params/metrics line


def test_readers_open_the_mirrored_folders(tmp_path, url):
    root = tmp_path / "runs"
    for lr in (0.1, 0.2):
        with runlab.start({"lr": lr}, store=root, capture=False, git=False) as run:
            for step in range(3):
                run.log(step=step, loss=lr * step)
    index(root, url)
    runs = runlab.load(url)
    assert [r.dir for r in runs] == [root / "1", root / "2"]
    assert runs[2].params == {"lr": 0.2}
    series = runs.series("loss", params=["lr"])
    assert series["id"].tolist() == ["1"] * 3 + ["2"] * 3
    assert series["value"].tolist() == pytest.approx([0, 0.1, 0.2, 0, 0.2, 0.4])


def test_readers_need_the_folders_on_this_machine(store, url, tmp_path):
    index(store, url)
    moved = tmp_path / "elsewhere"
    shutil.move(store, moved)
    runs = runlab.load(url)
    assert runs.ids() == ["1", "2", "3"]  # the table needs no files
    with pytest.raises(UsageError, match=f"run 2: its folder {store}/2 is not on this machine"):
        runs[2]
    with pytest.raises(UsageError, match="not on this machine"):
        list(runs)


def test_ls_url_gives_the_listing_ls_gives_for_the_store(store, url, tmp_path):
    index(store, url)
    for args in (
        [],
        ["--where", "lr < 0.5 or v == 'x'", "--sort", "acc", "--desc"],
        ["--groupby", "model", "--columns", "model,runs,acc_mean"],
        ["--groupby", "model", "--over", "seed"],
        ["--varying"],
        ["--search", "mlp"],
        ["--json"],
    ):
        local = ls(str(store), *args)
        assert ls("--url", url, *args) == local, args
    out = tmp_path / "t.csv"
    code, text = ls("--url", url, "--where", "acc > 0.6", "--export", str(out))
    assert code == 0 and text == f"wrote 2 rows to {out}\n"
    assert pd.read_csv(out)["id"].tolist() == [2, 3]


def test_ls_url_errors_are_one_line(store, tmp_path):
    code, out = ls("--url", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    assert code == 2
    assert out == (
        "error: cannot reach postgresql+psycopg://nobody@127.0.0.1:1/nothing: connection "
        'failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
    )
    code, out = ls(str(store), "--url", "postgresql+psycopg://x@127.0.0.1:1/db")
    assert code == 2 and "give one of them" in out


def test_load_takes_no_getters_on_a_mirror(url):
    with pytest.raises(UsageError, match="columns= and translate= need the run folders"):
        runlab.load(url, translate={"/a/": "/b/"})


def test_mirror_api_reports_what_it_did(store, url):
    the_store = Store.at(store)
    the_store.index()
    result = mirror(the_store, url)
    assert (result.written, result.removed, result.total) == (3, 0, 3)
    engine = connect(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT data FROM runlab_runs WHERE id = '3'")).scalar_one()
    finally:
        engine.dispose()
    assert row == {
        "params.model": "mlp",
        "params.lr": 1,
        "params.seed": 1,
        "params.v": 2.5,
        "metrics.acc": 0.9,
        "tags.t": 1,
    }
    assert json.loads(json.dumps(row)) == row
