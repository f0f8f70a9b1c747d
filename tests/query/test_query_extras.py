"""load(columns=..., translate=...): computed columns and translated paths are real columns."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from query_helpers import record

import runlab
from runlab.errors import UsageError
from runlab.query import DType
from runlab.query.extras import ColumnWarning, TranslatedReader, Translation, cell

SCRATCH = {"/mnt/scratch/": "/data/"}


@pytest.fixture(scope="module")
def runs(grid):
    return runlab.load(
        grid,
        translate=SCRATCH,
        columns={
            "startdate": lambda run: dt.datetime(2024, 5, int(run.id)),
            "where": lambda run: run.params["out"].rsplit("/", 1)[0],
            "score": lambda run: np.float32(run.summary["acc"] * 100),
        },
    )


def test_translated_strings_and_computed_values_are_columns(runs):
    rows = runs.select("id", "out", "where", "score", "startdate", kernel="rbf", seed=1)
    assert [r[:3] for r in rows] == [
        ("7", "/data/rbf-0.1-1", "/data"),
        ("10", "/data/rbf-1-1", "/data"),
    ]
    assert [round(r.score, 3) for r in rows] == [88.0, 87.0]
    assert rows[0].startdate == "2024-05-07T00:00:00"


def test_translated_and_computed_columns_filter_in_sql(runs):
    assert runs.where("out == '/data/linear-1-2'").ids() == ["5"]
    assert runs.where("score > 89.5").ids() == ["8", "9"]
    assert [r.id for r in runs.select("id", runs.c.out.like("/data/rbf-1-%"))] == [
        "10",
        "11",
        "12",
    ]
    assert runs.select("id", where="/data", seed=3, C=1) == [("6",), ("12",)]
    assert runs.where("out == '/mnt/scratch/rbf-1-1'").ids() == []


def test_types_of_computed_columns(runs):
    assert runs.dtypes["score"] is DType.FLOAT
    assert runs.dtypes["where"] is DType.STR
    assert runs.dtypes["startdate"] is DType.DATETIME
    assert [c.kind for c in runs.columns if c.name in ("score", "where")] == ["computed"] * 2
    df = runs.df()
    assert str(df["startdate"].dtype) == "datetime64[us, UTC]"
    assert df["startdate"][0] == pd.Timestamp("2024-05-01", tz="UTC")
    assert df["params.out"][0] == "/data/linear-0.1-1"
    assert df["params.out"].str.startswith("/data/").all()
    assert list(df.columns[-3:]) == ["startdate", "where", "score"]


def test_readers_and_getters_see_translated_values(runs, grid):
    reader = runs[7]
    assert isinstance(reader, TranslatedReader)
    assert reader.params["out"] == "/data/rbf-0.1-1"
    assert reader.dir == grid / "7"  # the folder stays where the files are
    assert runs.select(kernel="rbf", seed=1)[0].params["out"] == "/data/rbf-0.1-1"


def test_a_getter_named_after_a_column_replaces_its_values(grid):
    runs = runlab.load(grid, columns={"params.out": lambda run: run.params["out"].upper()})
    assert runs.select("out", seed=1, C=1, kernel="rbf") == [("/MNT/SCRATCH/RBF-1-1",)]
    assert [c.name for c in runs.columns].count("params.out") == 1
    assert runs.where("out == '/MNT/SCRATCH/LINEAR-1-1'").ids() == ["4"]


def test_dir_is_translated(grid):
    prefix = str(grid.parent) + "/"
    runs = runlab.load(grid, translate={prefix: "/elsewhere/"})
    assert runs.select("dir", C=1, seed=1, kernel="linear") == [("/elsewhere/runs/4",)]
    assert runs.where("dir == '/elsewhere/runs/12'").ids() == ["12"]


def test_the_longest_prefix_wins_and_only_prefixes():
    t = Translation.of({"/mnt/": "/a/", "/mnt/scratch/": "/b/"})
    assert t.text("/mnt/scratch/x") == "/b/x"
    assert t.text("/mnt/other") == "/a/other"
    assert t.text("x/mnt/scratch/") == "x/mnt/scratch/"
    assert t.value({"p": ["/mnt/x", 3], "q": "/mnt/y"}) == {"p": ["/a/x", 3], "q": "/a/y"}
    with pytest.raises(UsageError, match="translate"):
        Translation.of({"": "/x/"})


def test_numpy_scalars_arrays_and_other_objects(tmp_path):
    store = tmp_path / "runs"
    record(store, {"lr": 0.1})
    record(store, {"lr": 0.2})

    class Thing:
        pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = runlab.load(
            store,
            columns={
                "n": lambda r: np.int64(len(r.id)),
                "ok": lambda r: np.bool_(r.params["lr"] > 0.15),
                "curve": lambda r: np.array([1.5, 2.5]),
                "pair": lambda r: (1, "a"),
                "thing": lambda r: Thing(),
                "path": lambda r: Path("/x") / r.id,
            },
        )
    assert [str(w.message) for w in caught] == [
        "column 'thing': Thing values cannot be stored in a column; dropped"
    ]
    assert [w.category for w in caught] == [ColumnWarning]
    rows = runs.select("n", "ok", "curve", "pair", "thing", "path")
    assert rows == [
        (1, False, [1.5, 2.5], [1, "a"], None, "/x/1"),
        (1, True, [1.5, 2.5], [1, "a"], None, "/x/2"),
    ]
    assert runs.dtypes["n"] is DType.INT and runs.dtypes["ok"] is DType.BOOL
    assert runs.dtypes["curve"] is DType.JSON and runs.dtypes["thing"] is DType.EMPTY
    assert runs.where("ok").ids() == ["2"]


def test_cell_conversion():
    assert cell(np.float64(0.5)) == (0.5, "float")
    assert cell(float("nan")) == (None, "float")
    assert cell(dt.date(2024, 1, 2)) == ("2024-01-02", "datetime")
    assert cell(pd.NaT) == (None, None)
    assert cell({"b": 1, "a": [1]}) == (json.dumps({"a": [1], "b": 1}), "json")
    assert cell(object())[1] == "?"


def test_a_failing_getter_names_the_column_and_the_run(grid):
    with pytest.raises(UsageError) as err:
        runlab.load(grid, columns={"bad": lambda r: r.params["nope"]})
    assert str(err.value) == "column 'bad': the getter raised KeyError: 'nope' on run 1"


def test_a_computed_column_cannot_take_a_fixed_name(grid):
    with pytest.raises(UsageError, match="'status' is a fixed column of the index"):
        runlab.load(grid, columns={"status": lambda r: "x"})


def test_groupby_and_pivot_see_computed_columns(runs):
    table = runs.groupby(["where"]).agg("score", stats=["mean", "n"])
    assert table.names == ["where", "runs", "score_mean", "score_n"]
    assert table.rows()[0][:2] == ("/data", 12)
    assert table.rows()[0][2] == pytest.approx(86.25, abs=1e-4)


def test_numpy_values_a_run_records_are_numbers_and_json(tmp_path):
    store = tmp_path / "runs"
    summary = {"acc": np.float64(0.9), "curve": np.array([1, 2]), "n": np.int32(3)}
    record(store, {"lr": np.float32(0.5)}, summary)
    runs = runlab.load(store)
    assert runs.select("lr", "acc", "curve", "n") == [(0.5, 0.9, [1, 2], 3)]
    assert [runs.dtypes[n] for n in ("params.lr", "metrics.curve", "metrics.n")] == [
        DType.FLOAT,
        DType.JSON,
        DType.INT,
    ]
