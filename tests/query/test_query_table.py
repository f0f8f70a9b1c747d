"""RunTable's verbs (sort, tail, group, select) and View, the shape of a listing."""

from __future__ import annotations

import math

import pytest

import runlab
from runlab.errors import ColumnNotFound, UsageError
from runlab.query import Column, DType, RunTable, View
from runlab.query.view import default_columns, varying_columns, varying_params


@pytest.fixture(scope="module")
def table(zoo):
    return runlab.load(zoo).table()


def ids(table: RunTable) -> list[str]:
    return list(table.values("id"))


def test_sort_ascending_missing_last(table):
    assert ids(table.sort(["lr"])) == ["best", "2", "4", "1", "3", "5", "10"]


def test_sort_descending_missing_still_last_and_stable(table):
    assert ids(table.sort(["params.lr"], descending=True)) == [
        "5",
        "1",
        "3",
        "2",
        "4",
        "best",
        "10",
    ]


def test_sort_by_several_columns(table):
    got = table.sort(["model", "acc"], descending=True)
    assert ids(got) == ["10", "5", "4", "best", "3", "2", "1"]
    assert ids(table.sort(["seed", "lr"])) == ["1", "3", "2", "4", "best", "5", "10"]


def test_sort_mixed_column_numbers_then_strings(table):
    assert ids(table.sort(["mixed"])) == ["1", "3", "2", "4", "5", "10", "best"]


def test_sort_names_a_missing_column(table):
    with pytest.raises(ColumnNotFound) as err:
        table.sort(["acc", "nope"])
    assert str(err.value).startswith("unknown column 'nope'")


def test_tail(table):
    assert ids(table.tail(2)) == ["10", "best"]
    assert ids(table.sort(["acc"]).tail(3)) == ["4", "5", "10"]
    assert ids(table.tail(0)) == []
    assert ids(table.tail(100)) == ids(table)


def test_group_mean_std_count_exactly(table):
    grouped = table.group(["model"], over=["acc", "model", "flag", "layers"])
    assert grouped.names == [
        "params.model",
        "runs",
        "metrics.acc_mean",
        "metrics.acc_std",
        "metrics.acc_count",
        "params.flag_count",
        "params.layers_count",
    ]
    assert grouped.rows() == [
        ("cnn", 3, 2.0, 1.0, 3, 3, 2),
        ("mlp", 3, 2.5, math.sqrt(3.25), 3, 0, 0),
        ("rnn", 1, None, None, 0, 0, 0),
    ]
    assert [c.dtype for c in grouped.columns] == [
        DType.STR,
        DType.INT,
        DType.FLOAT,
        DType.FLOAT,
        DType.INT,
        DType.INT,
        DType.INT,
    ]


def test_group_matches_pandas(zoo):
    df = runlab.load(zoo).df()
    expected = df.groupby("params.model")["metrics.acc"].agg(["mean", "std", "count"])
    grouped = runlab.load(zoo).table().group(["model"], over=["acc"])
    for model, mean, std, count in zip(
        grouped.values("params.model"),
        grouped.values("metrics.acc_mean"),
        grouped.values("metrics.acc_std"),
        grouped.values("metrics.acc_count"),
        strict=True,
    ):
        row = expected.loc[model]
        assert count == row["count"]
        if count:
            assert mean == pytest.approx(row["mean"], rel=1e-15)
            assert std == pytest.approx(row["std"], rel=1e-15)


def test_group_keeps_missing_keys_last_and_orders_mixed_keys(table):
    grouped = table.group(["mixed"], over=[])
    assert grouped.rows() == [(1, 1), (2.5, 1), ("a", 1), (None, 4)]
    by_lists = table.group(["layers"], over=["acc"])
    assert by_lists.values("params.layers") == ([32], [64, 64], None)
    assert by_lists.values("runs") == (1, 1, 5)


def test_group_by_two_keys(table):
    grouped = table.group(["model", "seed"], over=["acc"])
    assert [r[:3] for r in grouped.rows()] == [
        ("cnn", 1, 2),
        ("cnn", 2, 1),
        ("mlp", 2, 1),
        ("mlp", 3, 2),
        ("rnn", None, 1),
    ]
    assert grouped.values("metrics.acc_mean") == (2.0, 2.0, 3.0, 2.25, None)
    assert grouped.values("metrics.acc_std")[3] == math.sqrt((4 - 2.25) ** 2 + (0.5 - 2.25) ** 2)


