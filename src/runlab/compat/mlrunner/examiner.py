"""mlrunner's ``Examiner``: apply metric parsers to every experiment folder, then tabulate.

A parser is ``fn(output_dir, experiment, caches)``: ``output_dir`` is the experiment's
folder (a :class:`~pathlib.Path`), ``experiment`` an :data:`Experiment` whose ``param``
dict holds the folder's params and whose ``metric`` and ``cache`` dicts the parser
fills, and ``caches`` one dict shared by every experiment. It works over folders
mlrunner wrote and over runlab stores alike (see :mod:`runlab.compat.mlrunner.folders`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from runlab.compat.mlrunner.folders import load_params, match_output

if TYPE_CHECKING:
    import pandas as pd


class Experiment(NamedTuple):
    """One experiment folder as parsers see it: three dicts they read and fill."""

    cache: dict[str, Any]
    metric: dict[str, Any]
    param: dict[str, Any]


Parser = Callable[[Path, Experiment, dict[str, Any]], Any]
_MISSING = object()


class Examiner:
    """A container of parsers and of what they found, one :data:`Experiment` per folder.

    Usage::

        examiner = Examiner()
        examiner.add(add_bleu)                     # add_bleu(output_dir, experiment, caches)
        examiner.exam(output="output", regex=".*")
        df = examiner.table(print_tsv=True)        # the params that differ, then the metrics

    ``experiments`` maps each folder's name to its Experiment and ``caches`` is the
    dict shared by all parsers; both persist across ``exam`` calls, so examining
    another output folder adds to the same table.
    """

    def __init__(self) -> None:
        self.exams: list[Parser] = []
        self.caches: dict[str, Any] = {}
        self.experiments: dict[str, Experiment] = {}

    def add(self, func: Parser) -> None:
        """Register a parser; each runs once per folder, in the order they were added."""
        if func not in self.exams:  # mlrunner kept a set: adding twice ran it once
            self.exams.append(func)

    def exam(
        self,
        output: str | os.PathLike[str] = "output",
        regex: str = ".*",
        verbose: bool = False,
        workers: int = -1,
    ) -> None:
        """Apply every parser to each experiment folder of ``output`` whose name matches.

        A folder without params (no ``param`` file, no ``run.json``) is skipped.
        ``workers > 0`` runs that many folders at once in threads; each folder's parsers
        then get a ``caches`` dict of their own, merged into :attr:`caches` afterwards
        in folder order, as mlrunner's parallel mode did.
        """
        found = [(path, load_params(path)) for path in match_output(output, regex)]
        for path, params in found:
            if params is None and verbose:
                print(f"skip {path}: no param file or run.json")
        folders = [(path, params) for path, params in found if params is not None]
        if workers > 0:
            self._exam_parallel(folders, verbose=verbose, workers=workers)
            return
        for path, params in folders:
            if verbose:
                print(path.name)
            experiment = self._experiment(path.name, params)
            for parser in self.exams:
                parser(path, experiment, self.caches)

    def _exam_parallel(
        self, folders: Sequence[tuple[Path, dict[str, Any]]], *, verbose: bool, workers: int
    ) -> None:
        def examine(item: tuple[Path, dict[str, Any]]) -> tuple[Experiment, dict[str, Any]]:
            path, params = item
            if verbose:
                print(path.name, flush=True)
            experiment, caches = Experiment({}, {}, dict(params)), {}
            for parser in self.exams:
                parser(path, experiment, caches)
            return experiment, caches

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(examine, folders))
        for (path, params), (found, caches) in zip(folders, results, strict=True):
            experiment = self._experiment(path.name, params)
            experiment.param.update(found.param)
            experiment.metric.update(found.metric)
            experiment.cache.update(found.cache)
            self.caches.update(caches)

    def _experiment(self, name: str, params: dict[str, Any]) -> Experiment:
        if name not in self.experiments:
            self.experiments[name] = Experiment({}, {}, {})
        self.experiments[name].param.update(params)
        return self.experiments[name]

    def table(self, concise: bool = True, print_tsv: bool = False) -> pd.DataFrame:
        """Return one row per experiment: its params (only those that differ), then metrics.

        Params whose name starts with ``_`` (``_name``, ``_output``...) are left out.
        With ``concise`` a param is shown when its value differs between experiments,
        a param some experiments lack included; ``concise=False`` shows them all.
        Columns keep the order in which params and metrics first appear. With
        ``print_tsv`` the table is also printed as tab-separated lines (a missing value
        as an empty cell).
        """
        import pandas as pd

        experiments = list(self.experiments.values())
        params = _first_seen(k for e in experiments for k in e.param if not k.startswith("_"))
        if concise:
            params = [k for k in params if _differs(e.param.get(k, _MISSING) for e in experiments)]
        metrics = _first_seen(k for e in experiments for k in e.metric)
        rows = [
            [e.param.get(k) for k in params] + [e.metric.get(k) for k in metrics]
            for e in experiments
        ]
        headers = params + metrics
        if print_tsv:
            print("\t".join(headers))
            for row in rows:
                print("\t".join("" if value is None else str(value) for value in row))
        return pd.DataFrame(rows, columns=headers)


def _first_seen(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def _differs(values: Iterable[Any]) -> bool:
    """Whether the values (``_MISSING`` for an absent param) are not all the same."""
    seen = {None if v is _MISSING else json.dumps(v, sort_keys=True, default=str) for v in values}
    return len(seen) > 1


__all__ = ["Examiner", "Experiment", "Parser"]
