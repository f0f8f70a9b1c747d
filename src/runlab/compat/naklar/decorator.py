"""naklar's ready-made decorator: ``translate_path``, for paths written on another machine.

Usage::

    from functools import partial
    from runlab.compat.naklar import decorator, experiment

    home_path = partial(decorator.translate_path,
                        ptrn='/mnt/scratch/results/', replace='/usr/local/scratch/results/')
    experiment.initialise('./results', decorators={'output': (home_path, None)})

A decorator is called as ``fn(self, value)`` (:mod:`runlab.compat.naklar.loader`);
its result is stored in the column, so ``select('output')`` and filters on
``E.output`` see translated paths. runlab's own way, for plain prefixes and applied
in SQL: ``runlab.load(store, translate={'/mnt/scratch/': '/usr/local/scratch/'})``.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

from runlab.errors import UsageError


class PathWarning(UserWarning):
    """A translated path does not exist on this machine."""


def translate_path(self: Any, path: str | os.PathLike[str] | None, ptrn: str, replace: str) -> Any:
    """``path`` with the regular expression ``ptrn`` replaced by ``replace``, normalised.

    ``~`` and ``$VARS`` are expanded afterwards. None stays None. A result that does
    not exist is a :class:`PathWarning` (naklar built that warning and never issued it).
    """
    if path is None:
        return None
    try:
        translated = re.sub(ptrn, replace, os.fspath(path))
    except re.error as exc:
        raise UsageError(
            f"translate_path: ptrn={ptrn!r} is not a regular expression: {exc}"
        ) from None
    translated = os.path.normpath(os.path.expanduser(os.path.expandvars(translated)))
    if not os.path.exists(translated):
        warnings.warn(f"translated path {translated!r} does not exist", PathWarning, stacklevel=2)
    return translated


__all__ = ["PathWarning", "translate_path"]
