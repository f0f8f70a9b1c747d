"""``python -m runlab.compat.meticulous``: the meticulous command."""

from runlab.compat.meticulous.cli import main

raise SystemExit(main())
