"""python -m runlab runs the runlab command."""

from runlab.cli import main

main()
