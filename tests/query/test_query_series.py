"""runs.series: every run's step series of one key as a long DataFrame."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import runlab


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = tmp_path_factory.mktemp("series") / "runs"
    for lr in (0.1, 0.01):
        with runlab.start({"lr": lr}, store=store, capture=False, git=False) as run:
            for step in range(3):
                run.log(step=step, loss=lr * (3 - step))
            run.log(step=3, acc=0.5)  # a point without loss
    with runlab.start({"lr": 1.0}, store=store, capture=False, git=False):
        pass  # no metrics.jsonl at all
    return store


def test_long_frame_of_one_key(store):
    df = runlab.load(store).series("loss")
    assert list(df.columns) == ["id", "step", "time", "value"]
    assert df["id"].tolist() == ["1"] * 3 + ["2"] * 3
    assert df["step"].tolist() == [0, 1, 2, 0, 1, 2]
    assert df["value"].round(6).tolist() == [0.3, 0.2, 0.1, 0.03, 0.02, 0.01]
    assert str(df["step"].dtype) == "int64" and str(df["value"].dtype) == "float64"
    assert (df["time"] > 1.6e9).all()


def test_params_are_repeated_on_every_point(store):
    df = runlab.load(store).where("lr < 1").series("loss", params=["lr"])
    assert list(df.columns) == ["id", "step", "time", "value", "params.lr"]
    assert df["params.lr"].tolist() == [0.1] * 3 + [0.01] * 3


def test_a_key_no_run_logged_is_an_empty_frame(store):
    df = runlab.load(store).series("nope", params=["params.lr"])
    assert len(df) == 0
    assert list(df.columns) == ["id", "step", "time", "value", "params.lr"]


def test_torn_line_is_skipped_with_a_warning(tmp_path):
    store = tmp_path / "runs"
    with runlab.start({"lr": 0.1}, store=store, capture=False, git=False) as run:
        run.log(step=0, loss=1.0)
        run.log(step=1, loss=0.5)
    path = store / "1" / "metrics.jsonl"
    path.write_text(path.read_text() + '{"step": 2, "time": 1.0, "lo')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = runlab.load(store).series("loss")
    assert df["value"].tolist() == [1.0, 0.5]
    assert any("torn or damaged line skipped" in str(w.message) for w in caught)


def test_values_of_other_types_stay_objects(tmp_path):
    store = tmp_path / "runs"
    run_dir = store / "1"
    with runlab.start({"lr": 0.1}, store=store, capture=False, git=False) as run:
        run.log(step=0, phase="warmup")
        run.log(step=1, phase="main")
    points = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [p["phase"] for p in points] == ["warmup", "main"]
    df = runlab.load(store).series("phase")
    assert df["value"].tolist() == ["warmup", "main"] and df["value"].dtype == object
    assert isinstance(df, pd.DataFrame)
