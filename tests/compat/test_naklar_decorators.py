"""naklar's decorators (getters, setters, extra columns), ``translate_path`` and ``load_joblib``.

The settings hold an ``output`` path ending in the start time, as in naklar's document
(``/home/user/results/exp.39034.21102015141054``). naklar applied getters only to row
objects, so ``select('output')`` failed; here decorated values are columns.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import sqlalchemy
from naklar_helpers import write_pickles

import runlab
from runlab.compat.naklar import decorator, experiment, util
from runlab.compat.naklar.decorator import PathWarning
from runlab.errors import UsageError
from runlab.query.types import DType

RUNS = {
    "exp.39034.21102015141054": 0.1,
    "exp.89045.21102015113236": 0.2,
}


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    experiment.reset()
    yield
    experiment.reset()


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``./results/exp.*/conf.pkl`` whose ``output`` says where the cluster wrote it."""
    monkeypatch.chdir(tmp_path)
    settings = {
        name: {"output": f"/home/user/results/{name}", "alpha": alpha}
        for name, alpha in RUNS.items()
    }
    return write_pickles(tmp_path / "results", settings)


def set_startdate(self, v):
    pth = self.output
    ts = pth[-14:]
    ts = (ts[:2], ts[2:4], ts[4:8], ts[8:10], ts[10:12], ts[12:])
    ts = pd.to_datetime("{}.{}.{} {}:{}:{}".format(*ts), dayfirst=True)
    return ts


def test_a_getter_translates_paths_in_select_filters_and_rows(results):
    output_path = partial(
        decorator.translate_path, ptrn="/home/user/results/", replace=f"{results}/"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PathWarning)  # every translated path exists
        experiment.initialise(
            root_dir="./results", autoload=True, decorators={"output": (output_path,)}
        )
    here = [str(results / name) for name in RUNS]
    assert [r.output for r in experiment.select("output")] == here
    assert [e.output for e in experiment.select()] == here
    assert [r.alpha for r in experiment.select("alpha", experiment.E.output == here[1])] == [0.2]
    assert [r.alpha for r in experiment.select("alpha", output=here[0])] == [0.1]


def test_a_setter_adds_a_datetime_column(results):
    startdate = (None, set_startdate, sqlalchemy.Column("startdate", sqlalchemy.DateTime))
    experiment.initialise(root_dir="./results", autoload=True, decorators={"startdate": startdate})
    assert [tuple(r) for r in experiment.select("alpha", "startdate")] == [
        (0.1, dt.datetime(2015, 10, 21, 14, 10, 54)),
        (0.2, dt.datetime(2015, 10, 21, 11, 32, 36)),
    ]
    assert list(experiment.E) == ["alpha", "output", "startdate"]
    assert experiment.select()[1].startdate == dt.datetime(2015, 10, 21, 11, 32, 36)
    table = experiment.initialise("./results", decorators={"startdate": startdate})
    assert table.runs.dtypes["params.startdate"] is DType.DATETIME
    assert table.runs.df()["params.startdate"].dt.hour.tolist() == [14, 11]


def test_the_documents_restricted_pickles_with_a_getter_and_no_setter(tmp_path):
    root = tmp_path / "lustre" / "results"
    write_pickles(
        root,
        {"7": {"output": "/mnt/scratch/results/7", "seed": 7, "notes": "long text"}},
        name="args.final",
    )
    restrict_keys = ["output", "seed"]
    home_path = partial(
        decorator.translate_path,
        ptrn="/mnt/scratch/results/",
        replace="/usr/local/scratch/results/",
    )
    with pytest.warns(PathWarning, match="'/usr/local/scratch/results/7' does not exist"):
        experiment.initialise(
            str(root),
            autoload=True,
            dict_file="args.final",
            restrict_keys=restrict_keys,
            decorators={"output": (home_path, None)},
        )
    assert [tuple(r) for r in experiment.select("output", "seed")] == [
        ("/usr/local/scratch/results/7", 7)
    ]
    assert list(experiment.E) == ["output", "seed"]


def test_setter_then_getter_on_a_stored_key(results):
    def setter(self, v):
        return v.upper()

    def getter(self, v):
        return f"{v} (alpha {self.alpha})"

    experiment.initialise("./results", decorators={"output": (getter, setter)})
    assert [r.output for r in experiment.select("output")] == [
        f"/HOME/USER/RESULTS/{name.upper()} (alpha {alpha})" for name, alpha in RUNS.items()
    ]


def test_decorators_leave_the_other_runs_of_a_store_alone(results, tmp_path):
    store = tmp_path / "store"
    with runlab.start({"lr": 0.1}, store=store, git=False, capture=False):
        pass
    experiment.connect(f"sqlite:///{store}/index.db")
    startdate = (None, set_startdate, sqlalchemy.Column("startdate", sqlalchemy.DateTime))
    experiment.initialise("./results", decorators={"startdate": startdate})  # no output: no call
    assert len(experiment.select("startdate")) == 2
    assert runlab.load(store).select("lr")[0].lr == 0.1


@pytest.mark.parametrize(
    ("decorators", "message"),
    [
        ({"outptu": (str,)}, r"decorators\['outptu'\]: no settings file under .* has 'outptu'"),
        ({"output": str}, r"give \(getter,\), \(getter, setter\) or \(getter, setter, column\)"),
        ({"output": (None, None, None, None)}, "not \\(None, None, None, None\\)"),
        ({3: (str,)}, "3 is not a settings key"),
        ([("output", (str,))], "give a dict"),
    ],
)
def test_bad_decorators_are_usage_errors(results, decorators, message):
    with pytest.raises(UsageError, match=message):
        experiment.initialise("./results", decorators=decorators)
    assert not hasattr(experiment, "E")


def test_a_failing_getter_names_the_column_and_the_run(results):
    def broken(self, v):
        raise KeyError("nope")

    with pytest.raises(UsageError, match=r"column 'params.output': the getter raised KeyError"):
        experiment.initialise("./results", decorators={"output": (broken,)})


def test_translate_path():
    home = os.path.expanduser("~")
    translate = decorator.translate_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PathWarning)
        assert translate(None, "/mnt/a//b/../c", r"^/mnt/(\w)", r"/data/\1") == "/data/a/c"
        assert translate(None, "/mnt/x", "/mnt/", "~/") == os.path.join(home, "x")
    assert translate(None, None, "/mnt/", "/data/") is None
    with pytest.raises(UsageError, match=r"ptrn='\(' is not a regular expression"):
        translate(None, "/mnt/x", "(", "/data/")
    with pytest.warns(PathWarning, match="'/nowhere/x' does not exist"):
        translate(None, "/mnt/x", "/mnt/", "/nowhere/")


def test_load_joblib_replaces_mapped_arrays_by_their_file_and_closes_them(tmp_path):
    path = tmp_path / "conf.jbl"
    joblib.dump({"C": 1.0, "pred": np.arange(1000), "labels": np.array(["a", None])}, path)
    data = util.load_joblib(str(path))
    assert data["C"] == 1.0 and data["pred"] == str(path)
    assert data["labels"].tolist() == ["a", None]  # object arrays cannot be mapped: kept
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(path) not in maps.read_text()
    path.unlink()  # nothing holds it open
    joblib.dump([1, 2], path)
    assert util.load_joblib(path) == [1, 2]  # not a dict: as loaded
