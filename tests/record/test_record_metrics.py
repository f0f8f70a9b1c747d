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
