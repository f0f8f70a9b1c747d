"""``runlab parse``: pull metrics out of the logs of recorded runs into their summaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runlab.cli import cli
from runlab.cli.common import pass_store
from runlab.errors import UsageError
from runlab.store import Store


@cli.command("parse")
@click.option(
    "-p",
    "--parser",
    "parser_refs",
    multiple=True,
    metavar="MODULE[:FN]",
    help="Apply this parser fn(run) -> dict, or every @runlab.parser of MODULE (repeatable).",
)
@click.option(
    "--sweep",
    "sweep_file",
    type=click.Path(dir_okay=False),
    help="Apply the metrics: section of this YAML sweep file.",
)
@click.option("--where", help="Only the runs matching this expression (as in runlab ls).")
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Parse in this many processes (the result is the same).",
)
@pass_store
def parse_command(
    store: Store,
    parser_refs: tuple[str, ...],
    sweep_file: str | None,
    where: str | None,
    workers: int,
) -> None:
    """Parse the logs of recorded runs and merge the values into their summaries.

    Applies the --sweep file's metrics: first, then each --parser in order (a later
    value of the same name wins). Values land in each run's summary.json, and `runlab
    ls` shows them as metrics.* columns. A run without params.json, a running run, a
    missing log, a regex that matches nothing or a parser that raises is one warning
    line, counted as skipped; the other runs are parsed all the same.

    \b
    Examples:
      runlab parse --sweep params.yaml
      runlab parse --parser parsers.py --where "status == 'completed'" --workers 4
      runlab parse -p tools.parsers:bleu -p tools.parsers:loss
    """
    from runlab.record.parsers import load_parsers, metric_rules, parse_runs

    parsers: list[Any] = []
    if sweep_file is not None:
        parsers.extend(metric_rules(_sweep_metrics(Path(sweep_file))))
    parsers.extend(load_parsers(parser_refs))
    if not parsers:
        raise UsageError(
            "nothing to parse with: give --sweep FILE (its metrics:) or --parser MODULE[:FN]"
        )
    if where is not None:
        import runlab

        ids = runlab.load(store).where(where).ids()
        run_dirs = [store.layout.run_dir(run_id) for run_id in ids]
    else:
        run_dirs = store.layout.iter_run_dirs()
    with _Progress(len(run_dirs)) as progress:
        report = parse_runs(
            store.layout, run_dirs, parsers, workers=workers, on_result=progress.advance
        )
    for notice in report.notices:
        click.echo(f"warning: {notice}", err=True)
    click.echo(report.line())


def _sweep_metrics(path: Path) -> Any:
    from runlab.design.sweepfile import load_sweep

    if not path.is_file():
        raise UsageError(f"no sweep file {path}")
    sweep = load_sweep(path)
    if not sweep.metrics:
        raise UsageError(
            f"{path} has no metrics: section; add one like "
            "metrics: {bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)'}}"
        )
    return sweep.metrics


class _Progress:
    """A progress bar on a terminal's stderr, nothing elsewhere.

    Refreshed by hand: a refresh thread would be running while the worker pool forks.
    """

    def __init__(self, total: int) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal and self.total > 1:
            from rich.progress import Progress

            self.bar = Progress(console=self.console, auto_refresh=False, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("parsing", total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, result: Any) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, refresh=True)
