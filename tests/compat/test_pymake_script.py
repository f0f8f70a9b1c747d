"""ExpeFormat's files, the pymake.cfg reader, spec and action lookup, and the batch hooks."""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from runlab.compat.pymake import ExpeFormat, ExpSpace, PmkProject, find_project
from runlab.compat.pymake import actions as pmk_actions
from runlab.compat.pymake.design import Request, SpecDesign, spec_sweep
from runlab.compat.pymake.project import read_cfg
from runlab.compat.pymake.script import actions_of
from runlab.errors import UsageError
from runlab.importers.pymake import read_inf

SAMPLE = Path(__file__).parent / "pymake_project"
EXPE = {"name": "m", "K": 3, "_format": "{name}_{K}", "_refdir": "r", "_expe_name": "s"}


class Recorder:
    """A stand-in for runlab's Run that keeps what it is given."""

    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []
        self.summaries: list[dict[str, Any]] = []

    def log(self, step: int | None = None, **values: Any) -> None:
        self.points.append({"step": step, **values})

    def summary(self, values: dict[str, Any]) -> None:
        self.summaries.append(dict(values))


def test_expe_format_writes_pymake_files_the_importer_reads(tmp_path: Path) -> None:
    run = Recorder()
    script = ExpeFormat(EXPE, run, data=tmp_path / "data")
    assert script.output_path == str(tmp_path / "data/r/m_3")
    assert script.expe.K == 3 and script.s is script.expe
    script.write_inf(it=0, loss=0.5, model="lda")
    script.write_inf(it=1, loss=0.25, model="lda")
    script.write_json({"f1": 0.9, "labels": [1, 2]})
    script.write_pk({"theta": [0.1]})
    script.close(ok=True)
    points, terminated = read_inf(tmp_path / "data/r/m_3.inf")
    assert terminated
    assert [(p["it"], p["loss"], p["model"]) for p in points] == [(0, 0.5, "lda"), (1, 0.25, "lda")]
    assert json.loads((tmp_path / "data/r/m_3.json").read_text()) == {"f1": 0.9, "labels": [1, 2]}
    with gzip.open(tmp_path / "data/r/m_3.pk.gz", "rb") as f:
        assert pickle.load(f) == {"theta": [0.1]}
    assert run.points == [
        {"step": 0, "it": 0, "loss": 0.5, "model": "lda"},
        {"step": 1, "it": 1, "loss": 0.25, "model": "lda"},
    ]
    assert run.summaries == [{"f1": 0.9}]


def test_write_inf_keeps_its_columns(tmp_path: Path) -> None:
    script = ExpeFormat(EXPE, None, data=tmp_path)
    script.write_inf(it=0, loss=1.0)
    with pytest.raises(UsageError, match=r"measures \['it'\] differ from the header"):
        script.write_inf(it=1)
    with pytest.raises(UsageError, match=r"would break the \.inf columns"):
        script.write_inf(it=1, loss="not a number")
    script.close(ok=False)
    assert "terminated" not in Path(script.output_path + ".inf").read_text()


def test_first_last_and_shared_container() -> None:
    shared = ExpSpace()
    first = ExpeFormat(EXPE, position=0, size=2, first=True, last=False, shared=shared)
    last = ExpeFormat(EXPE, position=1, size=2, first=False, last=True, shared=shared)
    first.D.total = 1
    assert last.D.total == 1 and last.D is first.D
    assert (first.is_first_expe(), first.is_last_expe()) == (True, False)
    assert (last.is_first_expe(), last.is_last_expe()) == (False, True)
    assert (last.get_expe_it(), last.get_expe_len()) == (1, 2)
    with pytest.raises(AttributeError):
        _ = last.D.missing


def test_actions_are_public_methods_of_subclasses_only() -> None:
    class Base(ExpeFormat):
        def shared(self) -> None:
            pass

    class Mine(Base):
        def fit(self) -> None:
            pass

        def _helper(self) -> None:
            pass

    assert actions_of(Mine) == ["shared", "fit"]


