"""``ExpeFormat``: the base class of pymake scripts, whose methods are the actions.

An action runs once per experiment, as one runlab run, with::

    self.expe            # the experiment's settings (attribute access: self.expe.lr)
    self.output_path     # <data>/<refdir>/<repeat>/<format>, without extension
    self.is_first_expe() # the first experiment of this batch (in this process)
    self.is_last_expe()  # the last experiment of this batch
    self.D               # shared by the experiments of a sequential batch
    self._it, self.expe_size, self.run   # position, batch size, the runlab Run

and writes pymake's files next to ``output_path``: ``write_inf(**measures)`` one row of
the per-iteration ``.inf`` (closed with ``# terminated`` when the action returns),
``write_json(results)`` the ``.json``, ``write_pk(obj)`` the gzipped pickle ``.pk.gz``.
Each also reaches the run: ``.inf`` rows are metric points, ``.json`` scalars the summary.

``self.load_model()`` builds the model the experiment's ``model`` setting names (a
class of ``model/`` with a ``fit``, see :mod:`.model`) and keeps it as ``self.model``;
``self.load_model(load=True)`` reads the one an earlier run saved instead. With
``_write=True`` (``-w``) the model is saved to ``<output_path>.pk.gz`` once the action
returns, and the run's summary gets ``model_file``, that file's path.
"""

from __future__ import annotations

import gzip
import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from runlab.compat.pymake import model as models
from runlab.compat.pymake.paths import output_path
from runlab.compat.pymake.project import PmkProject, find_project, model_refs
from runlab.compat.pymake.types import ExpSpace
from runlab.errors import UsageError
from runlab.importers.pymake import TERMINATED


class ExpeFormat:
    """Subclass it in ``script/``; each public method is an action (``-x method``).

    ``_default_expe`` gives settings to experiments that lack them, and is the one
    experiment run when no spec is given (its ``_spec`` names a spec to use instead).
    """

    _default_expe: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        expe: Mapping[str, Any],
        run: Any = None,
        *,
        data: Path = Path("data"),
        position: int = 0,
        size: int = 1,
        first: bool = True,
        last: bool = True,
        shared: ExpSpace | None = None,
        project: PmkProject | None = None,
    ) -> None:
        self.expe = ExpSpace(expe)
        self.s = self.spec = self.expe
        self.run = run
        self.D = shared if shared is not None else ExpSpace()
        self._it = position
        self.expe_size = size
        self._first, self._last = first, last
        self._data = Path(data)
        self.output_path = str(self._data / output_path(self.expe))
        self._inf_columns: tuple[str, ...] | None = None
        self._inf_rows = 0
        self._project = project
        self.model: Any = None

    # -- where the run stands ------------------------------------------------------

    def is_first_expe(self) -> bool:
        """True for the first experiment of the batch this process runs."""
        return self._first

    def is_last_expe(self) -> bool:
        """True for the last experiment of the batch."""
        return self._last

    def get_expe_len(self) -> int:
        return self.expe_size

    def get_expe_it(self) -> int:
        return self._it

    def get_data_path(self) -> str:
        return str(self._data) + "/"

    # -- pymake's files ------------------------------------------------------------

    def _file(self, suffix: str) -> Path:
        path = Path(self.output_path + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_inf(self, **measures: Any) -> None:
        """Append one iteration's measures to ``<output_path>.inf`` (and to the run's metrics).

        The first call writes the header ``#name1 name2 ...``; later calls must give the
        same measures, because the file's columns are fixed.
        """
        for key, value in measures.items():
            if isinstance(value, str) and (not value or any(c.isspace() for c in value)):
                raise UsageError(f"write_inf: {key}={value!r} would break the .inf columns")
        names = tuple(measures)
        path = self._file(".inf")
        if self._inf_columns is None:
            self._inf_columns = names
            path.write_text("#" + " ".join(names) + "\n", encoding="utf-8")
        elif names != self._inf_columns:
            raise UsageError(
                f"write_inf: measures {list(names)} differ from the header "
                f"{list(self._inf_columns)} of {path}"
            )
        row = " ".join(_cell(measures[n]) for n in names)
        with path.open("a", encoding="utf-8") as f:
            f.write(row + "\n")
        if self.run is not None:
            self.run.log(step=self._inf_rows, **measures)
        self._inf_rows += 1

    def write_json(self, results: Mapping[str, Any]) -> Path:
        """Write ``<output_path>.json``; its scalar values also go to the run's summary."""
        path = self._file(".json")
        path.write_text(json.dumps(dict(results), indent=2, default=str) + "\n", encoding="utf-8")
        if self.run is not None:
            scalars = {k: v for k, v in results.items() if isinstance(v, (int, float, str, bool))}
            self.run.summary(scalars)
        return path

    def write_pk(self, obj: Any) -> Path:
        """Write ``obj`` pickled and gzipped to ``<output_path>.pk.gz``."""
        path = self._file(".pk.gz")
        with gzip.open(path, "wb") as f:
            pickle.dump(obj, f)
        return path

    # -- the model ---------------------------------------------------------------------

    @property
    def model_file(self) -> Path:
        """Where the experiment's model is saved: ``<output_path>.pk.gz``, as pymake."""
        return Path(self.output_path + models.MODEL_SUFFIX)

    def _pmk_project(self) -> PmkProject:
        # Outside runlab's worker (a script built by hand) the project is the working dir's.
        if self._project is None:
            self._project = find_project()
            if self._project is None:
                raise UsageError(f"load_model: {Path.cwd()} is not in a pymake project")
        return self._project

    def load_model(self, load: bool = False) -> Any:
        """Build the model the ``model`` setting names (``load=True``: read the saved one).

        The model becomes ``self.model``, the one ``_write=True`` saves at the end.
        """
        project = self._pmk_project()
        if load:
            self.model = models.load(self.model_file, project.model_modules())
            return self.model
        ref = self.expe.get(models.MODEL_SETTING)
        if not isinstance(ref, str) or not ref:
            known = ", ".join(model_refs(project.models())) or f"none in {project.model_dir}"
            raise UsageError(
                f"load_model: the experiment's setting {models.MODEL_SETTING!r} must name a "
                f"model, got {ref!r}; models: {known}"
            )
        try:
            found = project.model(ref)
        except UsageError as err:
            raise UsageError(f"load_model: setting {models.MODEL_SETTING}={ref!r}: {err}") from None
        self.model = models.build(found, self.expe)
        return self.model

    def write_model(self) -> Path | None:
        """Save ``self.model`` to :attr:`model_file` (nothing without a loaded model)."""
        if self.model is None:
            return None
        path = models.save(self.model, self.model_file)
        if self.run is not None:
            self.run.summary({"model_file": str(path)})
        return path

    def close(self, *, ok: bool) -> None:
        """End the experiment: a completed ``.inf`` gets its ``# terminated`` line, and
        with ``_write`` the model is saved (after the action, so it holds the fitted state).
        """
        if not ok:
            return
        if self.expe.get(models.WRITE_SETTING):
            self.write_model()
        if self._inf_columns is not None:
            with Path(self.output_path + ".inf").open("a", encoding="utf-8") as f:
                f.write(f"# {TERMINATED}\n")


def _cell(value: Any) -> str:
    # repr keeps every digit of a float (str did too, but says so less plainly).
    return repr(value) if isinstance(value, float) else str(value)


def actions_of(cls: type) -> list[str]:
    """The action names of a script class: its public methods, ExpeFormat's own excluded."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        if klass in (object, ExpeFormat) or issubclass(ExpeFormat, klass):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and callable(value) and name not in names:
                names.append(name)
    return names
