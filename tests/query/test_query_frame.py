"""runlab.load and Runs: the DataFrame's dtypes and values, row order, run lookup."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from query_helpers import ZOO_IDS, record

import runlab
from runlab.errors import RunNotFound
from runlab.index.schema import FIXED_COLUMNS
from runlab.query import DType, Runs
from runlab.query.types import FIXED_DTYPES, dtype_of
from runlab.record.reader import RunReader
from runlab.record.status import RunStatus
from runlab.store import Store


@pytest.fixture(scope="module")
def runs(zoo, load_runs):
    return load_runs(zoo)


@pytest.fixture(scope="module")
def df(runs):
    return runs.df()


def test_dtypes_follow_every_value_seen(df, backend):
    string = pd.Series(["x"]).dtype  # pandas' default string dtype
    # a PostgreSQL mirror holds many stores: its runs also say which one (host:path)
    store = {"store": str(string)} if backend == "postgres" else {}
    assert {name: str(dtype) for name, dtype in df.dtypes.items()} == {
        "id": str(string),
        "name": str(string),
        "status": str(string),
        "start": "datetime64[us, UTC]",
        "end": "datetime64[us, UTC]",
        "duration": "float64",
        "exit_code": "Int64",
        "git_sha": "object",  # never set (git=False): nothing to type
        "git_dirty": "boolean",
        "host": str(string),
        "description": str(string),
        "message": str(string),
        "attempt": "Int64",
        "sweep": "object",
        "dir": str(string),
        **store,
        "params.flag": "boolean",
        "params.layers": "object",  # json: lists
        "params.lr": "float64",  # 1 in one run, 0.1 in others
        "params.mixed": "object",  # int, str and float
        "params.model": str(string),
        "params.seed": "Int64",
        "metrics.acc": "float64",
        "metrics.loss": "float64",  # np.float32 in the summary
        "metrics.nanv": "float64",  # NaN: missing, but numeric
        "metrics.steps": "Int64",  # np.int64 in the summary
        "tags.team": str(string),
    }


def test_values_keep_their_own_types(df):
    assert list(df["id"]) == ZOO_IDS
    mixed = list(df["params.mixed"])
    assert mixed == [1, "a", 2.5, None, None, None, None]
    assert [type(v) for v in mixed[:3]] == [int, str, float]
    assert list(df["params.layers"])[:3] == [[64, 64], [32], None]
    assert df["params.flag"].tolist() == [True, False, True, pd.NA, pd.NA, pd.NA, pd.NA]
    lr = df["params.lr"].tolist()
    assert lr[:5] == [0.1, 0.01, 0.1, 0.01, 1.0] and lr[6] == 0.001
    assert type(lr[4]) is float and math.isnan(lr[5])
    assert df["metrics.loss"][0] == pytest.approx(0.5) and df["metrics.loss"][1] == 0.25
    assert df["metrics.steps"].tolist()[:3] == [10, 20, 30]
    assert df["metrics.nanv"].isna().all()
    assert df["exit_code"].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert df["attempt"].tolist() == [1] * 7
    assert df["status"].tolist() == ["completed"] * 2 + ["failed"] + ["completed"] * 4
    assert df["message"][2] == "ValueError: boom"
    assert df["start"][0].tzinfo is not None and str(df["start"].dt.tz) == "UTC"
    assert (df["end"] >= df["start"]).all()


def test_rows_order_numeric_ids_by_number_then_names(runs):
    assert runs.ids() == ZOO_IDS  # 10 after 5, "best" last
    assert [r.id for r in runs] == ZOO_IDS
    assert runs.table().values("id") == tuple(ZOO_IDS)


def _place(runs: Runs) -> str:
    """Where runs come from, as messages name it: the store folder or the mirror's URL."""
    return str(runs.store.root) if runs.store is not None else runs.index.shown


def test_runs_len_iter_and_lookup(runs, zoo):
    assert len(runs) == 7
    reader = runs[10]
    assert isinstance(reader, RunReader)
    assert reader.params == {"model": "rnn"}
    assert reader.dir == zoo / "10"
    assert runs["10"].id == "10"
    assert runs["best"].summary == {"acc": 0.5}
    assert runs[1].status is RunStatus.COMPLETED
    assert runs[1].metrics().columns.tolist()[:2] == ["step", "time"]
    assert runs[1].stdout == ""  # capture=False
    assert 3 in runs and "best" in runs and 99 not in runs
    with pytest.raises(RunNotFound) as err:
        runs[99]
    assert str(err.value) == f"no run with id or name '99' in {_place(runs)}"
    with pytest.raises(TypeError):
        runs[1.5]


