"""The meticulous command: list, filter, group, sort and export a folder of experiments.

An argparse program like the one it replaces (its options keep meticulous's spelling,
``--sort_reverse`` included); runlab's own CLI is the click one in :mod:`runlab.cli`.
Errors are one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from runlab.compat import command_exit_code
from runlab.errors import UsageError

PROG = "runlab-meticulous"
EXAMPLE = """\
The operations apply in this order: filter, groupby, sort, columns, tail.
Columns are named args_<argument> and summary_<value>; after --groupby, numeric
columns become <name>_mean and <name>_std, the others <name>_count.

example:
  %(prog)s experiments/ \\
      --filter "args_xval_strategy=='xval'" \\
      --groupby args_k,args_method \\
      --columns summary_significance_mean,summary_significance_std \\
      --sort summary_significance_mean \\
      --export table.md
"""


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List the experiments recorded by meticulous (or runlab.compat.meticulous).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "experiments_directory",
        nargs="?",
        default="experiments",
        help="the folder of numbered experiments (default: experiments)",
    )
    parser.add_argument(
        "--filter", metavar="QUERY", help="a pandas query, e.g. \"status=='SUCCESS' and args_k>8\""
    )
    parser.add_argument(
        "--groupby", metavar="COLUMNS", help="comma-separated columns to group experiments by"
    )
    parser.add_argument(
        "--sort", metavar="COLUMNS", help="comma-separated columns to sort by, largest first"
    )
    parser.add_argument("--sort_reverse", action="store_true", help="sort smallest first instead")
    parser.add_argument("--columns", metavar="COLUMNS", help="comma-separated columns to show")
    parser.add_argument("--tail", type=int, metavar="K", help="show only the last K rows")
    parser.add_argument(
        "--export",
        metavar="FILE",
        help="also write the table to FILE: .pd (pickled DataFrame), .csv, .json, .md, .tex "
        "(or .html, .parquet)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (0, or 2 for a user error)."""
    args = build_parser().parse_args(argv)
    return command_exit_code(lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    from runlab.compat.meticulous.reader import experiments_dataframe
    from runlab.compat.meticulous.table import check_export, export, format_frame, shape

    if args.export:
        check_export(Path(args.export))  # before any output, so a typo costs nothing
    directory = Path(args.experiments_directory)
    if not directory.is_dir():
        raise UsageError(f"{args.experiments_directory}: no such experiments directory")
    frame = experiments_dataframe(args.experiments_directory)
    if frame.empty:
        print(f"no experiments in {args.experiments_directory}", file=sys.stderr)
        return
    table = shape(
        frame,
        filter=args.filter,
        groupby=_names(args.groupby),
        sort=_names(args.sort),
        sort_reverse=args.sort_reverse,
        columns=_names(args.columns),
        tail=args.tail,
    )
    if table.empty and args.filter:
        print(f"no experiment matches --filter {args.filter!r}", file=sys.stderr)
    else:
        print(format_frame(table))
    if args.export:
        export(table, Path(args.export))


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]
