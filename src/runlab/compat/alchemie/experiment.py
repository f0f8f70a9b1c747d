"""An alchemie experiment module, loaded, with each protocol function checked at its call.

The protocol, as alchemie documents it::

    preamble(job_index) -> str             Python comments put at the top of each cfg.py
    draw_pars(n=1) -> iterable of n dicts  the random configurations
    load_data(pars) -> data                at every start and every continuation
    new_trainer(pars, data) -> trainer     only when there is no checkpoint to continue
    make_report(pars, trainer, data) -> dict   after every attempt

``preamble`` may be left out (no preamble); the other four are required by the
command that calls them (``create`` needs ``draw_pars``; ``run-one`` the last three).
Mistakes in what a function returns are one-line :class:`~runlab.errors.UsageError`
messages naming the function; exceptions raised inside user code propagate with
their traceback, which is what a user needs to fix their own code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from runlab.errors import UsageError
from runlab.imports import import_module, is_file_ref

PROTOCOL = ("preamble", "draw_pars", "load_data", "new_trainer", "make_report")


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment module and the reference that loads it again.

    ``source`` is what ``run-one`` needs to find the module later: the absolute path
    of a file, or a dotted module name (imported from the working directory).

    Usage::

        experiment = Experiment.load("exp.py")
        pars = experiment.draw_pars(3)
    """

    module: ModuleType
    source: str

    @classmethod
    def load(cls, ref: str) -> Experiment:
        """Import the module ``ref`` names: a ``.py`` file or a dotted module name."""
        try:
            module, _ = import_module(ref, what=f"alchemie module {ref!r}")
        except SyntaxError as err:
            raise UsageError(
                f"alchemie module {ref!r}: {err.filename}:{err.lineno}: {err.msg}"
            ) from None
        source = str(Path(ref).resolve()) if is_file_ref(ref) else ref
        return cls(module, source)

    @property
    def name(self) -> str:
        """How messages name the module: its file name, or its dotted name."""
        return Path(self.source).name if is_file_ref(self.source) else self.source

    def require(self, *names: str) -> None:
        """Raise UsageError unless the module defines every function in ``names``."""
        missing = [n for n in names if not callable(getattr(self.module, n, None))]
        if missing:
            raise UsageError(
                f"alchemie module {self.name} has no {', '.join(missing)}: an experiment "
                f"module defines {', '.join(PROTOCOL)} (preamble may be left out)"
            )

    def preamble(self, job_index: int) -> str:
        """The module's preamble for config ``job_index``; '' when it defines none.

        cfg.py is read as data and never run, so a preamble must be comments only:
        code in it would be silently ignored, and is refused instead.
        """
        function = getattr(self.module, "preamble", None)
        if function is None:
            return ""
        text = function(job_index)
        if not isinstance(text, str):
            raise UsageError(
                f"{self.name}: preamble({job_index}) returned {type(text).__name__}, not a str"
            )
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                raise UsageError(
                    f"{self.name}: preamble({job_index}) line {number} is not a comment: "
                    f"{line.strip()!r} (start every line with '#')"
                )
        return text

    def draw_pars(self, n: int) -> list[dict[str, Any]]:
        """``draw_pars(n)`` as a list of ``n`` plain dicts (see :func:`plain_pars`)."""
        self.require("draw_pars")
        drawn = self.module.draw_pars(n)
        if isinstance(drawn, Mapping) or not isinstance(drawn, Iterable):
            raise UsageError(
                f"{self.name}: draw_pars({n}) returned {type(drawn).__name__}: "
                "return an iterable of dicts (a list, or sklearn's ParameterSampler)"
            )
        result = []
        for i, pars in enumerate(drawn):
            if not isinstance(pars, Mapping):
                raise UsageError(
                    f"{self.name}: draw_pars({n}) item {i} is {type(pars).__name__}, not a dict"
                )
            result.append(plain_pars(pars, where=f"{self.name}: draw_pars({n}) item {i}"))
        if len(result) != n:
            raise UsageError(f"{self.name}: draw_pars({n}) gave {len(result)} configurations")
        return result

    def load_data(self, pars: Mapping[str, Any]) -> Any:
        return self.module.load_data(pars)

    def new_trainer(self, pars: Mapping[str, Any], data: Any) -> Any:
        return self.module.new_trainer(pars, data)

    def make_report(self, pars: Mapping[str, Any], trainer: Any, data: Any) -> dict[str, Any]:
        """``make_report(pars, trainer, data)``, which must return a dict."""
        report = self.module.make_report(pars, trainer, data)
        if not isinstance(report, Mapping):
            raise UsageError(
                f"{self.name}: make_report returned {type(report).__name__}, not a dict"
            )
        return dict(report)


def plain_pars(pars: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """Return ``pars`` as Python literals that cfg.py can hold and ``ast.literal_eval`` read.

    numpy scalars and arrays become numbers and lists (sklearn's ParameterSampler
    draws numpy values); tuples stay tuples, so the module gets back what it drew.
    Anything else, and NaN or infinite floats (no literal spells them), is refused.
    """
    return {_key(k, where): _plain(v, f"{where}: par {k!r}") for k, v in pars.items()}


def _key(key: Any, where: str) -> str:
    if not isinstance(key, str):
        raise UsageError(f"{where}: par name {key!r} is not a str")
    return key


def _plain(value: Any, where: str) -> Any:
    # Subclasses become their base type: numpy.float64 is a float whose repr is not a literal.
    if value is None or isinstance(value, bool):  # bool cannot be subclassed
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{where} is {value!r}: cfg.py can hold only finite numbers")
        return float(value)
    if isinstance(value, Mapping):
        return {_plain(k, where): _plain(v, where) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v, where) for v in value)
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars (.tolist() is .item()) and arrays
    if callable(tolist):
        return _plain(tolist(), where)
    raise UsageError(
        f"{where} is a {type(value).__name__} ({value!r}): cfg.py holds data only: "
        "numbers, strings, booleans, None, and lists, tuples and dicts of them"
    )
