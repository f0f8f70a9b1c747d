"""meticulous, on runlab: the ``Experiment`` API, its ``experiments/N/`` folders, its reader.

Change the import line and a meticulous script records runlab runs that meticulous's
own reader and analysis code still read::

    from runlab.compat.meticulous import Experiment   # was: from meticulous import Experiment

    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=8)
    Experiment.add_argument_group(parser)
    experiment = Experiment.from_parser(parser)
    args = parser.parse_args()
    experiment.summary({"loss": 0.1})

    frame = experiments_dataframe("experiments")       # index (sha, expid); args_*, summary_*

The command ``python -m runlab.compat.meticulous experiments/ --groupby args_k`` lists
them (see :mod:`runlab.compat.meticulous.cli`). ``docs/migrating.md`` says what differs.
"""

from __future__ import annotations

from runlab.compat.meticulous.experiment import Experiment
from runlab.compat.meticulous.folder import Status
from runlab.compat.meticulous.reader import (
    ExperimentReader,
    experiments_dataframe,
    read_experiments,
)

__all__ = [
    "Experiment",
    "ExperimentReader",
    "Status",
    "experiments_dataframe",
    "read_experiments",
]
