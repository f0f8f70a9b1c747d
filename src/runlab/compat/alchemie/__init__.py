"""alchemie's experiment modules, run by runlab: ``runlab create`` and ``runlab run-one``.

An alchemie user keeps their experiment module (``preamble``, ``draw_pars``,
``load_data``, ``new_trainer``, ``make_report``) and swaps ``alc.py`` for ``runlab``::

    runlab create experiments --from exp.py --amount 20    # experiments/1 … 20, cfg.py in each
    runlab run-one experiments/7                           # exit 9 when interrupted: run again
    runlab --store experiments best --metric val_loss --mode min

Each config folder is an ordinary run folder of the store ``DIR``, so every runlab
query command works on it. The modules: :mod:`.experiment` (the protocol),
:mod:`.configs` (``cfg.py`` and ``create``), :mod:`.runner` (``run_one``).
"""

from runlab.compat.alchemie.configs import create, read_config, render_config
from runlab.compat.alchemie.experiment import PROTOCOL, Experiment
from runlab.compat.alchemie.runner import INTERRUPTED_EXIT_CODE, Outcome, is_complete, run_one

__all__ = [
    "INTERRUPTED_EXIT_CODE",
    "PROTOCOL",
    "Experiment",
    "Outcome",
    "create",
    "is_complete",
    "read_config",
    "render_config",
    "run_one",
]
