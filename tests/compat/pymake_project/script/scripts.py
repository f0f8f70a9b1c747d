"""The seed's script (import line adapted), and actions that write pymake's files."""

from runlab.compat.pymake import ExpeFormat


class MyScripts(ExpeFormat):
    def my_action(self):
        if self.is_first_expe():
            self.D.my_shared_var = 0
        my_shared_var = self.D.my_shared_var
        my_shared_var += 1
        if self.is_last_expe():
            print("Expe total: %d" % self.D.my_shared_var)  # noqa: UP031 (the seed's line)


class Fit(ExpeFormat):
    _default_expe = dict(name="dflt", size=5, _format="{name}-{size}")  # noqa: RUF012 (as in pymake)

    def fit(self):
        """Iterate, then save the results and the model."""
        for it in range(3):
            self.write_inf(it=it, loss=round(1.0 / (it + self.expe.size), 6))
        self.write_json({"score": self.expe.size * 2, "name": self.expe.name})
        self.write_pk({"weights": [1, 2, 3]})
        return {"extra": 1}

    def count(self):
        """Count the experiments of the batch in the shared self.D."""
        if self.is_first_expe():
            self.D.n = 0
        self.D.n += 1
        print(f"expe {self._it + 1}/{self.expe_size}: {self.output_path}")
        if self.is_last_expe():
            print(f"Expe total: {self.D.n}")

    def broken(self):
        """Fail after one iteration."""
        self.write_inf(it=0, loss=1.0)
        raise ValueError("diverged")


class Reports(ExpeFormat):
    _default_expe = dict(_spec="numbered", size=1)  # noqa: RUF012 (as in pymake)

    def report(self):
        """Save the settings of each experiment."""
        self.write_json(dict(self.expe))


class Learn(ExpeFormat):
    def train(self):
        """Build the experiment's model and fit it."""
        model = self.load_model()
        model.fit()
        print(f"fitted {type(model).__name__} {vars(model)}")

    def resume(self):
        """Fit the model an earlier run saved once more."""
        model = self.load_model(load=True)
        print(f"loaded {vars(model)}")
        model.fit()
        print(f"fitted {vars(model)}")
