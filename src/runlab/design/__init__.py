"""Designs: which configurations to run (Point, Grid, Sample, Group).

Usage::

    from runlab.design import Grid, Point, Sample, loguniform

    design = Grid(model=["mlp", "cnn"], lr=[0.1, 0.01], name="{model}-{lr}") + Point(
        model="linear", lr=1.0
    )
    expansion = design.expand("baseline")
    expansion.names   # ('mlp-0.1', 'mlp-0.01', 'cnn-0.1', 'cnn-0.01', 'lr=1,model=linear')
    Sample(20, seed=0, lr=loguniform(1e-5, 1e-1), opt=["adam", "sgd"])

    sweep = load_sweep("params.yaml")                    # mlrunner's grammar, plus runlab's keys
    sweep = apply_overrides(sweep, ["lr=0.1,0.01", "~dropout"])
    sweep = sweep_from_python("spec/designs.py:svm_grid", task="tasks:fit")

Only the names in ``__all__`` are public; the modules are implementation.
"""

from __future__ import annotations

from runlab.design.base import Design
from runlab.design.designs import Grid, Group, Point, Sample
from runlab.design.diff import Diff, KeyDiff, diff
from runlab.design.distributions import choice, loguniform, normal, randint, uniform
from runlab.design.expansion import Config, Dropped, DropReason, Expansion
from runlab.design.overrides import apply_overrides, select_only
from runlab.design.pyload import load_design, sweep_from_python
from runlab.design.sweep import Sweep
from runlab.design.sweepfile import load_sweep

__all__ = [
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
