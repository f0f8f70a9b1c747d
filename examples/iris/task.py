"""The iris task: fit one SVM on a seeded stratified split and score it.

``fit(config, run)`` is what ``sweep.yaml`` (``task: examples/iris/task.py:fit``) and
``designs.py:svm_grid`` run for every config. It logs a learning curve as the run's
step series (step = training examples used: 20 %, 40 %, … 100 % of the training split;
value = test accuracy), and returns the final accuracy and macro F1, which runlab merges
into ``summary.json``.
The data is ``sklearn.datasets.load_iris()``, shipped inside scikit-learn: nothing is
downloaded.
"""

from __future__ import annotations

from typing import Any

from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import runlab

FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)


def fit(config: dict[str, Any], run: runlab.Run) -> dict[str, float]:
    """Train on growing parts of a seeded split, log each test accuracy, return acc and F1."""
    x, y = load_iris(return_X_y=True)
    seed = config["seed"]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=config["test_size"], stratify=y, random_state=seed
    )
    for fraction in FRACTIONS:
        if fraction < 1.0:
            # Stratified again, so that even 20 % of the split holds every class.
            x_part, _, y_part, _ = train_test_split(
                x_train, y_train, train_size=fraction, stratify=y_train, random_state=seed
            )
        else:
            x_part, y_part = x_train, y_train
        model = make_pipeline(
            StandardScaler(),
            # degree is None for linear and rbf, which ignore sklearn's default of 3
            SVC(kernel=config["kernel"], C=config["C"], degree=config["degree"] or 3),
        )
        model.fit(x_part, y_part)
        predicted = model.predict(x_test)
        run.log(step=len(y_part), acc=float(accuracy_score(y_test, predicted)))
    acc = float(accuracy_score(y_test, predicted))
    f1 = float(f1_score(y_test, predicted, average="macro"))
    print(f"{config['kernel']} C={config['C']} seed={seed}: acc {acc:.3f}, macro F1 {f1:.3f}")
    return {"acc": acc, "f1": f1}