# -- pymake.cfg, specs and actions ----------------------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> PmkProject:
    root = tmp_path / "pmkdemo"
    shutil.copytree(SAMPLE, root)
    return PmkProject.at(root)


def test_read_cfg_and_find_project(sample: PmkProject, tmp_path: Path) -> None:
    assert sample.settings["project_data"] == "data"
    assert sample.data == sample.root / "data"
    assert sample.gramarg == sample.root / "gramarg.py"
    found = find_project(sample.root / "spec")
    assert found is not None and found.root == sample.root
    assert find_project(tmp_path) is None
    bad = tmp_path / "pymake.cfg"
    bad.write_text("# fine\nproject_data = d\nnot a setting\n")
    with pytest.raises(UsageError, match=r"pymake.cfg:3: expected key = value"):
        read_cfg(bad)


def test_spec_and_action_lookup(sample: PmkProject) -> None:
    assert [s.name for s in sample.specs()][:4] == ["exp1", "exp2", "exp3", "small"]
    assert sample.spec("Small.small").name == "small"
    assert sample.action("fit").ref == "Fit.fit"
    assert sample.action("MyScripts.my_action").name == "my_action"
    with pytest.raises(UsageError, match="no spec 'nope' in this pymake project; specs: exp1"):
        sample.spec("nope")


def test_spec_sweep_and_its_overrides(sample: PmkProject) -> None:
    sweep = spec_sweep("small", "fit", project=sample)
    assert sweep.name == "small"
    assert sweep.task is not None and sweep.task.target == ("runlab.compat.pymake.actions:Fit.fit")
    assert len(sweep.expand()) == 4
    design = sweep.design
    assert isinstance(design, SpecDesign)
    with pytest.raises(UsageError, match="add K or"):
        design.overridden(["K=1,2"])  # K varies but is not in _format: both write one file
    wider = design.overridden(["K=1,2", "--format", "{size}-{key1}-{K}", "--tag", "t"])
    assert wider.expand("small").names[:2] == ("42-20-1", "100-20-1")
    assert {c.params["tag"] for c in wider.expand("small")} == {"t"}
    with pytest.raises(UsageError, match="give pymake settings only"):
        design.overridden(["-x", "fit"])
    defaults = SpecDesign(Request(sample.root, "_default_expe", "Fit.fit"))
    assert [dict(c.params) for c in defaults.expand("d")] == [
        {"_format": "{name}-{size}", "name": "dflt", "size": 5, "_expe_name": "_default_expe",
         "_expe_id": 0},
    ]  # fmt: skip
    with pytest.raises(UsageError, match="give a spec, or -x ACTION"):
        spec_sweep("_default_expe", None, project=sample)


# -- the batch hooks --------------------------------------------------------------------------


def test_first_writes_the_batch_and_last_removes_it(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "dir": str(tmp_path / "a"), "sweep": "s", "state": "done"},
        {"id": "b", "dir": str(tmp_path / "b"), "sweep": "s", "state": "new"},
        {"id": "c", "dir": str(tmp_path / "c"), "sweep": "s", "state": "rerun"},
    ]
    pmk_actions.first(rows)
    path = pmk_actions.batch_file(tmp_path, "s")
    assert json.loads(path.read_text())["runs"] == ["b", "c"]
    pmk_actions.last(rows)
    assert not path.exists()
    older = [{"id": "a", "dir": str(tmp_path / "a"), "status": "completed"}]
    older.append({"id": "b", "dir": str(tmp_path / "b"), "status": None})
    pmk_actions.first(older)
    assert json.loads(pmk_actions.batch_file(tmp_path, "").read_text())["runs"] == ["b"]
    pmk_actions.first([])  # nothing to run: nothing written, no error


def test_task_names_resolve_to_module_functions() -> None:
    task = pmk_actions.__getattr__("Fit.fit")
    assert task.__module__ == "runlab.compat.pymake.actions"
    assert pmk_actions.__getattr__("Fit.fit") is task
    with pytest.raises(AttributeError):
        pmk_actions.__getattr__("fit")
