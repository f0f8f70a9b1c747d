"""naklar's documented experiment, run for real, and small settings trees built by hand.

``SEED_EXPERIMENT`` is the experiment script of naklar's document (shared/seeds/naklar.txt)
as written there: an SVC per (kernel, C) on iris, each condition's settings and results
dumped as ``results/<i>/conf.pkl``, ``conf.json`` and ``conf.jbl``.
"""

# ruff: noqa: E501  (the document's code is kept as written)

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

TIMEOUT = 120

SEED_EXPERIMENT = textwrap.dedent(
    """\
    # modified version of
    # http://scikit-learn.org/stable/auto_examples/svm/plot_iris.html#example-svm-plot-iris-py
    import os
    import json
    import pickle
    import pprint
    import numbers
    import itertools
    from functools import partial
    import numpy as np
    import matplotlib.pyplot as plt
    from sklearn import svm, datasets
    from sklearn import metrics
    import joblib
    from runlab.compat.naklar import experiment
    # record these metrics for each experiment
    metric_fns = [('precision', partial(metrics.precision_score, average='micro')),
    ('recall', partial(metrics.recall_score, average='micro')),
    ('f1', partial(metrics.f1_score, average='micro')),
    ('accuracy', metrics.accuracy_score)]
    # import some data to play with
    iris = datasets.load_iris()
    X = iris.data[:, :2] # we only take the first two features. We could
    # avoid this ugly slicing by using a two-dim dataset
    y = iris.target
    def evaluate_settings(i, output='results', record_metrics=[], dump=['pickle', 'json', 'joblib'], **kwargs):
        \"\"\"Evaluate an experimental condition and dump results onto disk.
        \"\"\"
        svc = svm.SVC(**kwargs).fit(X, y)
        pred = svc.predict(X)
        conf = kwargs
        conf['i'] = i
        if record_metrics:
            metrics = {}
            for metric_name, metric in record_metrics:
                conf[metric_name] = metric(y, pred)
        # store results on disk
        conf['results'] = pred # results is a NumPy array
        if not os.path.exists(os.path.join('.', output, str(i))):
            os.makedirs(os.path.join('.', output, str(i)))
        if 'pickle' in dump:
            conf['path'] = os.path.join(output, str(i))
            conf_file = os.path.join(output, str(i), 'conf.pkl')
            with open(conf_file, 'wb') as out:
                pickle.dump(conf, out)
        # dump a json file
        if 'json' in dump:
            conf_file = os.path.join(output, str(i), 'conf.json')
            with open(conf_file, 'w') as out:
                conf_ = {k:v for k, v in conf.items() if isinstance(v, (str, numbers.Number, list, set))}
                json.dump(conf_, out)
        # dump a joblib file
        # the nice thing about joblib is that it'll dump large NumPy arrays
        # as separate files
        if 'joblib' in dump:
            conf_file = os.path.join(output, str(i), 'conf.jbl')
            joblib.dump(conf, conf_file)
        # store the trained model as well
        with open(os.path.join(output, str(i), 'svc.skl'), 'wb') as out:
            pickle.dump(svc, out)
    kernels = ['linear', 'rbf', 'poly']
    Cs = [0.001, 0.1, 1, 2]
    # could also use sklearn.cross_validation
    jobs = itertools.product(kernels, Cs)
    for i, (kernel, C) in enumerate(jobs):
        evaluate_settings(i, record_metrics=metric_fns, kernel=kernel, C=C)
    """
)


def child_env() -> dict[str, str]:
    """The environment of scripts: no RUNLAB_* from outside, a headless matplotlib."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["MPLBACKEND"] = "Agg"
    return env


def run_script(folder: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    """Write ``text`` as ``folder/name`` and run it with this Python, in ``folder``."""
    (folder / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, name],
        cwd=folder,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def seed_results(folder: Path) -> Path:
    """Run naklar's documented experiment in ``folder``; return ``folder`` (holding results/)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = run_script(folder, "experiment.py", SEED_EXPERIMENT)
    assert done.returncode == 0, done.stderr
    return folder


def confs(folder: Path) -> list[dict[str, Any]]:
    """The JSON settings the experiment wrote, in natural folder order (0, 1, 2, …, 10, 11)."""
    files = sorted((folder / "results").glob("*/conf.json"), key=lambda p: int(p.parent.name))
    return [json.loads(p.read_text()) for p in files]


def write_pickles(root: Path, settings: dict[str, dict[str, Any]], name: str = "conf.pkl") -> Path:
    """``root/<folder>/<name>`` holding each dict of ``settings``, pickled; return ``root``."""
    for folder, conf in settings.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        with (root / folder / name).open("wb") as f:
            pickle.dump(conf, f)
    return root


def tree_files(root: Path) -> dict[str, float]:
    """Every file under ``root`` and its modification time: what a reader must not change."""
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}
