"""pymake models for real: ``model/`` classes with a ``fit``, listed, built by
``self.load_model()``, saved with ``-w`` / ``_write=True`` and read back with
``self.load_model(load=True)``.

The project is ``pymake_project/``: ``model/counter.py`` (Counter takes the experiment,
Scaled its keyword settings), ``model/other.py`` (a second Scaled), the specs of
``Models`` and the actions of ``Learn``. Each test runs into its own store, so run ids
stay the experiments' file names.
"""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymake_helpers import SAMPLE, TIMEOUT, Pmk

from runlab.compat.pymake import ExpeFormat, PmkProject
from runlab.compat.pymake.model import build, load, save
from runlab.errors import UsageError


@pytest.fixture(scope="module")
def pmk(make_project: Callable[[Path], Any], tmp_path_factory: pytest.TempPathFactory) -> Pmk:
    return Pmk(make_project(tmp_path_factory.mktemp("pymake_models") / "pmkdemo"))


def in_store(pmk: Pmk, store: str, *args: str) -> Any:
    return pmk.runlab("--store", store, *args)


def read(path: Path, name: str) -> Any:
    return json.loads((path / name).read_text(encoding="utf-8"))


def saved_model(root: Path, stem: str) -> Any:
    project = PmkProject.at(root)
    return load(root / "data" / "models" / f"{stem}.pk.gz", project.model_modules())


def error_of(pmk: Pmk, store: str, run_id: str) -> str:
    """The last line of the run's traceback: the exception and its message."""
    text = (pmk.root / store / run_id / "error.txt").read_text(encoding="utf-8")
    return text.strip().splitlines()[-1]


# -- listing --------------------------------------------------------------------------------


def test_pmk_and_runlab_list_the_models(pmk: Pmk) -> None:
    assert pmk.ok(pmk.pmk("-l", "model")).splitlines() == [
        "Counter  Count what fit sees, K at a time.",
        "counter.Scaled  Built from its keyword settings, as a scikit-learn estimator.",
        "other.Scaled",
    ]
    listed = json.loads(pmk.ok(pmk.runlab("list", "models", "--json")))
    assert [(m["ref"], m["file"], m["line"]) for m in listed] == [
        ("Counter", "model/counter.py", 4),
        ("counter.Scaled", "model/counter.py", 15),
        ("other.Scaled", "model/other.py", 4),
    ]
    table = pmk.ok(pmk.runlab("list", "models")).splitlines()
    assert table[0].split() == ["model", "doc"]
    assert table[1].split()[0] == "Counter"


def test_list_models_outside_a_pymake_project(
    make_project: Callable[[Path], Any], tmp_path: Path
) -> None:
    plain = make_project(tmp_path / "plain")
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "list", "models"],
        cwd=plain.root,
        env=plain.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("no models in the model folder of a pymake project")


# -- load_model, -w / _write, load_model(load=True) ------------------------------------------


def test_load_model_builds_the_experiments_model(pmk: Pmk) -> None:
    pmk.ok(in_store(pmk, "built", "run", "learn", "-x", "train"))
    assert pmk.log_in("built", "Counter-3") == "fitted Counter {'K': 3, 'seen': 3}\n"
    pmk.ok(in_store(pmk, "built", "run", "scaled", "-x", "train"))
    assert pmk.log_in("built", "scaled") == "fitted Scaled {'alpha': 0.5, 'coef': 1.0}\n"
    # Without -w nothing is saved, and the run has no summary (no model file to name).
    assert not (pmk.data("models") / "Counter-3.pk.gz").exists()
    assert not (pmk.root / "built/Counter-3/summary.json").exists()


def test_write_saves_the_fitted_model_and_load_reads_it_back(pmk: Pmk) -> None:
    pmk.ok(in_store(pmk, "written", "run", "learn", "-x", "train", "--", "-w"))
    path = pmk.data("models/Counter-2.pk.gz")
    assert vars(saved_model(pmk.root, "Counter-2")) == {"K": 2, "seen": 2}
    assert read(pmk.root / "written/Counter-2", "summary.json") == {"model_file": str(path)}
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []

    pmk.ok(in_store(pmk, "resumed", "run", "learn", "-x", "resume", "--only", "0"))
    assert pmk.log_in("resumed", "Counter-2") == (
        "loaded {'K': 2, 'seen': 2}\nfitted {'K': 2, 'seen': 4}\n"
    )
    # No -w this time: the file keeps the state the first run saved.
    assert vars(saved_model(pmk.root, "Counter-2")) == {"K": 2, "seen": 2}


