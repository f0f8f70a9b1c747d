"""naklar, on runlab: load a tree of per-experiment settings dicts and query it with SQL.

Change the import lines; the analysis code stays::

    from runlab.compat.naklar import decorator, experiment, util   # was: from naklar import ...

    experiment.initialise('./results/', autoload=True, dict_file='conf.jbl',
                          load_func=util.load_joblib)
    experiment.select('path', 'C', C=[1, 2])
    experiment.select('i', 'kernel', 'f1', experiment.E.f1 > 0.82)

Modules: :mod:`.experiment` (naklar's functions and where the store lives), :mod:`.table`
(``E``, ``select`` and rows over :func:`runlab.load`), :mod:`.loader` (reading settings
files, decorators as computed columns), :mod:`.decorator` (``translate_path``),
:mod:`.util` (``load_joblib``). ``docs/migrating.md`` says what differs from naklar.
"""

from __future__ import annotations

from runlab.compat.naklar import decorator, experiment, util

__all__ = ["decorator", "experiment", "util"]
