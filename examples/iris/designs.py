"""The iris study of ``sweep.yaml`` written in Python; run it from the repository root.

    runlab run examples/iris/designs.py:svm_grid --workers 2
    runlab run examples/iris/designs.py:c_curve --workers 2

``svm_grid`` generates the same configs as ``sweep.yaml`` and runs the same task, so
after the YAML sweep it has nothing left to do: a run is known by its config and its
task, whichever file described them. ``c_curve`` extends the study along a finer C axis,
computed with numpy, for the kernels without a degree; its cells at C = 0.1, 1 and 10
are the ones already run, so only the new ones run.
"""

from __future__ import annotations

import numpy as np

from runlab.design import Grid

TASK = "examples/iris/task.py:fit"  # a path relative to where `runlab run` is started
DEFAULTS = {"degree": None, "test_size": 0.3}

svm_grid = Grid(
    kernel=["linear", "rbf", "poly"],
    C=[0.1, 1, 10],
    degree=[None, 2, 3],
    defaults=DEFAULTS,
    where="(kernel == 'poly') == (degree is not None)",  # degree for poly only
    repeat=3,  # seed = 0, 1, 2
)
svm_grid.task = TASK

c_curve = Grid(
    kernel=["linear", "rbf"],
    C=np.logspace(-2, 2, 9),  # 0.01, 0.032, 0.1, … 100: a 1-D array is an axis
    defaults=DEFAULTS,
    repeat=3,
)
c_curve.task = TASK
