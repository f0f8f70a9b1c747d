"""pymake, on runlab: its specs, scripts and project layout, run as runlab sweeps.

Change the import lines and a pymake project runs with ``runlab run``::

    # spec/designs.py
    from runlab.compat.pymake import ExpDesign, ExpSpace, ExpTensor, ExpGroup

    class MyDesign(ExpDesign):
        exp2 = ExpTensor(name='myexpe', size=[42, 100], key1=[20, 30], key2='johndoe',
                         _format='{name}-{size}-{key1}_{key2}')

    # script/scripts.py
    from runlab.compat.pymake import ExpeFormat

    class MyScripts(ExpeFormat):
        def fit(self):
            self.write_inf(it=0, loss=1.0 / self.expe.size)

    $ runlab run exp2 -x fit              # was: pmk exp2 -x fit
    $ runlab list designs                 # was: pmk -l spec
    $ runlab list models                  # was: pmk -l model (classes of model/ with a fit)
    $ runlab run exp2 -x fit -- -w        # was: pmk exp2 -x fit -w (save self.load_model()'s)
    $ python -m runlab.compat.pymake exp2 -x fit --size 7 --pmk key2=ada   # pmk's own options

Every experiment is a runlab run (its run name is its file name), and its files are
where pymake wrote them: ``<data>/<_refdir>/<_repeat>/<_format>.inf|.json|.pk.gz``,
which :mod:`runlab.importers.pymake` (``runlab import --format pymake``) reads.
The modules: :mod:`.types` (the design objects), :mod:`.expand` and :mod:`.bind` (specs
to experiments), :mod:`.paths` (file names), :mod:`.project` (``pymake.cfg``),
:mod:`.gram` (the command-line grammar), :mod:`.script` (ExpeFormat), :mod:`.model`
(the models: built, saved, loaded), :mod:`.design` (the Sweep), :mod:`.actions` (the
task runlab's workers run), :mod:`.cli` (the command).
"""

from __future__ import annotations

from runlab.compat.pymake.design import SpecDesign, spec_sweep
from runlab.compat.pymake.gram import exp_append, exp_append_uniq
from runlab.compat.pymake.project import PmkProject, find_project
from runlab.compat.pymake.script import ExpeFormat
from runlab.compat.pymake.types import ExpDesign, ExpGroup, ExpSpace, ExpTensor, ExpVector

__all__ = [
    "ExpDesign",
    "ExpGroup",
    "ExpSpace",
    "ExpTensor",
    "ExpVector",
    "ExpeFormat",
    "PmkProject",
    "SpecDesign",
    "exp_append",
    "exp_append_uniq",
    "find_project",
    "spec_sweep",
]
