"""mlrunner, on runlab: ``Examiner`` and ``latest_log`` over runlab runs and mlrunner folders.

mlrunner's ``params.yaml`` runs unchanged with ``runlab run params.yaml`` (its ``run``
options map as ``docs/migrating.md`` lists). Its analysis code changes only the import
line::

    from runlab.compat.mlrunner import Examiner, latest_log   # was: from mlrunner.examine ...

    def add_bleu(output_dir, experiment, caches):
        experiment.metric["bleu"] = parse_bleu(latest_log("test", output_dir))

    examiner = Examiner()
    examiner.add(add_bleu)
    examiner.exam(output="output", regex=".*")   # a runlab store, or mlrunner's output folder
    df = examiner.table(print_tsv=True)
"""

from __future__ import annotations

from runlab.compat.mlrunner.examiner import Examiner, Experiment
from runlab.compat.mlrunner.folders import latest_log, load_params, match_output

__all__ = ["Examiner", "Experiment", "latest_log", "load_params", "match_output"]
