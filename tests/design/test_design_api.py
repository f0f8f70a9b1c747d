"""The public names of runlab.design: a test fails if the list drifts."""

from __future__ import annotations

import subprocess
import sys

import runlab.design

PUBLIC = [
    "Config",
    "Design",
    "Diff",
    "DropReason",
    "Dropped",
    "Expansion",
    "Grid",
    "Group",
    "KeyDiff",
    "Point",
    "Sample",
    "Sweep",
    "apply_overrides",
    "choice",
    "diff",
    "load_design",
    "load_sweep",
    "loguniform",
    "normal",
    "randint",
    "select_only",
    "sweep_from_python",
    "uniform",
]


def test_all_is_sorted_and_exact() -> None:
    assert runlab.design.__all__ == sorted(runlab.design.__all__) == PUBLIC


def test_every_public_name_is_documented() -> None:
    for name in PUBLIC:
        doc = getattr(runlab.design, name).__doc__
        assert doc and doc.strip(), name


def test_importing_designs_does_not_import_numpy() -> None:
    # Only what runlab.design adds is checked: the rest of runlab has its own budget.
    code = (
        "import sys, runlab; before = 'numpy' in sys.modules; import runlab.design; "
        "print(before or 'numpy' not in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_the_package_docstring_example_holds() -> None:
    from runlab.design import Grid, Point

    design = Grid(model=["mlp", "cnn"], lr=[0.1, 0.01], name="{model}-{lr}") + Point(
        model="linear", lr=1.0
    )
    assert design.expand("baseline").names == (
        "mlp-0.1",
        "mlp-0.01",
        "cnn-0.1",
        "cnn-0.01",
        "lr=1,model=linear",
    )
    assert (
        "expansion.names   # ('mlp-0.1', 'mlp-0.01', 'cnn-0.1', 'cnn-0.01', 'lr=1,model=linear')"
        in (runlab.design.__doc__ or "")
    )
