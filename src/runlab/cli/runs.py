"""Record commands: show, logs, diff (ls lives in cli/table.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from runlab.cli import cli
from runlab.cli.common import pass_store
from runlab.cli.complete import complete_runs
from runlab.errors import RunNotFound
from runlab.record.compare import UNSET, RunDiff, diff_runs
from runlab.record.files import dumps, read_json
from runlab.record.logs import command_logs, follow, tail_offset
from runlab.record.overview import TAIL_LINES, RunOverview, overview
from runlab.record.reader import RunReader, effective_status
from runlab.record.status import RunStatus
from runlab.store import Store

if TYPE_CHECKING:
    from rich.console import Console


@cli.command("show")
@click.argument("run", shell_complete=complete_runs)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@pass_store
def show(store: Store, run: str, as_json: bool) -> None:
    """Show one run: its record, params, summary and the end of its output.

    RUN is a run id or a run name (the newest run of that name). A sweep run of named
    commands also lists each command's status, exit code and the attempt that ran it.

    \b
    Examples:
      runlab show 7
      runlab show baseline --json
    """
    reader = RunReader(store.resolve(run))
    view = overview(reader)
    steps = _steps(reader.record)
    if as_json:
        data = view.as_json()
        if steps:
            data["commands"] = steps
        click.echo(dumps(data))
        return
    _print_overview(view, steps)


def _steps(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-command statuses ``run.json`` holds for a sweep run of named commands."""
    steps = record.get("commands")
    if not isinstance(steps, dict):
        return {}
    return {str(k): v for k, v in steps.items() if isinstance(v, dict)}


@cli.command("logs", short_help="Print a run's stdout or stderr, or a command's log.")
@click.argument("run", shell_complete=complete_runs)
@click.option("--stderr", "stderr", is_flag=True, help="Print stderr.log instead of stdout.log.")
@click.option("-c", "--command", "command", help="A sweep command's log (logs/NAME.log) instead.")
@click.option(
    "-f", "--follow", "keep_following", is_flag=True, help="Keep printing while the run is running."
)
@click.option(
    "-n",
    "--tail",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Start from the last N lines (default: the whole log).",
)
@pass_store
def logs(
    store: Store,
    run: str,
    stderr: bool,
    command: str | None,
    keep_following: bool,
    tail: int | None,
) -> None:
    """Print the output a run wrote to stdout (or stderr), as it was written.

    A sweep run of shell commands has one log per command (stdout and stderr together):
    name it with --command, or get them all, each under a ``==> name <==`` header.

    \b
    Examples:
      runlab logs 7
      runlab logs baseline --stderr -n 20
      runlab logs 7 --follow
      runlab logs lr=0.1 --command train
    """
    run_dir = store.resolve(run)
    path = run_dir.stderr_log if stderr else run_dir.stdout_log
    commands = command_logs(run_dir)
    if command is not None:
        path = run_dir.path / "logs" / f"{command}.log"
        if not path.is_file():
            known = ", ".join(p.stem for p in commands) or "none"
            raise RunNotFound(
                f"run {run_dir.id} has no log of command {command!r} (it has: {known})"
            )
    elif not path.exists() and commands:
        if keep_following or len(commands) == 1:
            path = max(commands, key=lambda p: p.stat().st_mtime)  # the one being written
        else:
            for log in commands:
                click.echo(f"==> {log.stem} <==")
                start = tail_offset(log, tail) if tail else 0
                for chunk in follow(log, offset=start, running=lambda: False):
                    click.echo(chunk, nl=False)
            return
    offset = tail_offset(path, tail) if tail is not None else 0

    def still_running() -> bool:
        record = read_json(run_dir.run_json, default={}, warn=False) or {}
        return effective_status(record, run_dir) in (RunStatus.RUNNING, RunStatus.QUEUED)

    running = still_running if keep_following else (lambda: False)
    for chunk in follow(path, offset=offset, running=running):
        click.echo(chunk, nl=False)  # bytes as written: a log's encoding is the program's


@cli.command("diff", short_help="Show what differs between two runs.")
@click.argument("run_a", metavar="RUN", shell_complete=complete_runs)
@click.argument("run_b", metavar="RUN", shell_complete=complete_runs)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@pass_store
def diff(store: Store, run_a: str, run_b: str, as_json: bool) -> None:
    """Show what differs between two runs, or between two designs.

    Two runs: params, summary, and git sha, branch, dirty. Two designs (sweep files or
    Python designs): the keys whose values differ, and the configs only one side has.
    Only what differs is shown, with the value on each side.

    \b
    Examples:
      runlab diff 7 8
      runlab diff baseline wide --json
      runlab diff params.yaml params-v2.yaml
      runlab diff designs.py:small designs.py:big
    """
    from runlab.launch.sweeps import is_sweep_ref

    if is_sweep_ref(run_a) and is_sweep_ref(run_b):
        _diff_designs(run_a, run_b, as_json=as_json)
        return
    result = diff_runs(RunReader(store.resolve(run_a)), RunReader(store.resolve(run_b)))
    if as_json:
        click.echo(dumps(result.as_json()))
        return
    _print_diff(result)


