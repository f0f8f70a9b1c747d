"""runs.select (naklar's select), runs.c, short names, loading twice, sqlite URLs."""

from __future__ import annotations

import pytest

import runlab
from runlab.errors import ColumnNotFound, UsageError
from runlab.query.select import ColumnAttributeError, field_names
from runlab.record.reader import RunReader


@pytest.fixture(scope="module")
def runs(grid, load_runs):
    return load_runs(grid)


def test_select_named_tuples_in_row_order(runs):
    rows = runs.select("name", "params.C", **{"params.kernel": "rbf"})
    assert [tuple(r) for r in rows] == [
        ("7", 0.1),
        ("8", 0.1),
        ("9", 0.1),
        ("10", 1.0),
        ("11", 1.0),
        ("12", 1.0),
    ]
    assert type(rows[0]).__name__ == "Row"
    assert rows[0]._fields == ("name", "C")
    assert rows[0].C == 0.1 and rows[0].name == "7"


def test_short_names_resolve_and_keywords_filter(runs):
    rows = runs.select("id", "C", "acc", kernel="linear", seed=2)
    assert rows == [("2", 0.1, 0.82), ("5", 1.0, 0.86)]


def test_a_list_means_in_and_absent_values_do_not_matter(runs):
    rows = runs.select("id", C=[1, 2, 3], seed=[1, 3])
    assert [r.id for r in rows] == ["4", "6", "10", "12"]
    assert [r.id for r in runs.select("id", kernel=("rbf",), seed={1})] == ["7", "10"]
    assert runs.select("id", kernel=[]) == []


def test_none_means_missing(zoo, load_runs):
    zoo_runs = load_runs(zoo)
    assert [r.id for r in zoo_runs.select("id", lr=None)] == ["10"]
    assert [r.id for r in zoo_runs.select("id", lr=[None, 1])] == ["5", "10"]
    assert [r.id for r in zoo_runs.select("id", flag=True)] == ["1", "3"]


def test_sqlalchemy_conditions(runs):
    rows = runs.select("id", "acc", runs.c["metrics.acc"] > 0.885)
    assert rows == [("8", 0.90), ("9", 0.92), ("11", 0.89)]
    both = runs.select("id", runs.c.acc > 0.85, runs.c.kernel == "linear")
    assert [r.id for r in both] == ["5", "6"]
    mixed = runs.select("id", runs.c.acc.between(0.84, 0.86), C=1)
    assert [r.id for r in mixed] == ["4", "5", "12"]


def test_select_without_columns_returns_run_readers(runs, grid):
    readers = runs.select(kernel="linear", C=1)
    assert all(isinstance(r, RunReader) for r in readers)
    assert [r.id for r in readers] == ["4", "5", "6"]
    assert readers[0].summary == {"acc": 0.85, "val_loss": 0.15}
    assert readers[0].dir == grid / "4"
    assert len(runs.select()) == 12


def test_select_narrows_a_narrowed_selection(runs):
    good = runs.where("acc >= 0.87")
    assert [r.id for r in good.select("id", kernel="linear")] == ["6"]
    assert len(good) == 6  # select does not change the selection it was called on


def test_missing_column_is_an_error_naming_it(runs):
    with pytest.raises(ColumnNotFound, match=r"^unknown column 'gamma' \(columns: id, name"):
        runs.select("id", "gamma")
    with pytest.raises(ColumnNotFound, match="unknown column 'gama'"):
        runs.select("id", gama=1)
    with pytest.raises(ColumnAttributeError, match="unknown column 'nope'"):
        runs.c.nope  # noqa: B018
    assert not hasattr(runs.c, "nope")
    assert "acc" in runs.c and "gamma" not in runs.c


def test_ambiguous_short_name_names_the_candidates(tmp_path):
    store = tmp_path / "runs"
    with runlab.start({"lr": 0.1}, store=store, capture=False, git=False) as run:
        run.summary(lr=0.05)
    runs = runlab.load(store)
    message = "column 'lr' is ambiguous: params.lr or metrics.lr; write the full name"
    with pytest.raises(ColumnNotFound) as err:
        runs.select("lr")
    assert str(err.value) == message
    assert runs.select("params.lr", "metrics.lr") == [(0.1, 0.05)]
    assert runs.select("params.lr", "metrics.lr")[0]._fields == ("params_lr", "metrics_lr")


def test_select_rejects_other_arguments(runs):
    with pytest.raises(UsageError, match="select: 3 is neither a column name nor a condition"):
        runs.select("id", 3)


def test_field_names():
    assert field_names(["params.C", "metrics.f1", "name"]) == ["C", "f1", "name"]
    assert field_names(["params.lr", "metrics.lr"]) == ["params_lr", "metrics_lr"]
    assert field_names(["params.learning-rate"]) == ["params_learning_rate"]
    assert field_names(["params.class", "params.2d"]) == ["class_", "params_2d"]


def test_loading_twice_needs_no_reset(grid):
    first = runlab.load(grid)
    second = runlab.load(grid, columns={"double": lambda r: 2 * r.summary["acc"]})
    third = runlab.load(grid)
    assert first.select("id", C=0.1, seed=1) == [("1",), ("7",)]
    assert second.select("id", "double", seed=1, C=0.1) == [("1", 1.6), ("7", 1.76)]
    assert third.select("id", C=0.1, seed=1) == first.select("id", C=0.1, seed=1)
    assert "double" not in third.c


def test_load_a_sqlite_url_of_an_index(grid):
    runs = runlab.load(f"sqlite:///{grid / 'index.db'}")
    assert runs.store.root == grid
    assert runs.select("id", seed=3, C=1) == [("6",), ("12",)]
    assert runs[6].params["kernel"] == "linear"


@pytest.mark.parametrize(
    "url,message",
    [
        ("mysql://host/db", "only sqlite:///path/to/index.db URLs"),
        ("postgresql+psycopg://me@127.0.0.1:1/db", "cannot reach postgresql"),
        ("sqlite:///{root}/other.db", "no store index at"),
        ("sqlite:///{root}/missing/index.db", "no store index at"),
    ],
)
def test_other_urls_are_one_line_errors(grid, url, message):
    with pytest.raises(UsageError, match=message):
        runlab.load(url.format(root=grid.parent))


def test_order_is_documented_and_stable(zoo, load_runs):
    runs = load_runs(zoo)
    expected = ["1", "2", "3", "4", "5", "10", "best"]
    assert [r.id for r in runs.select("id")] == expected
    assert [r.id for r in runs.select("id", runs.c.id != "nope")] == expected
    assert [r.id for r in runs.select()] == expected


def test_dir_is_a_column(grid, load_runs):
    runs = load_runs(grid)
    assert runs.select("dir", seed=1, C=0.1, kernel="rbf") == [(str(grid / "7"),)]
    assert runs.where(f"dir == '{grid / '3'}'").ids() == ["3"]
