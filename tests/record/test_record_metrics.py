"""Metric lines: the fast path and the exact path write the same JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from runlab.record.metrics import format_point, format_points


@pytest.mark.parametrize(
    "values",
    [
        {"loss": 0.1},
        {"loss": 1e-05, "acc": 0.93, "n": 3},
        {"big": 1e16, "neg": -2.5, "zero": 0.0, "int": -7},
        {'we"ird': 1.5, "per%cent": 2, "uni✓": 3.0},
        {},
    ],
)
def test_plain_numbers_round_trip_exactly(values):
    line = format_point(4, 1700000000.123, values)
    assert json.loads(line) == {"step": 4, "time": 1700000000.123, **values}


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"flag": True}, {"flag": True}),
        ({"name": "a b"}, {"name": "a b"}),
        ({"v": [1, 2]}, {"v": [1, 2]}),
        ({"v": np.float32(0.5), "i": np.int64(3)}, {"v": 0.5, "i": 3}),
        ({"v": np.arange(3)}, {"v": [0, 1, 2]}),
        ({"v": math.inf}, {"v": math.inf}),
    ],
)
def test_other_values_take_the_exact_path(values, expected):
    assert json.loads(format_point(1, 2.0, values)) == {"step": 1, "time": 2.0, **expected}


def test_nan_is_written_as_python_json_reads_it():
    got = json.loads(format_point(0, 1.0, {"loss": math.nan}))
    assert math.isnan(got["loss"])


def test_a_non_integer_step_is_kept():
    assert json.loads(format_point(2.5, 1.0, {"x": 1}))["step"] == 2.5
    assert json.loads(format_point(np.int64(9), 1.0, {"x": 1}))["step"] == 9


def test_format_points_tracks_the_last_value_of_each_key():
    last: dict = {}
    text = format_points([(0, 1.0, {"a": 1}), (1, 2.0, {"b": 2.0}), (2, 3.0, {"a": 3})], last)
    assert [json.loads(line)["step"] for line in text.splitlines()] == [0, 1, 2]
    assert last == {"a": 3, "b": 2.0}
    assert format_points([], last) == ""


def _one_by_one(points):
    return "".join(format_point(*p) + "\n" for p in points)


def test_a_batch_is_written_as_its_points_one_by_one():
    points = [
        (0, 100.0001, {"loss": 0.5, "acc": 1}),
        (1, 100.0002, {"loss": 0.25, "acc": 2}),
        (2, 100.0004, {"val": 0.1}),  # another key set
        (3, 100.0006, {"loss": math.nan, "acc": 3}),  # NaN sends its group down the exact path
        (4, 100.0021, {"loss": 0.125, "acc": 4}),
        (5, 100.0021, {"acc": 5, "loss": 0.0625}),  # same keys, other order: same object
    ]
    last: dict = {}
    text = format_points(points, last)
    assert text.count("\n") == len(points)
    got = [json.loads(line) for line in text.splitlines()]
    want = [json.loads(line) for line in _one_by_one(points).splitlines()]
    assert [{k: v for k, v in g.items() if k != "loss"} for g in got] == [
        {k: v for k, v in w.items() if k != "loss"} for w in want
    ]
    assert math.isnan(got[3]["loss"])
    assert [g.get("loss") for g in got if g["step"] != 3] == [0.5, 0.25, None, 0.125, 0.0625]
    assert last == {"loss": 0.0625, "acc": 5, "val": 0.1}


def test_each_point_keeps_its_own_millisecond_in_a_batch():
    stamps = [1700000000.0004, 1700000000.0011, 1700000000.0011, 1700000000.9996, 1700000001.5]
    text = format_points([(i, t, {"x": i}) for i, t in enumerate(stamps)], {})
    assert [line.split('"time": ')[1].split(",")[0] for line in text.splitlines()] == [
        "1700000000.000",
        "1700000000.001",
        "1700000000.001",
        "1700000001.000",
        "1700000001.500",
    ]


def test_a_clock_set_back_mid_batch_still_gives_each_point_its_time():
    stamps = [50.002, 50.001, 49.5, 50.003]
    text = format_points([(i, t, {"x": 1.5}) for i, t in enumerate(stamps)], {})
    assert [json.loads(line)["time"] for line in text.splitlines()] == stamps


@pytest.mark.parametrize(
    "column",
    [
        [1.5, True],  # a bool is not an int here: JSON true, not 1
        [0.5, 10**400],  # an int no float can hold, beside floats
        [1e308, 1e308],  # finite values whose sum overflows
        [0.5, np.float64(0.25)],
    ],
)
def test_batches_that_are_not_plain_numbers_take_the_exact_path(column):
    points = [(i, 1.0, {"v": v}) for i, v in enumerate(column)]
    got = [json.loads(line)["v"] for line in format_points(points, {}).splitlines()]
    assert got == [float(v) if isinstance(v, np.floating) else v for v in column]
    assert [type(g) for g in got] == [
        float if isinstance(v, np.floating) else type(v) for v in column
    ]


def test_a_bool_step_is_written_as_json_true():
    assert json.loads(format_points([(True, 1.0, {"x": 1})], {}))["step"] is True


def test_a_time_before_1970_is_written_as_it_is():
    text = format_points([(0, -0.25, {"x": 1}), (1, 0.5, {"x": 2})], {})
    assert [json.loads(line)["time"] for line in text.splitlines()] == [-0.25, 0.5]
