"""``runlab import``: bring a foreign result tree into a store (see runlab.importers)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from runlab.cli import cli
from runlab.cli.common import pass_store
from runlab.importers import FORMATS, ImportReport, import_tree
from runlab.store import Store


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr, for trees of many folders; nothing otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("importing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _print_plan(report: ImportReport) -> None:
    for change in report.changes:
        run = f" (run {change.run_id})" if change.run_id else ""
        click.echo(f"{change.action.value:<7} {change.source}{run}")


@cli.command("import", short_help="Import a naklar, meticulous, mlrunner, pymake or alchemie tree.")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Store to import into (default: the --store of runlab).",
)
@click.option(
    "--settings",
    metavar="FILE",
    help="naklar: every folder holding FILE (conf.json, .yaml, .pkl, .jbl) is a run.",
)
@click.option(
    "--load-func",
    metavar="MODULE:FN",
    help="Read each --settings FILE with FN(path) -> dict (module or file.py).",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    help="Read the folders this tool writes.",
)
@click.option(
    "--allow-pickle",
    is_flag=True,
    help="Load pickles and joblib dumps. Unpickling runs code stored in the file: "
    "only for files you trust.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="KEY",
    help="A settings key that is a result: it goes to the summary (repeatable).",
)
@click.option(
    "--name-format",
    metavar="TEMPLATE",
    help="pymake: read params back from file names written with this _format ('{model}_{K}').",
)
@click.option("--dry-run", is_flag=True, help="List what would be imported; write nothing.")
@pass_store
def import_(
    store: Store,
    path: Path,
    into: Path | None,
    settings: str | None,
    load_func: str | None,
    format_: str | None,
    allow_pickle: bool,
    metrics: tuple[str, ...],
    name_format: str | None,
    dry_run: bool,
) -> None:
    """Import the runs of another tool's result tree under PATH as runlab runs.

    Each run becomes an ordinary run folder (params, summary, metrics, logs, status),
    with the source folder in run.json's imported_from. Importing again is
    incremental: new folders are added, changed ones re-read, and the runs of
    folders that are gone are deleted from the store (only runs imported from PATH).
    A folder that cannot be read is a warning, counted as skipped.

    \b
    Examples:
      runlab import results --settings conf.json --metric f1 --metric accuracy
      runlab import results --settings conf.pkl --allow-pickle
      runlab import experiments --format meticulous --into runs
      runlab import output --format mlrunner --dry-run
      runlab import .pmk/results --format pymake --name-format '{model}_{K}'
    """
    target = Store.at(into) if into is not None else store
    with _progress() as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = import_tree(
            path,
            target,
            settings=settings,
            load_func=load_func,
            format=format_,
            allow_pickle=allow_pickle,
            metrics=metrics,
            name_format=name_format,
            dry_run=dry_run,
            progress=progress,
        )
    seen: set[str] = set()
    for w in caught:
        if not issubclass(w.category, UserWarning):
            continue  # a library's deprecation notice is not the user's business here
        line = str(w.message).splitlines()[0] if str(w.message) else w.category.__name__
        if line not in seen:
            seen.add(line)
            click.echo(f"warning: {line}", err=True)
    if dry_run:
        _print_plan(report)
    click.echo(report.summary_line())
