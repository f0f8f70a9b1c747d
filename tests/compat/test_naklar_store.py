"""Where naklar was wrong, runlab is right; where the experiments are kept; errors.

Small trees of pickled settings dicts, written by the tests: each shows one defect of
naklar's (types from the folder read first, NumPy floats as text, a second initialise
failing, duplicate rows on a kept database, a JSON file unpickled) and its fix.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from naklar_helpers import tree_files, write_pickles

import runlab
from runlab.compat.naklar import experiment
from runlab.compat.naklar.experiment import NotInitialised
from runlab.errors import ColumnNotFound, UsageError


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """No table and no connection before or after each test."""
    experiment.reset()
    yield
    experiment.reset()


def test_column_types_come_from_every_value_not_the_folder_read_first(tmp_path):
    # naklar typed a column from the first dict its directory walk met: C was an
    # Integer column or a Float one depending on which folder came first.
    for first, second in ((1, 0.5), (0.5, 1)):
        root = write_pickles(
            tmp_path / f"first-{first}",
            {"a": {"C": first, "alpha": "auto"}, "b": {"C": second, "alpha": 0.1}},
        )
        experiment.initialise(root)
        rows = experiment.select("C", "alpha")
        assert [tuple(r) for r in rows] == [(float(first), "auto"), (float(second), 0.1)]
        assert [type(r.C) for r in rows] == [float, float]
        assert [type(r.alpha) for r in rows] == [str, float]  # each value keeps its type


def test_lists_stay_lists_and_arrays_are_described(tmp_path):
    root = write_pickles(
        tmp_path / "results", {"a": {"layers": [64, 32], "pred": np.zeros((3, 2))}}
    )
    experiment.initialise(root)
    assert experiment.select()[0].as_dict() == {
        "layers": [64, 32],
        "pred": "ndarray(shape=(3, 2), dtype=float64)",
    }


def test_numpy_floats_are_numbers_and_compare_as_numbers(tmp_path):
    # naklar stored np.float64 (what sklearn's metrics return) as text: '10.0' < '9.5'.
    root = write_pickles(
        tmp_path / "results",
        {
            str(i): {"loss": np.float64(loss), "n": np.int64(i)}
            for i, loss in enumerate([10.0, 2.0])
        },
    )
    experiment.initialise(root)
    assert [tuple(r) for r in experiment.select("n", "loss")] == [(0, 10.0), (1, 2.0)]
    assert [r.n for r in experiment.select("n", experiment.E.loss > 9.5)] == [0]
    assert [r.n for r in experiment.select("n", loss=np.float64(2.0))] == [1]


def test_rows_come_in_natural_folder_order(tmp_path):
    root = write_pickles(tmp_path / "results", {str(i): {"i": i} for i in (10, 2, 1, 11, 0)})
    experiment.initialise(root)
    assert [r.i for r in experiment.select("i")] == [0, 1, 2, 10, 11]


def test_files_are_read_by_kind_and_any_other_name_as_a_pickle(tmp_path):
    root = tmp_path / "results"
    write_pickles(root, {"a": {"k": 1}, "b": {"k": 2}}, name="args.final")
    write_pickles(root, {"a": {"k": 3}}, name="settings.pickle")
    (root / "a" / "conf.json").write_text(json.dumps({"k": 4}))
    (root / "b" / "conf.yaml").write_text("k: 5\n")
    for dict_file, ks in [
        ("args.final", [1, 2]),
        ("settings.pickle", [3]),
        ("conf.json", [4]),  # naklar unpickled it without a load_func, and failed
        ("conf.yaml", [5]),
    ]:
        experiment.initialise(root, dict_file=dict_file)
        assert [r.k for r in experiment.select("k")] == ks


def test_load_func_gets_a_string_path_and_restrict_keys_keeps_only_those(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"x": 1, "y": 2, "z": 3}})
    seen = []

    def load(fpath):
        seen.append(fpath)
        with open(fpath, "rb") as fh:
            return pickle.load(fh)

    experiment.initialise(root, load_func=load, restrict_keys=["x", "z"])
    assert seen == [str(root.resolve() / "a" / "conf.pkl")]
    assert list(experiment.E) == ["x", "z"]
    assert experiment.select() == [experiment.select()[0]]
    assert experiment.select()[0].as_dict() == {"x": 1, "z": 3}


def test_a_second_initialise_needs_no_reset_and_starts_a_fresh_table(tmp_path):
    first = write_pickles(tmp_path / "one", {"a": {"k": 1}})
    second = write_pickles(tmp_path / "two", {"a": {"j": 2}, "b": {"j": 3}})
    experiment.initialise(first)
    scratch = Path(experiment._engine.url.database).parent
    experiment.initialise(second)
    assert not scratch.exists()  # the first scratch store is gone
    assert list(experiment.E) == ["j"]
    assert [r.j for r in experiment.select("j")] == [2, 3]


def test_a_connected_store_is_kept_and_read_again_without_duplicates(tmp_path):
    # naklar appended every dict again on each initialise into a kept database.
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}, "b": {"k": 2}})
    store = tmp_path / "store"
    experiment.connect(f"sqlite:///{store}/index.db")
    experiment.initialise(root)
    assert (store / "index.db").is_file()
    ids = runlab.load(store).ids()
    assert len(ids) == 2
    write_pickles(root, {"b": {"k": 20}, "c": {"k": 3}})
    experiment.initialise(root)
    assert [r.k for r in experiment.select("k")] == [1, 20, 3]
    assert runlab.load(store).ids() == [*ids, str(int(ids[-1]) + 1)]  # b updated in place
    experiment.reset()
    assert store.is_dir()  # kept: runlab ls lists it
    assert [r.k for r in runlab.load(store).select("k")] == [1, 20, 3]


def test_the_table_is_this_trees_runs_only(tmp_path):
    store = tmp_path / "store"
    with runlab.start({"lr": 0.1}, store=store, git=False, capture=False) as run:
        run.summary(acc=0.9)
    one = write_pickles(tmp_path / "one", {"a": {"k": 1}})
    two = write_pickles(tmp_path / "two", {"a": {"k": 2}})
    experiment.connect(f"sqlite:///{store}/index.db")
    experiment.initialise(one)
    experiment.initialise(two)
    assert [tuple(r) for r in experiment.select("k")] == [(2,)]
    assert list(experiment.E) == ["k"]  # not lr: that run is not one of this tree's
    assert len(runlab.load(store)) == 3


def test_autoload_false_imports_nothing_and_shows_what_the_store_holds(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}})
    experiment.initialise(root, autoload=False)
    assert experiment.select() == []
    store = tmp_path / "store"
    experiment.connect(f"sqlite:///{store}/index.db")
    experiment.initialise(root)
    write_pickles(root, {"a": {"k": 2}})
    experiment.initialise(root, autoload=False)
    assert [r.k for r in experiment.select("k")] == [1]  # the file's change is not read


def test_connect_through_initialise_and_reset_forgets_it(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}})
    experiment.initialise(root, f"sqlite:///{tmp_path}/kept/index.db")
    assert Path(experiment._engine.url.database).parent == tmp_path / "kept"
    experiment.reset()
    experiment.initialise(root)
    assert Path(experiment._engine.url.database).parent != tmp_path / "kept"


def test_nothing_is_written_beside_the_results(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}, "b": {"k": 2}})
    before = tree_files(tmp_path)
    experiment.initialise(root)
    experiment.select()
    experiment.reset()
    assert tree_files(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["results"]


def test_runlab_columns_are_there_too_and_e_is_sqlalchemy(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}})
    experiment.initialise(root)
    row = experiment.select("k", "status", "name", "dir")[0]
    assert (row.k, row.status, row.name) == (1, "completed", "a")
    assert Path(row.dir).parent == Path(experiment._engine.url.database).parent
    table = experiment.initialise(root)
    assert table.runs.select("params.k")[0].k == 1  # the runlab selection underneath


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: experiment.select("k"), NotInitialised, "call experiment.initialise"),
        (lambda: experiment.E, NotInitialised, "call experiment.initialise"),
        (
            lambda: experiment.connect("postgresql://db/x"),
            UsageError,
            "give sqlite:///path/to/store/index.db",
        ),
        (
            lambda: experiment.connect("sqlite:///results.db"),
            UsageError,
            "keeps its index as index.db in the store's folder",
        ),
        (lambda: experiment.connect("nope"), UsageError, "not an SQLAlchemy URL"),
        (lambda: experiment.connect(echo=True), UsageError, r"engine options \(echo\)"),
        (
            lambda: experiment.initialise("no/such/dir"),
            UsageError,
            "cannot import 'no/such/dir': it does not exist",
        ),
        (
            lambda: experiment.initialise(".", load_func="json.load"),
            UsageError,
            "give a function",
        ),
        (
            lambda: experiment.initialise(".", restrict_keys="k"),
            UsageError,
            "give a list of keys",
        ),
    ],
)
def test_usage_errors_are_one_line(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_hasattr_e_is_false_before_initialise_and_engine_is_none():
    assert not hasattr(experiment, "E")
    assert experiment._engine is None


def test_unknown_columns_and_conditions_of_an_older_e_are_refused(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"kernel": "rbf"}})
    experiment.initialise(root)
    with pytest.raises(ColumnNotFound, match=r"did you mean params\.kernel"):
        experiment.select("kernal")
    with pytest.raises(AttributeError, match="kernal"):
        experiment.E.kernal  # noqa: B018
    old = experiment.E.kernel == "rbf"
    experiment.initialise(root)
    with pytest.raises(UsageError, match="earlier initialise"):
        experiment.select("kernel", old)
    assert [r.kernel for r in experiment.select("kernel", experiment.E.kernel == "rbf")] == ["rbf"]


def test_unreadable_settings_are_a_warning_and_the_rest_load(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}})
    (root / "b").mkdir()
    (root / "b" / "conf.pkl").write_bytes(b"not a pickle")
    with pytest.warns(runlab.importers.SourceWarning, match="b/conf.pkl: unreadable pickle"):
        experiment.initialise(root)
    assert [r.k for r in experiment.select("k")] == [1]


def test_import_reports_every_run_of_the_tree(tmp_path):
    """``ImportReport.run_ids``, which the table is narrowed to: new, unchanged, kept."""
    root = write_pickles(tmp_path / "results", {"a": {"k": 1}, "b": {"k": 2}})
    store = tmp_path / "store"
    first = runlab.import_tree(root, store, settings="conf.pkl", allow_pickle=True)
    assert first.run_ids == ("1", "2")
    (root / "b" / "conf.pkl").write_bytes(b"damaged")  # its earlier run is kept
    write_pickles(root, {"c": {"k": 3}})
    with pytest.warns(runlab.importers.SourceWarning, match="b/conf.pkl: unreadable pickle"):
        dry = runlab.import_tree(root, store, settings="conf.pkl", allow_pickle=True, dry_run=True)
    assert dry.run_ids == ("1", "2")  # c would be new: no id yet
    with pytest.warns(runlab.importers.SourceWarning):
        again = runlab.import_tree(root, store, settings="conf.pkl", allow_pickle=True)
    assert (again.unchanged, again.imported, len(again.skipped)) == (1, 1, 1)
    assert again.run_ids == ("1", "2", "3")


def test_reading_differently_rereads_a_kept_store(tmp_path):
    root = write_pickles(tmp_path / "results", {"a": {"x": 1, "y": 2}})
    experiment.connect(f"sqlite:///{tmp_path}/store/index.db")
    experiment.initialise(root, restrict_keys=["x"])
    assert experiment.select()[0].as_dict() == {"x": 1}
    experiment.initialise(root)  # the same files, read with every key now
    assert experiment.select()[0].as_dict() == {"x": 1, "y": 2}
    assert len(runlab.load(tmp_path / "store")) == 1


def test_e_columns_pick_columns_and_expressions_filter_also_as_keywords(tmp_path):
    root = write_pickles(
        tmp_path / "results", {str(i): {"i": i, "f1": f1} for i, f1 in enumerate([0.5, 0.9, 0.7])}
    )
    experiment.initialise(root)
    E = experiment.E
    assert [tuple(r) for r in experiment.select(E.i, E.f1, E.f1 > 0.6)] == [(1, 0.9), (2, 0.7)]
    assert [r.i for r in experiment.select("i", good=E.f1 > 0.6, i=range(2))] == [1]
    assert [r.i for r in experiment.select("i", i=np.array([0, 2]))] == [0, 2]
    with pytest.raises(UsageError, match="neither a column name nor an expression"):
        experiment.select("i", 3)