def _diff_designs(ref_a: str, ref_b: str, *, as_json: bool) -> None:
    from runlab.design import diff as design_diff
    from runlab.launch.sweeps import load_configs

    result = design_diff(load_configs(ref_a), load_configs(ref_b))
    if as_json:
        click.echo(dumps(result.to_json()))
        return
    if not result:
        click.echo("the two designs have the same configs")
        return
    for key in result.keys:
        a = ", ".join(_text(v) for v in key.a) + (" (unset in some)" if key.a_missing else "")
        b = ", ".join(_text(v) for v in key.b) + (" (unset in some)" if key.b_missing else "")
        click.echo(f"{key.key}: {a or '<unset>'}  →  {b or '<unset>'}")
    click.echo(
        f"{result.common} configs in both, {len(result.only_a)} only in {ref_a}, "
        f"{len(result.only_b)} only in {ref_b}"
    )


# -- formatting -------------------------------------------------------------------------


def _console() -> Console:
    from rich.console import Console

    # soft_wrap: rich neither cuts nor wraps lines, so commands and log lines print whole.
    return Console(highlight=False, soft_wrap=True)


def _text(value: Any) -> str:
    """A value as one line: text as is, anything else as JSON."""
    if value is UNSET:
        return "<unset>"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(float(seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02.0f}s"
    if minutes:
        return f"{minutes}m {secs:04.1f}s"
    return f"{secs:.1f}s"


def _git(git: dict[str, Any] | None) -> str:
    if not git:
        return ""
    sha = str(git.get("sha") or "no commit")[:12]
    branch = git.get("branch") or "detached"
    dirty = ", dirty" if git.get("dirty") else ""
    message = str(git.get("message") or "").splitlines()
    return f"{sha} ({branch}{dirty})" + (f" {message[0]}" if message else "")


def _aligned(rows: Sequence[tuple[str, ...]], *, indent: str = "") -> list[str]:
    """Rows as lines with every column but the last padded to its widest cell.

    Laid out by hand rather than with a rich Table, which pads the last column with
    trailing spaces and wraps long cells: these lines stay whole when piped or grepped.
    """
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append((indent + "  ".join([*cells, row[-1]])).rstrip())
    return lines


def _print_overview(view: RunOverview, steps: dict[str, dict[str, Any]]) -> None:
    from rich.text import Text

    console = _console()
    title = Text(f"run {view.id}", style="bold")
    if view.name != view.id:
        title.append(f"  {view.name}")
    title.append(f"  {view.status.value}", style=_STATUS_STYLE.get(view.status, ""))
    console.print(title)
    rows = [
        ("description", view.description),
        ("tags", ", ".join(f"{k}={_text(v)}" for k, v in view.tags.items())),
        ("start", view.start or ""),
        ("end", view.end or ""),
        ("duration", _duration(view.duration)),
        ("attempt", str(view.attempt) if view.attempt > 1 else ""),
        ("host", view.host or ""),
        ("command", view.command or ""),
        ("cwd", view.cwd or ""),
        ("git", _git(view.git)),
        ("exit code", "" if view.exit_code is None else str(view.exit_code)),
        ("error", view.error or ""),
        ("folder", view.dir),
    ]
    for line in _aligned([(k, v) for k, v in rows if v], indent="  "):
        console.print(Text(line))
    for heading, values in (("params", view.params), ("summary", view.summary)):
        console.print()
        console.print(Text(heading, style="bold"))
        pairs: list[tuple[str, ...]] = [(k, _text(v)) for k, v in values.items()]
        for line in _aligned(pairs or [("(none)",)], indent="  "):
            console.print(Text(line))
    if steps:
        console.print()
        console.print(Text("commands", style="bold"))
        for line in _aligned([_step_row(n, s) for n, s in steps.items()], indent="  "):
            console.print(Text(line))
    for heading, lines in (("stdout", view.stdout_tail), ("stderr", view.stderr_tail)):
        console.print()
        console.print(Text(f"{heading} (last {TAIL_LINES} lines)", style="bold"))
        for line in lines or ["(empty)"]:
            console.print(Text(f"  {line}"))


def _step_row(name: str, step: dict[str, Any]) -> tuple[str, ...]:
    code = step.get("exit_code")
    return (
        name,
        str(step.get("status") or ""),
        "" if code is None else f"exit {code}",
        f"attempt {step.get('attempt')}" if step.get("attempt") is not None else "",
    )


_STATUS_STYLE = {
    RunStatus.COMPLETED: "green",
    RunStatus.FAILED: "red",
    RunStatus.INTERRUPTED: "yellow",
    RunStatus.LOST: "magenta",
    RunStatus.RUNNING: "cyan",
}


def _print_diff(result: RunDiff) -> None:
    from rich.text import Text

    console = _console()
    if not result:
        console.print(
            Text(f"runs {result.a.id} and {result.b.id} have the same params, summary and git")
        )
        return
    rows = [("", _label(result.a), _label(result.b))]
    for section, changes in result.sections.items():
        rows += [(f"{section}.{c.key}", _text(c.a), _text(c.b)) for c in changes]
    header, *lines = _aligned(rows)
    console.print(Text(header, style="bold"))
    for line in lines:
        console.print(Text(line))


def _label(reader: RunReader) -> str:
    return f"run {reader.id}" + (f" ({reader.name})" if reader.name != reader.id else "")
