"""The fast paths of grouping and sorting give what the plain definitions give.

Each is checked against a slow reference written here the obvious way: ``Summary.of``
per group for ``stat_matrix``, a dict of row lists for ``Groups``, one stable sort per
key (last key first) for ``RunTable.sort``, a full SQL scan for ``varying_params``.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
from query_helpers import fail, record

import runlab
from runlab.query import Column, DType, RunTable
from runlab.query.analysis import varying_params
from runlab.query.stats import Summary, stat_matrix
from runlab.query.table import Groups, order_key


def stat_columns(values, ids, groups, fields):
    """``stat_matrix`` of one column: its statistics by field."""
    (result,) = stat_matrix(np.array(values, dtype=np.float64).reshape(-1, 1), ids, groups, fields)
    return result


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


SAMPLES = [[], [None], [2.0], [1.0, 3.0], [0.82, 0.80, 0.84], [5, None, 7, 9], [1e9, 1e9 + 1]]


@pytest.mark.parametrize("fields", [list(Summary._fields), ["std", "mean"], ["ci_high", "n"]])
def test_stat_columns_are_summary_of_each_group(fields):
    values = [v for sample in SAMPLES for v in sample]
    ids = [g for g, sample in enumerate(SAMPLES) for _ in sample]
    got = stat_columns(values, ids, len(SAMPLES), fields)
    assert list(got) == fields
    for g, sample in enumerate(SAMPLES):
        expected = Summary.of([v for v in sample if v is not None])
        for field in fields:
            assert close(got[field][g], getattr(expected, field)), (g, field)
    if "n" in fields:
        assert got["n"] == (0, 0, 1, 2, 3, 3, 2)


def test_stat_columns_groups_need_not_be_consecutive():
    got = stat_columns([1.0, 10.0, 3.0, 20.0], [0, 1, 0, 1], 2, ["mean", "std", "min", "max"])
    assert got["mean"] == (2.0, 15.0)
    assert got["std"] == (2**0.5, 50**0.5)
    assert (got["min"], got["max"]) == ((1.0, 10.0), (3.0, 20.0))


def test_stat_columns_of_no_groups_and_a_bad_field():
    assert stat_columns([], [], 0, ["mean", "n"]) == {"mean": (), "n": ()}
    with pytest.raises(ValueError, match="no statistic 'median'"):
        stat_columns([1.0], [0], 1, ["median"])


def table_of(**columns: tuple) -> RunTable:
    dtypes = {int: DType.INT, float: DType.FLOAT, str: DType.STR, bool: DType.BOOL}
    cols = []
    for name, values in columns.items():
        kinds = {type(v) for v in values if v is not None}
        dtype = dtypes[kinds.pop()] if len(kinds) == 1 else DType.MIXED
        cols.append(Column(name, "params", dtype))
    return RunTable(tuple(cols), tuple(columns.values()))


def test_groups_number_keys_in_first_seen_order():
    t = table_of(a=("x", "y", "x", None, "y", None), b=(1, 2, 1, 3, 2, 3))
    groups = Groups.of(t, ["a", "b"])
    assert groups.ids == [0, 1, 0, 2, 1, 2]
    assert groups.firsts == [0, 1, 3]
    assert groups.members() == [[0, 2], [1, 4], [3, 5]]
    assert groups.first_values(t, ["a", "b"]) == [("x", "y", None), (1, 2, 3)]
    assert Groups.of(t, []).ids == [0] * 6


def test_groups_of_json_values_go_by_their_text():
    col = Column("layers", "params", DType.JSON)
    t = RunTable((col,), (([64, 64], [32], [64, 64], {"a": 1}, {"a": 1}),))
    assert Groups.of(t, ["layers"]).ids == [0, 1, 0, 2, 2]


def reference_sort(table: RunTable, names: list[str], descending: bool) -> list[int]:
    """The definition: one stable pass per key, last key first, missing values last."""
    order = list(range(len(table)))
    for name in reversed(names):
        values = table.values(name)
        present = [i for i in order if values[i] is not None]
        missing = [i for i in order if values[i] is None]
        present.sort(key=lambda i: order_key(values[i]), reverse=descending)
        order = present + missing
    return order


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_sort_in_one_pass_is_the_stable_multi_pass_sort(seed, descending):
    rng = random.Random(seed)
    n = 60
    t = table_of(
        a=tuple(rng.choice(["x", "y", None]) for _ in range(n)),
        b=tuple(rng.choice([1, 2.5, None, -3]) for _ in range(n)),
        c=tuple(rng.choice([1, "s", None, 2]) for _ in range(n)),
        i=tuple(range(n)),
    )
    for names in (["a"], ["b", "a"], ["c", "b"], ["a", "b", "c"]):
        got = t.sort(names, descending=descending).values("i")
        assert list(got) == reference_sort(t, names, descending), names


@pytest.fixture(scope="module")
def late(tmp_path_factory: pytest.TempPathFactory):
    """250 runs whose param b and tag t first differ after the rows the probe reads."""
    store = tmp_path_factory.mktemp("late") / "runs"
    for i in range(250):
        tags = {"t": "late"} if i == 249 else {"t": "same"}
        record(store, {"a": i % 2, "b": 7 if i < 240 else 8, "c": 1}, tags=tags)
    return store


def test_varying_params_found_beyond_the_probe(late):
    runs = runlab.load(late)
    assert varying_params(runs) == ["params.a", "params.b"]
    assert varying_params(runs, ("params", "tags")) == ["params.a", "params.b", "tags.t"]
    assert varying_params(runs.where("params.b == 7")) == ["params.a"]


def test_groupby_over_warns_of_a_repeated_sample_once(late):
    runs = runlab.load(late).where("params.b == 7")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = runs.groupby(over="params.c").agg("params.a", stats=("mean", "n"))
    assert [str(w.message) for w in caught] == [
        "group params.a=0: several runs have params.c=1; each counts as a sample"
    ]
    assert table.rows() == [(0, 120, 0.0, 120), (1, 120, 1.0, 120)]


def test_varying_params_past_the_rounds_of_narrowing(tmp_path):
    """Twelve params, each differing in one late run: more than the narrowing asks for."""
    store = tmp_path / "runs"
    for i in range(215):
        params = {f"p{k:02d}": int(i == 201 + k) for k in range(12)}
        record(store, {**params, "c": "same", "d": None if i == 210 else 1})
    runs = runlab.load(store)
    assert varying_params(runs) == ["params.d", *(f"params.p{k:02d}" for k in range(12))]
    assert varying_params(runs.where("params.p00 == 0")) == [
        "params.d",
        *(f"params.p{k:02d}" for k in range(1, 12)),
    ]


def test_stat_columns_of_empty_groups_first_between_and_last():
    got = stat_columns([1.0, 3.0, 5.0], [1, 1, 3], 5, ["n", "mean", "std", "min", "max"])
    assert got["n"] == (0, 2, 0, 1, 0)
    assert got["mean"] == (None, 2.0, None, 5.0, None)
    assert got["std"] == (None, 2**0.5, None, None, None)
    assert (got["min"], got["max"]) == ((None, 1.0, None, 5.0, None), (None, 3.0, None, 5.0, None))


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory):
    """Configurations over seeds whose params compare in every way grouping must know."""
    store = tmp_path_factory.mktemp("configs") / "runs"
    acc = iter(0.5 + i / 100 for i in range(100))
    for seed in range(3):
        record(store, {"model": "cnn", "lr": 0.1, "seed": seed}, {"acc": next(acc)})
    record(store, {"model": "cnn", "lr": 1, "seed": 0}, {"acc": next(acc)})  # 1 is 1.0
    record(store, {"model": "cnn", "lr": 1.0, "seed": 1}, {"acc": next(acc)})
    record(store, {"model": "mlp", "drop": None, "seed": 0}, {"acc": next(acc)})  # None is
    record(store, {"model": "mlp", "seed": 1}, {"acc": next(acc)})  # ... a missing param
    for layers, seed in (([64, 64], 0), ([64, 64], 1), ([32], 0)):
        record(store, {"model": "mlp", "layers": layers, "seed": seed}, {"acc": next(acc)})
    for flag, seed in ((True, 0), (True, 1), (False, 0)):
        record(store, {"model": "rnn", "flag": flag, "seed": seed}, {"acc": next(acc)})
    record(store, {"model": "gru", "seed": 0}, {"acc": next(acc)})
    record(store, {"model": "gru", "seed": 0}, {"acc": None})  # a repeated seed: a warning
    fail(store, {"model": "cnn", "lr": 0.1, "seed": 3}, {"acc": next(acc)})
    return store


@pytest.mark.parametrize("listed", [(), ("params.model",), ("status",)])
def test_groupby_over_seed_by_the_stored_config_key_is_the_plain_grouping(configs, listed):
    from runlab.index.rows import CONFIG_COLUMN

    fast = runlab.load(configs)
    plain = runlab.load(configs, translate={"/nowhere/": "/elsewhere/"})  # no stored key
    assert CONFIG_COLUMN in fast.sql_table.c and CONFIG_COLUMN not in plain.sql_table.c
    results = []
    for runs in (fast, plain):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = runs.groupby(list(listed), over="params.seed").agg("acc")
        results.append((table.names, table.rows(), [str(w.message) for w in caught]))
    assert results[0] == results[1]
    names, rows, messages = results[0]
    assert names[: len(listed)] == list(listed)
    assert len(rows) == (9 if listed == ("status",) else 8)
    assert len(rows) == (9 if listed == ("status",) else 8)  # a failed run is apart by status
    by_model = {}
    for row in rows:
        by_model.setdefault(row[names.index("params.model")], []).append(row[names.index("runs")])
    assert by_model["cnn"][-2:] == [2, 1] if listed == ("status",) else by_model["cnn"] == [4, 2]
    assert by_model["mlp"] == [1, 2, 2]  # [32], [64, 64], and None beside a missing drop
    assert by_model["rnn"] == [1, 2] and by_model["gru"] == [2]
    assert len(messages) == 1 and "params.model='gru'" in messages[0]
    assert messages[0].endswith(": several runs have params.seed=0; each counts as a sample")


@pytest.mark.parametrize("seeds", [(0, 1, 2, 0), (0, 10**6, 0), (5, -3, 5)])
def test_a_repeated_integer_sample_is_found_whatever_the_spread(tmp_path, seeds):
    store = tmp_path / "runs"
    for seed in seeds:
        record(store, {"model": "a", "seed": seed}, {"acc": 0.5})
    record(store, {"model": "b", "seed": seeds[1]}, {"acc": 0.5})
    runs = runlab.load(store)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs.groupby(over="params.seed").agg("acc")
    assert [str(w.message) for w in caught] == [
        f"group params.model='a': several runs have params.seed={seeds[0]}; each counts as a sample"
    ]
