"""``python -m runlab.compat.pymake``: the pmk command (see :mod:`.cli`)."""

import sys

from runlab.compat.pymake.cli import main

sys.exit(main())