def test_write_in_the_expe_and_pmk_w_save_too(pmk: Pmk) -> None:
    pmk.ok(in_store(pmk, "kept-store", "run", "kept", "-x", "train"))  # the spec has _write=True
    assert vars(saved_model(pmk.root, "kept")) == {"K": 5, "seen": 5}
    pmk.ok(in_store(pmk, "kept-store", "run", "kept", "-x", "resume"))
    assert vars(saved_model(pmk.root, "kept")) == {"K": 5, "seen": 10}

    pmk.ok(pmk.pmk("scaled", "-x", "train", "-w"))  # was: pmk scaled -x train -w
    assert vars(saved_model(pmk.root, "scaled")) == {"alpha": 0.5, "coef": 1.0}


def test_a_moved_project_loads_the_models_it_saved(pmk: Pmk, tmp_path: Path) -> None:
    pmk.ok(in_store(pmk, "moving", "run", "learn", "-x", "train", "K=9", "--", "-w"))
    moved = tmp_path / "elsewhere"
    shutil.copytree(pmk.root, moved)
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "--store", "moved", "run", "learn", "-x", "resume", "K=9"],
        cwd=moved,
        env=pmk.project.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    log = (moved / "moved/Counter-9/stdout.log").read_text(encoding="utf-8")
    assert log == "loaded {'K': 9, 'seen': 9}\nfitted {'K': 9, 'seen': 18}\n"


# -- errors ---------------------------------------------------------------------------------


def test_model_setting_errors_name_the_setting_and_the_models(pmk: Pmk) -> None:
    known = "models: Counter, counter.Scaled, other.Scaled"
    failed = in_store(pmk, "errors", "run", "learn", "-x", "train", "model=Nope", "--only", "0")
    assert failed.returncode == 1
    assert error_of(pmk, "errors", "Nope-2") == (
        "runlab.errors.UsageError: load_model: setting model='Nope': "
        f"no model 'Nope' in this pymake project; {known}"
    )
    failed = in_store(pmk, "errors", "run", "learn", "-x", "train", "model=Scaled", "--only", "0")
    assert failed.returncode == 1
    assert error_of(pmk, "errors", "Scaled-2") == (
        "runlab.errors.UsageError: load_model: setting model='Scaled': model 'Scaled' is "
        "defined more than once (counter.Scaled, other.Scaled): name one of them"
    )
    failed = in_store(pmk, "errors", "run", "numbered", "-x", "train", "--only", "0")
    assert failed.returncode == 1
    assert error_of(pmk, "errors", "numbered-0-0.1") == (
        "runlab.errors.UsageError: load_model: the experiment's setting 'model' must name a "
        f"model, got None; {known}"
    )


def test_loading_a_model_never_saved_names_the_file(pmk: Pmk) -> None:
    failed = in_store(pmk, "unsaved", "run", "learn", "-x", "resume", "K=7")
    assert failed.returncode == 1
    path = pmk.data("models/Counter-7.pk.gz")
    assert error_of(pmk, "unsaved", "Counter-7") == (
        f"runlab.errors.UsageError: load_model(load=True): no saved model {path}: run an "
        "action on this experiment with -w (or _write=True) first"
    )


# -- in process: how models are built and saved ---------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> PmkProject:
    root = tmp_path / "pmkdemo"
    shutil.copytree(SAMPLE, root)
    return PmkProject.at(root)


def test_constructors_get_the_expe_or_their_keyword_settings(sample: PmkProject) -> None:
    expe = {"K": 4, "alpha": 0.25, "model": "x"}
    assert vars(build(sample.model("Counter"), expe)) == {"K": 4, "seen": 0}
    assert vars(build(sample.model("counter.Scaled"), expe)) == {"alpha": 0.25, "coef": None}
    assert type(build(sample.model("other.Scaled"), expe)).__name__ == "Scaled"
    with pytest.raises(UsageError, match=r"no model 'Helper' .* models: Counter, counter\.Scaled"):
        sample.model("Helper")  # no fit: not a model


def test_a_failed_action_saves_nothing(sample: PmkProject) -> None:
    expe = {"model": "Counter", "K": 2, "_write": True, "_format": "c"}
    script = ExpeFormat(expe, data=sample.data, project=sample)
    script.load_model().fit()
    script.close(ok=False)
    assert not script.model_file.exists()
    script.close(ok=True)
    assert script.model_file == sample.data / "default" / "c.pk.gz"
    assert script.model_file.exists()


def test_saving_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "m.pk.gz"
    save({"state": 1}, path)
    with pytest.raises(AttributeError):
        save({"state": lambda: 2}, path)  # unpicklable: the old file stays whole
    with gzip.open(path, "rb") as f:
        assert pickle.load(f) == {"state": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.pk.gz"]
