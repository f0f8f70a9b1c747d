"""Tiny models: a class with a ``fit`` method is a model."""


class Counter:
    """Count what fit sees, K at a time."""

    def __init__(self, expe):
        self.K = expe["K"]
        self.seen = 0

    def fit(self):
        self.seen += self.K


class Scaled:
    """Built from its keyword settings, as a scikit-learn estimator."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self.coef = None

    def fit(self):
        self.coef = 2 * self.alpha


class Helper:
    """No fit: not a model."""
