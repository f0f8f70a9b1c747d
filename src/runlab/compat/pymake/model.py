"""pymake models: the classes of ``model/`` that have a ``fit``, built and saved for actions.

A model is named by its class name, or ``module.Class`` (the file's stem, then the
class) when two model files define a class of that name. An experiment names its model
in its ``model`` setting; in an action, ``self.load_model()`` builds it::

    # model/counter.py                       # spec: ExpSpace(model='Counter', K=3, ...)
    class Counter:
        def __init__(self, expe):            # takes the experiment: gets its settings
            self.K, self.seen = expe['K'], 0
        def fit(self):
            self.seen += self.K

How a model is built, since pymake's own models took the experiment and its
scikit-learn ones took their settings as keywords: a constructor whose first parameter
is required gets the experiment (an :class:`~.types.ExpSpace`); any other constructor
gets, as keywords, the settings named like its parameters (none for ``__init__(self)``).

With ``_write=True`` in the experiment (``-w`` on the command line) the model is saved
after the action returns, as a gzipped pickle ``<output_path>.pk.gz``: the file pymake
saved results and models to, which old analysis code opens. ``load_model(load=True)``
reads it back. The pickle names the model's class by the module runlab imported its
file as, which holds a digest of the file's path; loading finds the class again in the
project's ``model/`` file of the same name, so a moved or copied project still loads
the models it saved.
"""

from __future__ import annotations

import gzip
import inspect
import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from runlab.errors import UsageError
from runlab.imports import FILE_MODULE_PREFIX, from_file
from runlab.record.files import replacing

MODEL_SETTING = "model"
WRITE_SETTING = "_write"
MODEL_SUFFIX = ".pk.gz"


@dataclass(frozen=True)
class Model:
    """A model class of the project: the class, its file, its first doc line and line."""

    cls: type
    path: Path
    doc: str = ""
    line: int = 0

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def qualified(self) -> str:
        """``module.Class``: the file's stem and the class, unique in the project."""
        return f"{self.path.stem}.{self.cls.__name__}"


def is_model(value: Any, module: str) -> bool:
    """A public class defined in ``module`` with a callable ``fit`` (pymake's definition).

    Classes imported into a model file are the other file's (or a library's), so each
    model is found once, in the file that defines it.
    """
    return (
        isinstance(value, type)
        and value.__module__ == module
        and not value.__name__.startswith("_")
        and callable(getattr(value, "fit", None))
        and not inspect.isabstract(value)
    )


def model_of(cls: type, path: Path) -> Model:
    doc = (cls.__doc__ or "").strip().splitlines()
    try:
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        line = 0
    return Model(cls, path, doc[0] if doc else "", line)


def _takes_expe(cls: type) -> tuple[bool, set[str]]:
    """Whether the constructor's first parameter is required, and its keyword names."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):  # a builtin or C type without a signature: no arguments
        return False, set()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = (
        bool(params) and params[0].kind in positional and params[0].default is params[0].empty
    )
    keywords = {p.name for p in params if p.kind in (*positional, p.KEYWORD_ONLY)}
    return required, keywords


def build(model: Model, expe: Mapping[str, Any]) -> Any:
    """A new instance of ``model`` for the experiment ``expe`` (see the module's doc)."""
    takes_expe, keywords = _takes_expe(model.cls)
    if takes_expe:
        return model.cls(expe)
    return model.cls(**{k: v for k, v in expe.items() if k in keywords})


def save(obj: Any, path: Path) -> Path:
    """Pickle and gzip ``obj`` to ``path`` atomically: readers see the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp, gzip.open(tmp, "wb") as f:
        pickle.dump(obj, f)
    return path


class _Unpickler(pickle.Unpickler):
    """Finds classes of ``model/`` files under the names this project imports them as."""

    def __init__(self, file: Any, modules: Mapping[str, ModuleType]) -> None:
        super().__init__(file)
        self._modules = modules

    def find_class(self, module: str, name: str) -> Any:
        if from_file(module) and module not in sys.modules:
            # FILE_MODULE_PREFIX + stem + "_" + digest: the same file, elsewhere on disk
            stem = module[len(FILE_MODULE_PREFIX) :].rpartition("_")[0]
            if stem in self._modules:
                module = self._modules[stem].__name__
        return super().find_class(module, name)


def load(path: Path, modules: Mapping[str, ModuleType]) -> Any:
    """The model saved at ``path``, its classes looked up in ``modules`` (``model/``'s files,
    by stem); UsageError naming the path when it is missing or unreadable.
    """
    if not path.is_file():
        raise UsageError(
            f"load_model(load=True): no saved model {path}: run an action on this "
            f"experiment with -w (or {WRITE_SETTING}=True) first"
        )
    try:
        with gzip.open(path, "rb") as f:
            return _Unpickler(f, modules).load()
    except Exception as err:  # a truncated file or a class no longer in model/
        line = str(err).splitlines()[0] if str(err) else ""
        raise UsageError(
            f"load_model(load=True): cannot read {path}: {type(err).__name__}: {line}"
        ) from None
