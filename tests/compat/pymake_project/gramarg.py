"""The project's command-line options: the seed's ``_gram`` examples (import line adapted)."""

from functools import partial

from runlab.compat.pymake.gram import exp_append, exp_append_uniq

_gram = [
    "--my_key", dict(nargs="*", action=partial(exp_append, _t=int)),
    "--tag", dict(type=str, help="simple option from command-line"),
    "--shape", dict(nargs="*", action=partial(exp_append_uniq, _t=int)),
]  # fmt: skip