def test_group_of_an_empty_table(table):
    empty = table.take([])
    grouped = empty.group(["model"], over=["acc"])
    assert len(grouped) == 0
    assert grouped.names[:2] == ["params.model", "runs"]


def test_select_resolves_short_names_and_drops_repeats(table):
    got = table.select(["id", "acc", "metrics.acc", "lr"])
    assert got.names == ["id", "metrics.acc", "params.lr"]
    with pytest.raises(ColumnNotFound) as err:
        table.select(["id", "acc_mean"])
    assert "acc_mean" in str(err.value)


def test_select_after_group_takes_aggregates_and_their_source(table):
    grouped = table.group(["model"], over=["acc", "lr"])
    assert grouped.select(["model", "acc_mean"]).names == ["params.model", "metrics.acc_mean"]
    assert grouped.select(["metrics.acc"]).names == [
        "metrics.acc_mean",
        "metrics.acc_std",
        "metrics.acc_count",
    ]
    assert grouped.select(["lr"]).names == ["params.lr_mean", "params.lr_std", "params.lr_count"]
    with pytest.raises(ColumnNotFound) as err:
        grouped.select(["metrics.acc_median"])
    assert str(err.value) == (
        "unknown column 'metrics.acc_median'; "
        "did you mean metrics.acc_mean, metrics.acc_std, metrics.acc_count?"
    )


def test_records_are_dicts_by_column_name(table):
    first = table.select(["id", "lr", "layers", "flag"]).records()[0]
    assert first == {"id": "1", "params.lr": 0.1, "params.layers": [64, 64], "params.flag": True}


def test_default_columns_show_message_only_when_a_run_has_one(table):
    names = default_columns(table)
    assert names[:5] == ["id", "name", "status", "start", "duration"]
    assert names[-1] == "message"
    assert "host" not in names and "git_sha" not in names
    completed = table.take([0, 1])
    assert "message" not in default_columns(completed)


def test_varying_params_are_those_that_differ(table):
    cnn = table.take([0, 1, 2])  # runs 1, 2, 3: all cnn
    assert varying_params(cnn) == [
        "params.flag",
        "params.layers",
        "params.lr",
        "params.mixed",
        "params.seed",
    ]
    assert varying_columns(table.take([0, 2])) == [
        "id",
        "name",
        "status",
        "params.layers",  # [64, 64] and missing
        "params.mixed",
        "metrics.acc",
        "metrics.loss",
        "metrics.nanv",
        "metrics.steps",
    ]
    assert varying_params(table.take([0])) == []


def test_view_order_group_sort_tail_columns(table):
    view = View(groupby=("model",), sort=("acc_mean",), descending=True, tail=2)
    got = view.apply(table)
    assert got.names[:4] == ["params.model", "runs", "metrics.acc_mean", "metrics.acc_std"]
    assert got.values("params.model") == ("cnn", "rnn")  # mlp 2.5, cnn 2.0, rnn missing
    narrow = View(groupby=("model",), columns=("model", "runs", "acc_mean")).apply(table)
    assert narrow.rows() == [("cnn", 3, 2.0), ("mlp", 3, 2.5), ("rnn", 1, None)]


def test_view_group_leaves_out_params_that_never_change(table):
    cnn = table.take([0, 1, 2])
    names = View(groupby=("lr",)).apply(cnn).names
    assert "params.model_count" not in names  # cnn everywhere
    assert "params.seed_mean" in names and "duration_mean" in names


def test_view_rejects_columns_with_varying_and_negative_tail():
    with pytest.raises(UsageError) as err:
        View(columns=("id",), varying=True)
    assert str(err.value) == "--columns and --varying both choose the columns: use one"
    with pytest.raises(UsageError):
        View(tail=-1)


def test_from_rows_converts_to_each_dtype():
    cols = [
        Column("b", "params", DType.BOOL),
        Column("f", "params", DType.FLOAT),
        Column("j", "params", DType.JSON),
        Column("m", "params", DType.MIXED, types=frozenset({"bool", "str", "json"})),
    ]
    rows = [(1, 1, "[1]", 1), (0, 2.5, '{"a": 1}', "x"), (None, None, None, "[2]")]
    table = RunTable.from_rows(cols, rows)
    assert table.rows() == [
        (True, 1.0, [1], True),
        (False, 2.5, {"a": 1}, "x"),
        (None, None, None, [2]),
    ]
    assert type(table.values("f")[0]) is float
    assert len(RunTable.from_rows(cols, [])) == 0