def test_lookup_is_among_the_selected_runs(runs, zoo):
    mlp = runs.where("model == 'mlp'")
    assert mlp["best"].id == "best"
    with pytest.raises(RunNotFound) as err:
        mlp[1]
    assert str(err.value) == f"no run with id or name '1' matching model == 'mlp' in {_place(runs)}"
    assert repr(mlp) == f"<Runs 3 in {_place(runs)} where model == 'mlp'>"


def test_lookup_by_name_takes_the_newest(small, load_runs):
    record(small, {"lr": 1}, name="baseline")
    record(small, {"lr": 2}, name="baseline")
    runs = load_runs(small)
    assert runs["baseline"].id == "5"
    assert runs["baseline"].params == {"lr": 2}


def test_where_takes_a_sqlalchemy_condition(runs):
    lr = runs.sql_table.c["params.lr"]
    assert runs.where(lr > 0.05).ids() == ["1", "3", "5"]


def test_load_takes_a_path_a_string_or_a_store(zoo):
    assert len(runlab.load(str(zoo))) == len(runlab.load(Store.at(zoo))) == 7
    assert isinstance(runlab.load(zoo), Runs)


def test_empty_selection_gives_an_empty_frame_with_the_columns(runs):
    df = runs.where("lr > 100").df()
    assert len(df) == 0
    assert list(df.columns) == list(runs.dtypes)
    assert str(df["params.seed"].dtype) == "Int64"


def test_mixed_bool_and_str_keeps_bools_while_bool_and_int_cannot_tell(small):
    record(small, {"both": True, "bi": True})
    record(small, {"both": "yes", "bi": 2})
    df = runlab.load(small).df()
    assert df["params.both"].tolist()[3:] == [True, "yes"]
    assert type(df["params.both"][3]) is bool
    # The index stores a bool as 0/1: in a column that also holds ints, it reads as 1.
    assert df["params.bi"].tolist()[3:] == [1, 2]


def test_dtype_of_each_set_of_types():
    assert dtype_of(frozenset({"bool"})) is DType.BOOL
    assert dtype_of(frozenset({"int"})) is DType.INT
    assert dtype_of(frozenset({"int", "float"})) is DType.FLOAT
    assert dtype_of(frozenset({"float"})) is DType.FLOAT
    assert dtype_of(frozenset({"str"})) is DType.STR
    assert dtype_of(frozenset({"json"})) is DType.JSON
    assert dtype_of(frozenset({"int", "str"})) is DType.MIXED
    assert dtype_of(frozenset({"bool", "int"})) is DType.MIXED
    assert dtype_of(frozenset()) is DType.EMPTY
    assert tuple(FIXED_DTYPES) == FIXED_COLUMNS


def test_new_runs_show_after_a_new_load(small, load_runs):
    runs = load_runs(small)
    record(small, {"model": "new"})
    assert len(runs) == 3  # the index has not ingested it yet
    assert len(load_runs(small)) == 4


def _loaded(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_runlab_query_is_cheap():
    loaded = _loaded("import runlab.query")
    assert [m for m in ("pandas", "sqlalchemy", "numpy", "pyarrow", "rich") if m in loaded] == []


def test_ls_never_imports_pandas(zoo):
    code = (
        "from runlab.cli import main\n"
        f"try:\n    main(['ls', {str(zoo)!r}, '--where', 'lr > 0', '--groupby', 'model'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
    )
    loaded = _loaded(code)
    assert "sqlalchemy" in loaded
    # numpy (~65 ms to import) sums the groups up: over 100,000 runs that is 0.3 s
    # less than doing it value by value in Python. pandas (~0.4 s) stays out.
    assert [m for m in ("pandas", "pyarrow") if m in loaded] == []


def test_ls_without_groups_never_imports_numpy(zoo):
    code = (
        "from runlab.cli import main\n"
        f"try:\n    main(['ls', {str(zoo)!r}, '--where', 'lr > 0', '--sort', 'acc'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
    )
    loaded = _loaded(code)
    assert [m for m in ("pandas", "numpy", "pyarrow") if m in loaded] == []


def test_a_store_handle_sees_columns_another_reader_ingested(small):
    mine = Store.at(small)
    runlab.load(mine)
    record(small, {"model": "new", "extra": 1})
    runlab.load(Store.at(small))  # another reader ingests the new run and its column
    assert runlab.load(mine).df()["params.extra"].tolist() == [pd.NA] * 3 + [1]
