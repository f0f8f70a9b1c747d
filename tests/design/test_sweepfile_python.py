"""Designs written in Python: load_design and sweep_from_python, from a file or a module."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from runlab.design import Grid, Sample, Sweep, load_design, sweep_from_python
from runlab.errors import UsageError
from runlab.tasks import CallableTask, CommandTask

DESIGNS = """
from runlab.design import Grid, Point, Sample, uniform
from runlab.tasks import CommandTask

svm_grid = Grid(kernel=["linear", "rbf"], C=[1, 10])
svm_grid.task = "tasks:fit"

plain = Grid(x=[1, 2, 3])

def fit(config, run):
    return {"score": config["x"]}

with_function = Point(x=1)
with_function.task = fit

with_commands = Grid(x=[1, 2])
with_commands.task = {"train": "train --x {x}", "test": "test --x {x}"}

broken_commands = Grid(x=[1])
broken_commands.task = {"train": "train --y {y}"}

def random_search():
    return Sample(4, seed=1, lr=uniform(0.0, 1.0))

def needs_args(n):
    return Grid(x=list(range(n)))

class Groups:
    small = Grid(x=[1])

not_a_design = {"x": [1, 2]}
"""


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    path = tmp_path / "spec" / "designs.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(DESIGNS).lstrip(), encoding="utf-8")
    return path


def test_load_a_design_from_a_file(designs):
    design = load_design(f"{designs}:svm_grid")
    assert isinstance(design, Grid)
    assert [dict(c.params) for c in design.expand()] == [
        {"kernel": "linear", "C": 1},
        {"kernel": "linear", "C": 10},
        {"kernel": "rbf", "C": 1},
        {"kernel": "rbf", "C": 10},
    ]


def test_a_zero_argument_function_builds_the_design(designs):
    design = load_design(f"{designs}:random_search")
    assert isinstance(design, Sample)
    assert len(design.expand()) == 4


def test_a_dotted_attribute(designs):
    assert len(load_design(f"{designs}:Groups.small").expand()) == 1


def test_a_relative_path_from_the_working_directory(designs, monkeypatch):
    monkeypatch.chdir(designs.parent.parent)
    assert len(load_design("spec/designs.py:plain")) == 3


def test_a_design_file_imports_its_neighbours(tmp_path):
    (tmp_path / "common_pyload_test.py").write_text("VALUES = [1, 2]\n", encoding="utf-8")
    (tmp_path / "uses.py").write_text(
        "from common_pyload_test import VALUES\nfrom runlab.design import Grid\n"
        "design = Grid(x=VALUES)\n",
        encoding="utf-8",
    )
    try:
        assert len(load_design(f"{tmp_path / 'uses.py'}:design")) == 2
        assert str(tmp_path) not in sys.path
    finally:
        sys.modules.pop("common_pyload_test", None)


def test_load_a_design_from_a_module_in_the_working_directory(tmp_path, monkeypatch):
    package = tmp_path / "spec_pyload_test"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "grids.py").write_text(
        "from runlab.design import Grid\nsweep_me = Grid(a=[1, 2])\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    try:
        assert len(load_design("spec_pyload_test.grids:sweep_me")) == 2
    finally:
        for name in ("spec_pyload_test", "spec_pyload_test.grids"):
            sys.modules.pop(name, None)


def test_the_design_s_own_task_is_used(designs):
    sweep = sweep_from_python(f"{designs}:svm_grid", task="other:fn", workers=2, timeout="1m")
    assert isinstance(sweep, Sweep)
    assert sweep.name == "svm_grid"
    assert sweep.task == CallableTask("tasks:fit")
    assert sweep.workers == 2
    assert sweep.timeout == 60.0
    assert sweep.source == designs
    assert len(sweep.expand()) == 4


def test_a_function_task_defined_in_the_file_is_imported_by_path(designs):
    sweep = sweep_from_python(f"{designs}:with_function")
    assert sweep.task == CallableTask(f"{designs}:fit")
    fit = sweep.task.load()
    assert fit({"x": 7}, None) == {"score": 7}


def test_named_commands_as_the_design_s_task(designs):
    sweep = sweep_from_python(f"{designs}:with_commands", name="cmds")
    assert sweep.name == "cmds"
    assert isinstance(sweep.task, CommandTask)
    assert [c.name for c in sweep.task.commands] == ["train", "test"]


def test_the_given_task_when_the_design_has_none(designs):
    sweep = sweep_from_python(f"{designs}:plain", "tasks:fit", repeat=2)
    assert sweep.task == CallableTask("tasks:fit")
    assert len(sweep.expand()) == 6


@pytest.mark.parametrize(
    "ref,message",
    [
        ("{d}:nope", "design '{d}:nope': {d} has no attribute 'nope'"),
        ("{d}:Groups.big", "design '{d}:Groups.big': {d} has no attribute 'Groups.big'"),
        (
            "{d}:not_a_design",
            "design '{d}:not_a_design': not_a_design is a dict, not a design "
            "(Point, Grid, Sample or Group, or a function returning one)",
        ),
        (
            "{d}:needs_args",
            "design '{d}:needs_args': needs_args must take no arguments to build the design "
            "(needs_args() missing 1 required positional argument: 'n')",
        ),
        ("{d}", "design '{d}': write file.py:name or module:name"),
        ("{d}x.py:plain", "design '{d}x.py:plain': no such file {d}x.py"),
        (
            "no_such_module_pyload:plain",
            "design 'no_such_module_pyload:plain': no module named 'no_such_module_pyload'",
        ),
    ],
)
def test_load_errors_are_one_line(designs, ref, message):
    ref = ref.format(d=designs)
    with pytest.raises(UsageError) as err:
        load_design(ref)
    assert str(err.value) == message.format(d=designs)


def test_errors_in_the_design_file_name_it(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from runlab.design import Grid\n\nx = Grid(lr=[])\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_design(f"{bad}:x")
    assert str(err.value) == (
        f"design '{bad}:x': Grid: param 'lr' is an empty list; give at least one value "
        "(write [[]] for the value [])"
    )
    bad.write_text("x = (\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_design(f"{bad}:x")
    assert str(err.value) == f"design '{bad}:x': {bad}:1: '(' was never closed"


def test_a_design_without_a_task(designs):
    with pytest.raises(UsageError) as err:
        sweep_from_python(f"{designs}:plain")
    assert str(err.value) == (
        f"design '{designs}:plain' has no task attribute; give one (runlab run -x module:function)"
    )


def test_a_task_whose_placeholders_have_no_value(designs):
    with pytest.raises(UsageError) as err:
        sweep_from_python(f"{designs}:broken_commands")
    assert str(err.value) == (
        f"design '{designs}:broken_commands': config #0 broken_commands: "
        "command 'train': placeholder {y} has no value"
    )


def test_an_unknown_option(designs):
    with pytest.raises(UsageError) as err:
        sweep_from_python(f"{designs}:plain", "t:f", wokers=2)
    assert str(err.value).startswith("sweep_from_python: unknown option 'wokers'; options: ")


def test_a_local_function_cannot_be_a_task(designs):
    def local(config, run):
        return None

    with pytest.raises(UsageError) as err:
        sweep_from_python(f"{designs}:plain", local)
    assert "must be a module-level function" in str(err.value)
