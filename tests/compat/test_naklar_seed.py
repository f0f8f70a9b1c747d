"""naklar's document, call by call, on runlab (only the import lines changed).

The results tree is made by the document's own experiment script (a real sklearn run
in a subprocess); expected values are read back from the ``conf.json`` files it wrote,
so they hold whatever sklearn computes. Rows come in folder order, 2 before 10.
"""

# ruff: noqa: E501  (the document's code is kept as written)

from __future__ import annotations

import ast
import json
import os
import pprint
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from naklar_helpers import confs, run_script, seed_results, tree_files
from sqlalchemy.orm import Session

import runlab.compat.naklar as naklar
from runlab.compat.naklar import experiment
from runlab.compat.naklar.table import Exp


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where naklar's experiment ran: ``results/0`` … ``results/11``."""
    return seed_results(tmp_path_factory.mktemp("naklar"))


@pytest.fixture
def here(made: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Work in the experiment's folder, as the document does; no table before or after."""
    monkeypatch.chdir(made)
    experiment.reset()
    yield made
    experiment.reset()


def load_json(fpath: str) -> Any:
    with open(fpath) as fh:
        conf = json.load(fh)
    return conf


def expected(made: Path, *keys: str, where: Any = None) -> list[tuple[Any, ...]]:
    """The rows naklar's select should give, from the JSON files, in folder order."""
    rows = [c for c in confs(made) if where is None or where(c)]
    return [tuple(float(c[k]) if k == "C" else c[k] for k in keys) for c in rows]


def test_the_experiment_wrote_twelve_conditions_in_three_formats(made):
    assert len(confs(made)) == 12
    assert sorted(os.listdir(made / "results" / "7")) == [
        "conf.jbl",
        "conf.json",
        "conf.pkl",
        "svc.skl",
    ]


def test_initialise_reads_conf_pkl_by_default(here):
    experiment.initialise("./results/", autoload=True)
    rows = experiment.select("i", "path", "f1")
    assert [tuple(r) for r in rows] == expected(here, "i", "path", "f1")
    # the pickled NumPy array of predictions is described, not stored
    assert {r.results for r in experiment.select("results")} == {
        "ndarray(shape=(150,), dtype=int64)"
    }


def test_a_load_func_reads_json(here):
    experiment.reset()
    experiment.initialise("./results/", autoload=True, dict_file="conf.json", load_func=load_json)
    rows = experiment.select("i", "path", "f1")
    assert [tuple(r) for r in rows] == expected(here, "i", "path", "f1")
    assert rows[10].path == "results/10" and rows[10].i == 10


def test_util_load_joblib_keeps_numbers_as_numbers_and_arrays_as_paths(here):
    experiment.reset()
    experiment.initialise(
        "./results/", autoload=True, dict_file="conf.jbl", load_func=naklar.util.load_joblib
    )
    rows = experiment.select("i", "path", "f1")
    # naklar's own output here was text ('0.76'): its column types missed NumPy floats
    assert [tuple(r) for r in rows] == expected(here, "i", "path", "f1")
    assert all(isinstance(r.f1, float) for r in rows)
    results = [r.results for r in experiment.select("results")]
    assert results == [str(here / "results" / str(i) / "conf.jbl") for i in range(12)]


def test_e_holds_sqlalchemy_columns_named_after_the_settings(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    assert isinstance(experiment.E.f1, sa.ColumnElement)
    assert isinstance(experiment.E.path, sa.ColumnElement)
    assert list(experiment.E) == [
        "C",
        "accuracy",
        "f1",
        "i",
        "kernel",
        "path",
        "precision",
        "recall",
    ]


def test_keyword_and_expression_filters_agree(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    E = experiment.E
    linear = [("linear",)] * 4
    assert [tuple(r) for r in experiment.select("kernel", kernel="linear")] == linear
    assert [tuple(r) for r in experiment.select("kernel", E.kernel == "linear")] == linear
    in_c = expected(here, "path", where=lambda c: c["C"] in (1, 2))
    assert [tuple(r) for r in experiment.select("path", C=[1, 2])] == in_c
    assert [tuple(r) for r in experiment.select("path", C=[1, 2, 3])] == in_c
    assert [tuple(r) for r in experiment.select("path", E.C.in_([1, 2, 3]))] == in_c
    c_one = expected(here, "path", where=lambda c: c["C"] == 1)
    assert [r.path for r in experiment.select("path", C=1)] == [
        "results/2",
        "results/6",
        "results/10",
    ]
    assert [tuple(r) for r in experiment.select("path", E.C == 1)] == c_one
    # non-existent settings don't matter
    assert [tuple(r) for r in experiment.select("path", "C", C=[1, 2, 3])] == expected(
        here, "path", "C", where=lambda c: c["C"] in (1, 2)
    )


def test_columns_give_tuples_with_c_as_a_float_column(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    rows = experiment.select("path", "C", "f1")
    assert [tuple(r) for r in rows] == expected(here, "path", "C", "f1")
    assert [type(r.C) for r in rows] == [float] * 12  # 1 and 2 too, not only 0.001


def test_a_threshold_on_f1(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    for threshold in (0.82, 0.81, 0.79):
        rows = experiment.select("i", "kernel", "C", "f1", experiment.E.f1 > threshold)
        assert [tuple(r) for r in rows] == expected(
            here, "i", "kernel", "C", "f1", where=lambda c, t=threshold: c["f1"] > t
        )


def test_select_without_columns_gives_experiment_objects(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    everything = experiment.select()
    assert len(everything) == 12
    assert all(isinstance(e, Exp) for e in everything)
    assert [e.as_dict() for e in everything] == [{**c, "C": float(c["C"])} for c in confs(here)]
    linear = experiment.select(kernel="linear")
    assert [(e.i, e.kernel) for e in linear] == [
        (0, "linear"),
        (1, "linear"),
        (2, "linear"),
        (3, "linear"),
    ]
    with pytest.raises(AttributeError, match="read-only"):
        linear[0].C = 5


def test_raw_sqlalchemy_sessions_on_the_engine(here):
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    session = Session(bind=experiment._engine)
    q = session.query(experiment.E.kernel)
    q = q.filter(experiment.E.kernel.in_(["linear"]))
    assert q.all() == [("linear",)] * 4
    # SQLAlchemy 2 refuses a bare string as a column (naklar's document used 1.0) ...
    with pytest.raises(sa.exc.ArgumentError, match="Textual column expression 'path'"):
        session.query("path")
    # ... the column from E says the same
    q = session.query(experiment.E.path).filter(experiment.E.kernel.in_(["linear"]))
    assert q.all() == [("results/0",), ("results/1",), ("results/2",), ("results/3",)]
    session.close()


def test_initialise_again_without_reset_replaces_the_table(here):
    # naklar: InvalidRequestError "Table 'experiment' is already defined" without reset()
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    experiment.initialise("./results/", dict_file="conf.jbl", load_func=naklar.util.load_joblib)
    assert len(experiment.select()) == 12
    assert experiment.select("results")[0].results.endswith("conf.jbl")


def test_nothing_is_written_into_the_results_tree(here):
    before = tree_files(here / "results")
    experiment.initialise("./results/", dict_file="conf.json", load_func=load_json)
    experiment.select("path")
    scratch = Path(experiment._engine.url.database).parent
    assert scratch.is_dir() and here not in scratch.parents
    experiment.reset()
    assert tree_files(here / "results") == before
    assert not scratch.exists()


DOCUMENT_USAGE = """\
import json
import pprint
from runlab.compat import naklar
from runlab.compat.naklar import experiment
#experiment.reset() # if you've loaded results into memory before you have to reset the DB
experiment.initialise('./results/', autoload=True, )
print(len(experiment.select()))
# experiment.reset()
experiment.initialise('./results/', autoload=True, dict_file='settings.pickle')
print(len(experiment.select()))
import json
from functools import partial
import joblib
def load_json(fpath):
    with open(fpath, 'r') as fh:
        conf = json.load(fh)
    return conf
# load json
experiment.reset()
experiment.initialise('./results/', autoload=True, dict_file='conf.json', load_func=load_json)
print([tuple(r) for r in experiment.select('i', 'path', 'f1')])
# load joblib
experiment.reset()
experiment.initialise('./results/', autoload=True, dict_file='conf.jbl', load_func=naklar.util.load_joblib)
print([tuple(r) for r in experiment.select('i', 'path', 'f1')])
print(experiment.E.f1, experiment.E.path)
print([tuple(r) for r in experiment.select('kernel', kernel = 'linear')])
print([tuple(r) for r in experiment.select('kernel', experiment.E.kernel == 'linear')])
from sqlalchemy.orm import Session
session = Session(bind=experiment._engine)
q = session.query(experiment.E.kernel)
q = q.filter(experiment.E.kernel.in_(['linear']))
pprint.pprint(q.all())
session.close()
print(len(experiment.select()))
print([tuple(r) for r in experiment.select('path', 'C', 'f1')])
print(len(experiment.select(kernel='linear')))
print([tuple(r) for r in experiment.select('path', C=1)])
print([tuple(r) for r in experiment.select('path', C=[1, 2])])
print([tuple(r) for r in experiment.select('path', 'C', C=[1, 2, 3])])
print([tuple(r) for r in experiment.select('path', C=[1, 2, 3])])
print([tuple(r) for r in experiment.select('path', experiment.E.C.in_([1, 2, 3]))])
print([tuple(r) for r in experiment.select('path', C=1)])
print([tuple(r) for r in experiment.select('path', experiment.E.C == 1)])
print([tuple(r) for r in experiment.select('i', 'kernel', 'C', 'f1')])
print([tuple(r) for r in experiment.select('i', 'kernel', 'C', 'f1', experiment.E.f1 > 0.82)])
"""


def test_the_documents_usage_runs_as_a_script(made, tmp_path):
    folder = tmp_path / "analysis"
    shutil.copytree(made / "results", folder / "results")
    done = run_script(folder, "analysis.py", DOCUMENT_USAGE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()

    def rows(*keys: str, where: Any = None) -> str:
        return repr(expected(made, *keys, where=where))

    c_in = lambda c: c["C"] in (1, 2)  # noqa: E731
    c_one = lambda c: c["C"] == 1  # noqa: E731
    linear = repr([("linear",)] * 4)
    assert lines == [
        "12",
        "0",
        rows("i", "path", "f1"),
        rows("i", "path", "f1"),
        "r.params.f1 r.params.path",
        linear,
        linear,
        *pprint.pformat([("linear",)] * 4).splitlines(),
        "12",
        rows("path", "C", "f1"),
        "4",
        rows("path", where=c_one),
        rows("path", where=c_in),
        rows("path", "C", where=c_in),
        rows("path", where=c_in),
        rows("path", where=c_in),
        rows("path", where=c_one),
        rows("path", where=c_one),
        rows("i", "kernel", "C", "f1"),
        rows("i", "kernel", "C", "f1", where=lambda c: c["f1"] > 0.82),
    ]
    assert ast.literal_eval(lines[2])[10][1] == "results/10"
